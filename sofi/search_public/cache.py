"""Public answers kept between requests until the published offer changes: search totals and
facets, whole searches, and the rendered formation and organisation pages.

The facet counts of a search without a selective filter (home page, ``/formations``, the
unfiltered API list, a département alone) read every current session: seconds at a million.
They only change when the published offer does, or when the day changes (ended sessions drop
out). So each process keeps them, keyed by the database, the normalised search, the day and
the *publication sequence*: a number that every transaction changing the published offer
moves on (``changed``, called by publication, archiving, recruitment updates and the bulk
generator) in that same transaction, so that the new number is visible exactly when the new
rows are. A search reads the number before the rows: what it stores under a number is never
older than that number, and a reader of the next number never sees it.

Rendered pages are kept apart from the searches (``pages``), so that a crawl of formation
pages cannot push the expensive counts out. They are kept because rendering a formation page
costs more than reading it (three quarters of its time is the template).

When the row of the sequence is missing (tables emptied by hand or by the tests), nothing is
cached; it then restarts from a random number, so that it cannot meet a number used before.
"""

import contextlib
import random
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from models import db
from models.public_search import PublicationSequence

SEQUENCE_ID = 1
MAX_ENTRIES = 512
MAX_PAGES = 2000  # rendered formation/organisation pages: ~10–50 kB each, per process


def changed() -> None:
    """Move the publication sequence on, in the caller's transaction (row created if missing).

    On PostgreSQL the row stays locked until the transaction ends: concurrent publications
    wait for each other on it, which is what makes their numbers distinct.
    """
    _write_sequence(1)


def lock() -> None:
    """Take the publication sequence's lock (as ``changed`` does) without moving it on: for a writer
    that changes how the offer is stored, not what the catalogue shows."""
    _write_sequence(0)


def _write_sequence(step: int) -> None:
    dialect = postgresql if db.engine.dialect.name == "postgresql" else sqlite
    table = PublicationSequence.__table__
    statement = dialect.insert(table).values(id=SEQUENCE_ID, value=random.getrandbits(62))
    statement = statement.on_conflict_do_update(index_elements=[table.c.id], set_={"value": table.c.value + step})
    db.session.execute(statement)


def current() -> int | None:
    """The publication sequence as this transaction sees it (None: no row, do not cache)."""
    return db.session.scalar(sa.select(PublicationSequence.value).where(PublicationSequence.id == SEQUENCE_ID))


class _Entries:
    """A small least-recently-used map, safe across the threads of one process."""

    def __init__(self, size: int):
        self.size = size
        self.entries: OrderedDict = OrderedDict()
        self.lock = threading.Lock()

    def get(self, key: Hashable):
        with self.lock:
            if key in self.entries:
                self.entries.move_to_end(key)
                return self.entries[key]
        return None

    def clear(self) -> None:
        with self.lock:
            self.entries.clear()

    def put(self, key: Hashable, value) -> None:
        with self.lock:
            self.entries[key] = value
            self.entries.move_to_end(key)
            while len(self.entries) > self.size:
                self.entries.popitem(last=False)


_entries = _Entries(MAX_ENTRIES)
_pages = _Entries(MAX_PAGES)


def remember(
    sequence: int | None,
    key: tuple,
    compute: Callable[[], object],
    entries: _Entries = _entries,
    keep: Callable[[object], bool] = lambda _value: True,
):
    """``compute()``, or what it returned for ``key`` under the same sequence number and database.

    ``sequence`` must have been read (``current``) before the rows ``compute`` reads; a value
    that ``keep`` refuses is returned without being kept.
    """
    if sequence is None:
        return compute()
    full_key = (db.engine.url.render_as_string(hide_password=True), sequence, *key)
    found = entries.get(full_key)
    if found is not None:
        return found
    with _in_flight(full_key) as leader:
        found = entries.get(full_key) if not leader else None
        if found is None:
            found = compute()
            if keep(found):
                entries.put(full_key, found)
    return found


_flights: dict[Hashable, threading.Event] = {}
_flights_lock = threading.Lock()
FLIGHT_WAIT_S = 60.0


@contextlib.contextmanager
def _in_flight(key: Hashable):
    """One computation per key at a time in this process: the first thread computes (yields
    True), the others wait for it (yield False) and then read what it kept. Without it, the
    visitors arriving together after a publication would each compute the same page."""
    with _flights_lock:
        running = _flights.get(key)
        if running is None:
            running = _flights[key] = threading.Event()
            leader = True
        else:
            leader = False
    if not leader:
        running.wait(FLIGHT_WAIT_S)
        yield False
        return
    try:
        yield True
    finally:
        with _flights_lock:
            del _flights[key]
        running.set()


def forget() -> None:
    """Drop everything this process keeps: what the first visitor after a publication meets
    (the benchmarks time it)."""
    _entries.clear()
    _pages.clear()


def page(key: tuple, compute: Callable[[], object], keep: Callable[[object], bool]):
    """A public page (or API answer) built from the published offer alone, kept until it changes."""
    return remember(current(), key, compute, _pages, keep)
