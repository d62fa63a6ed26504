"""Real database outages at a chosen statement of a user action, on both databases.

The ``before_cursor_execute`` listener only chooses the moment; the failure itself is real:

* PostgreSQL: another connection ends the server process of the app's connection
  (``pg_terminate_backend``), so the statement runs on a connection the server has dropped;
* SQLite: the database file is overwritten in place by zeros (after a checkpoint, so that the
  pages are read from it, and a write of another connection, so that no connection trusts its
  page cache), so the driver reads a malformed database; ``restore`` puts the original bytes
  back: the database "comes back".
"""

import gc
import sqlite3
from pathlib import Path

import psycopg
import sqlalchemy as sa

WRITE_VERBS = ("INSERT", "UPDATE", "DELETE")


class DatabaseOutage:
    """Counts the statements of ``engine`` and makes the database unavailable before statement ``at``.

    ``at=None`` only counts (``statements``, ``first_write``), to learn the positions of an action.
    """

    def __init__(self, engine: sa.Engine, at: int | None = None):
        self.engine = engine
        self.at = at
        self.statements = 0
        self.texts: list[str] = []
        self.first_write: int | None = None
        self.injected = 0
        self._saved: bytes | None = None
        self._keeper: sqlite3.Connection | None = None

    def __enter__(self):
        if self.engine.dialect.name == "sqlite":
            # Every page is in the file itself (not in the WAL) before the action starts.
            self._keeper = sqlite3.connect(self.engine.url.database, isolation_level=None, timeout=2)
            self._keeper.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
        sa.event.listen(self.engine, "before_cursor_execute", self._before)
        return self

    def __exit__(self, *exc_info):
        sa.event.remove(self.engine, "before_cursor_execute", self._before)
        self.restore()
        if self._keeper is not None:
            self._keeper.close()

    def _before(self, conn, cursor, statement, parameters, context, executemany):
        self.statements += 1
        self.texts.append(statement)
        if self.first_write is None and statement.lstrip().upper().startswith(WRITE_VERBS):
            self.first_write = self.statements
        if self.statements == self.at:
            self._cut(cursor.connection)
            self.injected += 1

    def _cut(self, dbapi_connection) -> None:
        if self.engine.dialect.name == "postgresql":
            pid = dbapi_connection.info.backend_pid
            url = self.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
            with psycopg.connect(url, autocommit=True) as killer:
                ended = killer.execute("SELECT pg_terminate_backend(%s, 10000)", [pid]).fetchone()[0]
            assert ended, f"pg_terminate_backend({pid}) n'a pas abouti"
            return
        if not dbapi_connection.in_transaction:  # inside its own write transaction, the action holds the lock
            self._touch()
        path = Path(self.engine.url.database)
        self._saved = path.read_bytes()
        with path.open("r+b") as handle:
            handle.write(b"\0" * len(self._saved))

    def restore(self) -> None:
        """The database comes back (SQLite: the original bytes in the same file; PostgreSQL: always there)."""
        if self._saved is not None:
            with Path(self.engine.url.database).open("r+b") as handle:
                handle.write(self._saved)
            self._saved = None
            # A dropped sqlite3 connection really closes (and releases its lock) once the cursors of the failed
            # statement, held by the exception's traceback, are collected.
            gc.collect()
            self._touch()  # no connection keeps pages it read from the zeroed file

    def _touch(self) -> None:
        """Commit a no-op change from another connection: every connection's page cache becomes stale."""
        version = self._keeper.execute("PRAGMA user_version").fetchone()[0]
        self._keeper.execute(f"PRAGMA user_version = {version}")
