"""published session facet columns

The public search counts its facets on ``published_session`` alone: the action's
certifying flag and exit level, and the session's dispositif, public and Formacode codes
(JSON lists of strings) are copied onto each row. Existing rows are filled from the
published action and the association tables.

Revision ID: a4ab3f163ef0
Revises: 62fa9ba2a5f9
Create Date: 2026-11-23 08:50:44.012051

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "a4ab3f163ef0"
down_revision = "62fa9ba2a5f9"
branch_labels = None
depends_on = None

POSTGRESQL_BACKFILL = """
WITH formacodes AS (
    SELECT action_id, json_agg(formacode_code ORDER BY formacode_code) AS codes
    FROM published_formacode GROUP BY action_id
), dispositifs AS (
    SELECT session_id, json_agg(dispositif_code::text ORDER BY dispositif_code::text) AS codes
    FROM published_session_dispositif GROUP BY session_id
), publics AS (
    SELECT session_id, json_agg(public_code ORDER BY public_code) AS codes
    FROM published_session_public GROUP BY session_id
), filled AS (
    SELECT s.session_id, a.certifiante, a.niveau_sortie, f.codes AS formacodes, d.codes AS dispositifs,
        p.codes AS publics
    FROM published_session AS s
    JOIN published_action AS a ON a.action_id = s.action_id
    LEFT JOIN formacodes AS f ON f.action_id = s.action_id
    LEFT JOIN dispositifs AS d ON d.session_id = s.session_id
    LEFT JOIN publics AS p ON p.session_id = s.session_id
)
UPDATE published_session AS s SET
    certifiante = filled.certifiante,
    niveau_sortie = filled.niveau_sortie,
    formacodes = coalesce(filled.formacodes, '[]'::json),
    dispositifs = coalesce(filled.dispositifs, '[]'::json),
    publics = coalesce(filled.publics, '[]'::json)
FROM filled
WHERE filled.session_id = s.session_id
"""

SQLITE_BACKFILL = """
UPDATE published_session SET
    certifiante = (SELECT a.certifiante FROM published_action AS a WHERE a.action_id = published_session.action_id),
    niveau_sortie = (SELECT a.niveau_sortie FROM published_action AS a WHERE a.action_id = published_session.action_id),
    formacodes = (SELECT json_group_array(code) FROM (
        SELECT formacode_code AS code FROM published_formacode AS f
        WHERE f.action_id = published_session.action_id ORDER BY 1)),
    dispositifs = (SELECT json_group_array(code) FROM (
        SELECT CAST(dispositif_code AS TEXT) AS code FROM published_session_dispositif AS d
        WHERE d.session_id = published_session.session_id ORDER BY 1)),
    publics = (SELECT json_group_array(code) FROM (
        SELECT public_code AS code FROM published_session_public AS p
        WHERE p.session_id = published_session.session_id ORDER BY 1))
"""


def upgrade():
    # Plain ALTER TABLE, not a batch copy of the table: on SQLite, dropping the old copy would delete
    # the rows of the association tables through their ON DELETE CASCADE.
    op.add_column(
        "published_session", sa.Column("certifiante", sa.Boolean(), server_default=sa.false(), nullable=False)
    )
    op.add_column("published_session", sa.Column("niveau_sortie", sa.String(length=2), nullable=True))
    for name in ("dispositifs", "publics", "formacodes"):
        op.add_column("published_session", sa.Column(name, sa.JSON(), server_default=sa.text("'[]'"), nullable=False))
    postgresql = op.get_bind().dialect.name == "postgresql"
    op.execute(POSTGRESQL_BACKFILL if postgresql else SQLITE_BACKFILL)


def downgrade():
    # Plain ALTER TABLE (SQLite ≥ 3.35 has DROP COLUMN), for the same reason as above.
    for name in ("formacodes", "publics", "dispositifs", "niveau_sortie", "certifiante"):
        op.execute(f"ALTER TABLE published_session DROP COLUMN {name}")
