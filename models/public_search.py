"""Indexes of the public search that only PostgreSQL has.

The catalogue's keyword search uses PostgreSQL's French full-text search (stemming) on
``published_action.search_text`` (already lower-case and accent-free); this GIN index
serves it. SQLite searches the same column with ``LIKE`` and gets no such index.
"""

import sqlalchemy as sa

from models.publication import PublishedAction

FTS_CONFIG = "french"

published_action_fts = sa.Index(
    "ix_published_action_fts",
    sa.text(f"to_tsvector('{FTS_CONFIG}', search_text)"),
    postgresql_using="gin",
    _table=PublishedAction.__table__,
)
published_action_fts.ddl_if(dialect="postgresql")
