"""The facet counts of the whole published offer, kept in a table.

The catalogue's search without filters, its API list and their facets count every published
session that has not ended, by each facet: seconds at the national size (a million
sessions), met by the first visitor after each publication. ``published_facet_count`` keeps
those counts, for the sessions ending on or after ``facet_count_state.counted_from``:

- every writer of the published rows moves them in its own transaction: ``remove`` the
  sessions it is about to delete or change, ``add`` them once written (publication,
  recruitment, archiving);
- ``rebuild`` counts them again from the published rows and moves ``counted_from`` to the day
  (the daily ``sofi diffuse``, ``sofi generate``, the demo);
- a change of a dispositif's funder or label (which makes it CPF) drops the state: the search
  counts the sessions itself until the next rebuild.

``read`` gives the counts of the sessions not ended on a day: the kept counts minus those of
the sessions ended since ``counted_from``, in one statement (one snapshot). Writers and the
rebuild take the publication sequence's lock first (``cache.lock``): they never interleave. Moving
the sequence on stays the writers' own business (``cache.changed``).
"""

from datetime import date

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from models import Dispositif, PublishedSession, db
from models.public_search import FacetCountState, PublishedFacetCount
from sofi.search_public import cache
from sofi.search_public.counting import (
    FACETS,
    TOTAL,
    all_dispositifs,
    cpf_dispositif_codes,
    facet_count_statement,
    facet_counts,
    is_postgresql,
)

STATE_ID = 1
NO_VALUE = ""  # the stored value of the sessions without one, and of the total


def counted_from() -> date | None:
    """The day the kept counts start from (None: not kept)."""
    return db.session.scalar(sa.select(FacetCountState.counted_from).where(FacetCountState.id == STATE_ID))


def _counts(where: list, since: date) -> dict[str, dict[str | None, int]]:
    clauses = {"_base": [PublishedSession.date_fin >= since, *where]}
    return facet_counts(clauses, FACETS, cpf_dispositif_codes(all_dispositifs()))


def _rows(counts: dict, sign: int) -> list[dict]:
    return [
        {"facet": facet, "value": NO_VALUE if value is None else value, "sessions": sign * count}
        for facet, values in counts.items()
        for value, count in values.items()
    ]


def _move(where: list, sign: int) -> None:
    cache.lock()  # shared with the rebuild
    since = counted_from()
    if since is None:
        return
    rows = _rows(_counts(where, since), sign)
    if not rows:
        return
    table = PublishedFacetCount.__table__
    dialect = postgresql if is_postgresql() else sqlite
    statement = dialect.insert(table)
    statement = statement.on_conflict_do_update(
        index_elements=[table.c.facet, table.c.value],
        set_={"sessions": table.c.sessions + statement.excluded.sessions},
    )
    db.session.execute(statement, rows)


def remove(where: list) -> None:
    """Take the published sessions matching ``where`` out of the kept counts (before they change)."""
    _move(where, -1)


def add(where: list) -> None:
    """Count the published sessions matching ``where`` (once written)."""
    _move(where, 1)


def rebuild(today: date | None = None) -> None:
    """Count every published session ending on or after ``today`` again; the caller commits."""
    today = today or date.today()
    cache.lock()  # what the catalogue shows is the same: its kept answers stay
    db.session.execute(sa.delete(PublishedFacetCount))
    counts = _counts([], today)
    counts[TOTAL].setdefault(None, 0)  # kept even for an empty offer: it tells the counts are there
    db.session.execute(sa.insert(PublishedFacetCount), _rows(counts, 1))
    db.session.execute(sa.delete(FacetCountState))
    db.session.add(FacetCountState(id=STATE_ID, counted_from=today))
    db.session.flush()


def read(today: date) -> dict[str, dict[str | None, int]] | None:
    """The counts of the sessions not ended on ``today`` (as ``counting.facet_counts`` gives them for
    the whole offer), or None when they are not kept from that day or before."""
    since = sa.select(FacetCountState.counted_from).where(FacetCountState.id == STATE_ID).scalar_subquery()
    kept = sa.select(PublishedFacetCount.facet, PublishedFacetCount.value, PublishedFacetCount.sessions).where(
        sa.exists().where(FacetCountState.id == STATE_ID, FacetCountState.counted_from <= today)
    )
    ended_clauses = {"_base": [PublishedSession.date_fin >= since, PublishedSession.date_fin < today]}
    ended = facet_count_statement(ended_clauses, FACETS, cpf_dispositif_codes(all_dispositifs())).subquery()
    statement = sa.union_all(kept, sa.select(ended.c.facet, sa.func.coalesce(ended.c.value, NO_VALUE), -ended.c.n))
    counts: dict[str, dict[str | None, int]] = {name: {} for name in (TOTAL, *FACETS)}
    for facet, value, number in db.session.execute(statement):
        key = None if value == NO_VALUE else value
        counts[facet][key] = counts[facet].get(key, 0) + number
    if not counts[TOTAL]:
        return None
    return {
        facet: {value: number for value, number in values.items() if number > 0 or facet == TOTAL}
        for facet, values in counts.items()
    }


@sa.event.listens_for(Dispositif, "after_update")
def _dispositif_changed(_mapper, connection, target) -> None:
    """A funder or a label (CPF) changed: sessions move between facet values, without a writer's delta."""
    state = sa.inspect(target)
    if state.attrs.financeur_code.history.has_changes() or state.attrs.label.history.has_changes():
        connection.execute(sa.delete(FacetCountState.__table__))
