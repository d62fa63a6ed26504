"""publication sequence and SQLite FTS5 index of published actions

``publication_sequence`` is a single row (id 1) whose value each transaction that changes the
published offer increases; the public search keys its cached counts by it. On SQLite,
``published_action_fts`` (FTS5, trigram tokenizer, external content) indexes
``published_action.search_text`` for the keyword search; triggers keep it in step and the
existing rows are indexed here ("rebuild").

Revision ID: b7c1d2e3f405
Revises: 945154993b7f
Create Date: 2026-11-23 10:05:00.000000

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "b7c1d2e3f405"
down_revision = "945154993b7f"
branch_labels = None
depends_on = None

SQLITE_FTS_TABLE = "published_action_fts"
SQLITE_FTS_DDL = (
    f"CREATE VIRTUAL TABLE {SQLITE_FTS_TABLE} USING fts5(search_text, content='published_action', "
    "content_rowid='action_id', tokenize='trigram')",
    f"CREATE TRIGGER {SQLITE_FTS_TABLE}_insert AFTER INSERT ON published_action BEGIN "
    f"INSERT INTO {SQLITE_FTS_TABLE} (rowid, search_text) VALUES (new.action_id, new.search_text); END",
    f"CREATE TRIGGER {SQLITE_FTS_TABLE}_delete AFTER DELETE ON published_action BEGIN "
    f"INSERT INTO {SQLITE_FTS_TABLE} ({SQLITE_FTS_TABLE}, rowid, search_text) "
    "VALUES ('delete', old.action_id, old.search_text); END",
    f"CREATE TRIGGER {SQLITE_FTS_TABLE}_update AFTER UPDATE OF search_text ON published_action BEGIN "
    f"INSERT INTO {SQLITE_FTS_TABLE} ({SQLITE_FTS_TABLE}, rowid, search_text) "
    "VALUES ('delete', old.action_id, old.search_text); "
    f"INSERT INTO {SQLITE_FTS_TABLE} (rowid, search_text) VALUES (new.action_id, new.search_text); END",
)


def upgrade():
    sequence = op.create_table(
        "publication_sequence",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_publication_sequence")),
    )
    op.bulk_insert(sequence, [{"id": 1, "value": 0}])
    if op.get_bind().dialect.name == "sqlite":
        for statement in SQLITE_FTS_DDL:
            op.execute(statement)
        op.execute(f"INSERT INTO {SQLITE_FTS_TABLE} ({SQLITE_FTS_TABLE}) VALUES ('rebuild')")


def downgrade():
    if op.get_bind().dialect.name == "sqlite":
        for suffix in ("update", "delete", "insert"):
            op.execute(f"DROP TRIGGER {SQLITE_FTS_TABLE}_{suffix}")
        op.execute(f"DROP TABLE {SQLITE_FTS_TABLE}")
    op.drop_table("publication_sequence")
