"""published session without its lists of dispositif and public codes

The public search counts its dispositif, funder and public facets through the association
tables ``published_session_dispositif`` and ``published_session_public`` (a join on the session
id costs half the decoding of a JSON list per row), so the JSON copies of those codes on
``published_session`` are dropped. The downgrade fills them again from the association tables.

Revision ID: c3d4e5f60718
Revises: b7c1d2e3f405
Create Date: 2026-11-23 17:10:00.000000

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "c3d4e5f60718"
down_revision = "b7c1d2e3f405"
branch_labels = None
depends_on = None

POSTGRESQL_BACKFILL = """
WITH dispositifs AS (
    SELECT session_id, json_agg(dispositif_code::text ORDER BY dispositif_code::text) AS codes
    FROM published_session_dispositif GROUP BY session_id
), publics AS (
    SELECT session_id, json_agg(public_code ORDER BY public_code) AS codes
    FROM published_session_public GROUP BY session_id
)
UPDATE published_session AS s SET
    dispositifs = coalesce((SELECT d.codes FROM dispositifs AS d WHERE d.session_id = s.session_id), '[]'::json),
    publics = coalesce((SELECT p.codes FROM publics AS p WHERE p.session_id = s.session_id), '[]'::json)
"""

SQLITE_BACKFILL = """
UPDATE published_session SET
    dispositifs = (SELECT json_group_array(code) FROM (
        SELECT CAST(dispositif_code AS TEXT) AS code FROM published_session_dispositif AS d
        WHERE d.session_id = published_session.session_id ORDER BY 1)),
    publics = (SELECT json_group_array(code) FROM (
        SELECT public_code AS code FROM published_session_public AS p
        WHERE p.session_id = published_session.session_id ORDER BY 1))
"""


def upgrade():
    # Plain ALTER TABLE (SQLite ≥ 3.35 has DROP COLUMN), not a batch copy of the table: on SQLite,
    # dropping the old copy would delete the rows of the association tables through their ON DELETE CASCADE.
    for name in ("dispositifs", "publics"):
        op.execute(f"ALTER TABLE published_session DROP COLUMN {name}")


def downgrade():
    for name in ("dispositifs", "publics"):
        op.add_column("published_session", sa.Column(name, sa.JSON(), server_default=sa.text("'[]'"), nullable=False))
    postgresql = op.get_bind().dialect.name == "postgresql"
    op.execute(POSTGRESQL_BACKFILL if postgresql else SQLITE_BACKFILL)
