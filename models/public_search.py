"""Storage of the public search beside the published rows: text indexes and the publication sequence.

The catalogue's keyword search uses PostgreSQL's French full-text search (stemming) on
``published_action.search_text`` (already lower-case and accent-free); the GIN index
``ix_published_action_fts`` serves it. SQLite gets an FTS5 table with the trigram tokenizer
over the same column (``published_action_fts``), kept in step with ``published_action`` by
triggers: ``LIKE '%word%'`` on it is answered from the index and matches exactly what the
same ``LIKE`` on ``published_action`` would.

``PublicationSequence`` is one row whose number every transaction that changes what the
catalogue shows increases (``sofi.search_public.cache``): cached counts are keyed by it.
"""

from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from models.base import db
from models.publication import PublishedAction

FTS_CONFIG = "french"

published_action_fts = sa.Index(
    "ix_published_action_fts",
    sa.text(f"to_tsvector('{FTS_CONFIG}', search_text)"),
    postgresql_using="gin",
    _table=PublishedAction.__table__,
)
published_action_fts.ddl_if(dialect="postgresql")

# SQLite's FTS5 table (built by migration b7c1d2e3f405; external content: the text stays in published_action).
SQLITE_FTS_TABLE = "published_action_fts"


def include_name(name: str | None, type_: str, _parent_names: dict) -> bool:
    """Alembic's ``include_name``: schema comparisons skip the FTS5 table and its shadow tables,
    which the models do not declare."""
    return not (type_ == "table" and name and (name == SQLITE_FTS_TABLE or name.startswith(f"{SQLITE_FTS_TABLE}_")))


class PublicationSequence(db.Model):
    """A single row (id 1): the number of the last change of the published offer."""

    __tablename__ = "publication_sequence"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    value: Mapped[int] = mapped_column(sa.BigInteger, default=0)


class PublishedFacetCount(db.Model):
    """The number of published sessions ending on or after ``FacetCountState.counted_from`` with
    one value of one facet of the public search (``sofi.search_public.kept_counts``).

    ``value`` is "" for the sessions without a value (and for the total, facet ``_total``).
    """

    __tablename__ = "published_facet_count"

    facet: Mapped[str] = mapped_column(sa.String(30), primary_key=True)
    value: Mapped[str] = mapped_column(sa.String(30), primary_key=True)
    sessions: Mapped[int] = mapped_column(sa.Integer, default=0)


class FacetCountState(db.Model):
    """A single row (id 1): the day from which ``published_facet_count`` counts the sessions.

    No row: the counts are not kept (never built, or a dispositif changed since), the search
    counts the sessions themselves until the next ``kept_counts.rebuild``.
    """

    __tablename__ = "facet_count_state"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    counted_from: Mapped[date] = mapped_column(sa.Date)
