"""The declarative base shared by every model, and the Flask-SQLAlchemy handle."""

from datetime import UTC, datetime

import sqlalchemy as sa
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy.orm import DeclarativeBase, Mapped, declared_attr, mapped_column

# Deterministic constraint names so that Alembic migrations are identical on SQLite and
# PostgreSQL and every constraint can be dropped by name later.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)


def utcnow() -> datetime:
    return datetime.now(UTC)


class TimestampMixin:
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(
        sa.DateTime(timezone=True), default=utcnow, onupdate=utcnow, nullable=False
    )


class VersionedMixin:
    """Optimistic locking: every UPDATE checks and increments ``version``.

    Two people saving the same record: the second flush matches no row and SQLAlchemy
    raises ``StaleDataError``; forms also carry the version they were read at, so the
    services can refuse a stale save with a French message before writing.
    """

    version: Mapped[int] = mapped_column(default=1, server_default="1")

    @declared_attr.directive
    def __mapper_args__(cls):
        # eager_defaults off: ``version``'s server default (for rows written in SQL) is never needed
        # back, the ORM gives 1 itself. With "auto", a flush asked for it with INSERT … RETURNING in
        # pages of many rows even when the ids were known (``plain_rows.number_new_objects``).
        return {"version_id_col": cls.version, "eager_defaults": False}
