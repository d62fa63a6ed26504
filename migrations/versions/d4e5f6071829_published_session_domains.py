"""published session: the Formacode domains instead of the Formacodes

The catalogue's "domaine" facet counts sessions by the semantic field of their Formacodes (the
first three digits), each field once per session. ``published_session.domaines`` holds those
fields, each once, so the facet is a plain count of list elements; it replaces the list of
Formacodes, whose count had to remove the doubles of every session (a sort of every row). The
downgrade fills the Formacodes again from ``published_formacode``.

Revision ID: d4e5f6071829
Revises: c3d4e5f60718
Create Date: 2026-11-23 17:15:00.000000

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "d4e5f6071829"
down_revision = "c3d4e5f60718"
branch_labels = None
depends_on = None

UPGRADE_BACKFILL = {
    "postgresql": """
UPDATE published_session SET domaines = coalesce((
    SELECT json_agg(DISTINCT substr(f.value, 1, 3) ORDER BY substr(f.value, 1, 3))
    FROM json_array_elements_text(formacodes) AS f), '[]'::json)
""",
    "sqlite": """
UPDATE published_session SET domaines = (SELECT json_group_array(domaine) FROM (
    SELECT DISTINCT substr(f.value, 1, 3) AS domaine FROM json_each(published_session.formacodes) AS f ORDER BY 1))
""",
}
DOWNGRADE_BACKFILL = {
    "postgresql": """
UPDATE published_session AS s SET formacodes = coalesce((
    SELECT json_agg(f.formacode_code ORDER BY f.formacode_code) FROM published_formacode AS f
    WHERE f.action_id = s.action_id), '[]'::json)
""",
    "sqlite": """
UPDATE published_session SET formacodes = (SELECT json_group_array(code) FROM (
    SELECT formacode_code AS code FROM published_formacode AS f
    WHERE f.action_id = published_session.action_id ORDER BY 1))
""",
}


def _replace(new: str, backfill: dict, old: str) -> None:
    # Plain ALTER TABLE, not a batch copy of the table: on SQLite, dropping the old copy would delete
    # the rows of the association tables through their ON DELETE CASCADE.
    op.add_column("published_session", sa.Column(new, sa.JSON(), server_default=sa.text("'[]'"), nullable=False))
    op.execute(backfill[op.get_bind().dialect.name])
    op.execute(f"ALTER TABLE published_session DROP COLUMN {old}")


def upgrade():
    _replace("domaines", UPGRADE_BACKFILL, "formacodes")


def downgrade():
    _replace("formacodes", DOWNGRADE_BACKFILL, "domaines")
