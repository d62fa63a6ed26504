"""The full LHÉO export of a large offer, written by two processes at once.

Writing the LHÉO text is Python work (decoding each published action's stored fragment, building
the envelope of each formation around them): one core, while the database mostly waits. From
``PARALLEL_MIN_ACTIONS`` published actions, the published actions are split in two ranges of
formations at their median; another process (``python -m exporters.lheo.parts``) writes the
second range to a temporary file beside the export while the exporting process writes the first,
then the exporting process appends that file. The document is byte for byte the one a single
process writes (same order: formations by id).

Both processes read one snapshot of the database, so the file is the published offer at one
moment whatever is published meanwhile. PostgreSQL shares it (``pg_export_snapshot`` then ``SET
TRANSACTION SNAPSHOT``, as ``pg_dump --jobs`` does). SQLite cannot: the exporting process holds
the write lock (``BEGIN IMMEDIATE`` on a connection of its own) from just before it starts
reading until the second process has started reading too, so that nothing is committed in
between (the second process connects first: the lock lasts milliseconds, not its start).

The two processes talk through the second one's standard input and output: the job, then the
snapshot to take (``go`` on SQLite); ``connected``, ``reading``, then the counts of its part.
"""

import contextlib
import json
import os
import re
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path
from typing import IO

import sqlalchemy as sa
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool

from exporters.lheo.writer import (
    DOCUMENT_END,
    ExportStats,
    FormacodeVersions,
    document_start,
    iter_formations,
    published_actions,
)
from models import PublishedAction

PARALLEL_MIN_ACTIONS = 20_000  # below, starting a second interpreter costs more than it saves
PROJECT_ROOT = Path(__file__).resolve().parents[2]  # where the second process imports this module from
COPY_BYTES = 1 << 20
SNAPSHOT_ID = re.compile(r"[0-9A-Fa-f]+(-[0-9A-Fa-f]+)+")


class PartFailed(RuntimeError):
    """The process writing the second part stopped without writing it."""


def median_formation(session: Session, min_actions: int) -> int | None:
    """The formation id splitting the published actions in two halves; None below ``min_actions`` actions."""
    count = session.scalar(sa.select(sa.func.count()).select_from(PublishedAction))
    if count < max(min_actions, 2):
        return None
    return session.scalar(
        sa.select(PublishedAction.formation_id).order_by(PublishedAction.formation_id).offset(count // 2).limit(1)
    )


def document_in_two_parts(engine: sa.Engine, median: int, stats: ExportStats, directory: Path) -> Iterator[bytes]:
    """The whole published offer as an LHÉO document (``writer.iter_document``): this process writes the
    formations before ``median`` while another writes the others to a temporary file in ``directory``.

    Read through connections of their own: what the caller's session has not committed is not in it.
    """
    with SecondPart(engine.url, median, directory) as second, shared_snapshot(engine, second) as session:
        formacodes = FormacodeVersions(session=session)
        yield document_start()
        yield from iter_formations(published_actions(session=session, formations=(None, median)), stats, formacodes)
        yield from second.chunks(stats)
        yield DOCUMENT_END


@contextlib.contextmanager
def shared_snapshot(engine: sa.Engine, second: "SecondPart") -> Iterator[Session]:
    """A read-only session on one snapshot of the database, which ``second`` reads too."""
    with engine.connect() as connection:
        if engine.dialect.name == "postgresql":
            connection = connection.execution_options(isolation_level="REPEATABLE READ")
            connection.exec_driver_sql("SET TRANSACTION READ ONLY")
            second.take(connection.scalar(sa.text("SELECT pg_export_snapshot()")))
        else:
            second.connected()
            with engine.connect() as writers:
                writers.exec_driver_sql("BEGIN IMMEDIATE")  # nothing committed until the second process reads
                _begin_reading(connection)
                second.take(GO)
                second.reading()
                writers.rollback()
        with Session(bind=connection) as session:
            yield session


GO = "go"


def _begin_reading(connection: sa.Connection) -> None:
    """SQLite: a read transaction, its snapshot fixed by its first read (WAL mode)."""
    connection.exec_driver_sql("BEGIN")
    connection.exec_driver_sql("SELECT count(*) FROM publication_sequence")


def _take_snapshot(connection: sa.Connection, snapshot: str) -> None:
    """The second process: read the snapshot the exporting process sent (``go``: SQLite's, held for it)."""
    if connection.dialect.name != "postgresql":
        _begin_reading(connection)
        return
    if not SNAPSHOT_ID.fullmatch(snapshot):
        raise ValueError(f"identifiant d'instantané invalide : {snapshot!r}")
    connection.exec_driver_sql("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
    connection.exec_driver_sql(f"SET TRANSACTION SNAPSHOT '{snapshot}'")  # a command: no bound value


class SecondPart:
    """The process writing the formations from ``first_formation`` on to a temporary file in ``directory``."""

    def __init__(self, url: sa.URL, first_formation: int, directory: Path):
        handle, name = tempfile.mkstemp(dir=directory, prefix=".lheo-part.", suffix=".tmp")
        os.close(handle)
        self.path = Path(name)
        job = {
            "url": url.render_as_string(hide_password=False),  # on stdin: not in the process list
            "first_formation": first_formation,
            "output": str(self.path),
        }
        path = os.pathsep.join(filter(None, (str(PROJECT_ROOT), os.environ.get("PYTHONPATH"))))
        # a file, not a pipe: a long traceback cannot block the process; closed in __exit__
        self.errors = tempfile.TemporaryFile()  # noqa: SIM115
        self.process = subprocess.Popen(
            [sys.executable, "-m", __name__],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.errors,
            env={**os.environ, "PYTHONPATH": path},
        )
        self._send(json.dumps(job))

    def __enter__(self) -> "SecondPart":
        return self

    def __exit__(self, *exc) -> None:
        if self.process.poll() is None:
            self.process.kill()  # the export stopped first (an error, an interruption)
        with self.process.stdin, self.process.stdout, self.errors:
            self.process.wait()
        self.path.unlink(missing_ok=True)

    def _send(self, line: str) -> None:
        self.process.stdin.write(line.encode() + b"\n")
        self.process.stdin.flush()

    def _expect(self, word: str) -> None:
        line = self.process.stdout.readline().strip().decode()
        if line != word:
            self._failed()

    def _failed(self):
        self.process.wait()
        self.errors.seek(0)
        lines = self.errors.read().decode(errors="replace").strip().splitlines()
        detail = lines[-1] if lines else f"processus arrêté, code {self.process.returncode}"
        raise PartFailed(f"L'écriture de la seconde moitié de l'export a échoué : {detail}")

    def connected(self) -> None:
        """Wait until the process is connected to the database."""
        self._expect("connected")

    def take(self, snapshot: str) -> None:
        """Send the snapshot to read (``GO`` on SQLite)."""
        self._send(snapshot)

    def reading(self) -> None:
        """Wait until the process has taken its snapshot."""
        self._expect("reading")

    def chunks(self, stats: ExportStats) -> Iterator[bytes]:
        """Wait for the process, add its counts to ``stats``, then read what it wrote."""
        lines = self.process.stdout.read().decode().splitlines()  # "connected", "reading" (unless read), the counts
        if self.process.wait() != 0 or not lines:
            self._failed()
        written = json.loads(lines[-1])
        for name in ("formations", "actions", "sessions", "published_actions"):
            setattr(stats, name, getattr(stats, name) + written[name])
        stats.skipped.extend(written["skipped"])
        with self.path.open("rb") as part:
            while chunk := part.read(COPY_BYTES):
                yield chunk


def write_part(job: dict, messages: IO[str]) -> ExportStats:
    """The second process: the ``<formation>`` elements from the job's first formation on, read from
    the snapshot sent after the job."""
    stats = ExportStats()
    engine = sa.create_engine(job["url"], poolclass=NullPool)
    try:
        with engine.connect() as connection, open(job["output"], "wb") as out:
            print("connected", file=messages, flush=True)
            _take_snapshot(connection, sys.stdin.readline().strip())
            print("reading", file=messages, flush=True)
            with Session(bind=connection) as session:
                groups = published_actions(session=session, formations=(job["first_formation"], None))
                for chunk in iter_formations(groups, stats, FormacodeVersions(session=session)):
                    out.write(chunk)
    finally:
        engine.dispose()
    return stats


if __name__ == "__main__":
    # the messages go out on a copy of stdout; anything printed goes to stderr instead
    messages = os.fdopen(os.dup(sys.stdout.fileno()), "w")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    counts = write_part(json.loads(sys.stdin.readline()), messages)
    print(json.dumps(asdict(counts), separators=(",", ":")), file=messages, flush=True)
