"""Stored LHÉO renderings of published actions: filling the missing or outdated ones.

Every write of a snapshot renders it (``models.publication``), so rows lack a rendering only
when they predate the ``lheo`` column, were bulk-inserted by another tool, or were rendered by
an older ``exporters.lheo.fragment.VERSION``. The export renders such rows itself (correct but
slower); ``flask sofi lheo-fragments`` brings them up to date, batch by batch (one short
transaction each, so the application keeps running). A row re-published meanwhile keeps its
own, newer rendering: the update only touches rows that are still outdated.
"""

from collections.abc import Callable

import orjson
import sqlalchemy as sa

from exporters.lheo import fragment
from models import PublishedAction, db

BATCH = 200


def outdated() -> sa.ColumnElement[bool]:
    version = PublishedAction.lheo_version
    return sa.or_(version.is_(None), version != fragment.VERSION)


def refresh_fragments(progress: Callable[[int], None] | None = None) -> int:
    """Render the published actions whose stored rendering is missing or outdated; returns their count."""
    ids = db.session.scalars(
        sa.select(PublishedAction.action_id).where(outdated()).order_by(PublishedAction.action_id)
    ).all()
    table = PublishedAction.__table__
    update = (
        sa.update(table)
        .where(table.c.action_id == sa.bindparam("id"), outdated())
        .values(lheo=sa.bindparam("rendered"), lheo_version=fragment.VERSION)
    )
    done = 0
    for start in range(0, len(ids), BATCH):
        rows = db.session.execute(
            sa.select(PublishedAction.action_id, sa.cast(PublishedAction.data, sa.Text)).where(
                PublishedAction.action_id.in_(ids[start : start + BATCH])
            )
        ).all()
        db.session.connection().execute(
            update, [{"id": action_id, "rendered": fragment.dumps(orjson.loads(data))} for action_id, data in rows]
        )
        db.session.commit()
        done += len(rows)
        if progress is not None:
            progress(done)
    return done
