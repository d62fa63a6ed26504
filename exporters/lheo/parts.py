"""The full LHÉO export of a large offer, written by two processes at once.

Writing the LHÉO text is Python work (decoding each published action's stored fragment, building
the envelope of each formation around them): one core, while the database mostly waits. From
``PARALLEL_MIN_ACTIONS`` published actions, the formations are cut into ranges of about
``RANGE_ACTIONS`` published actions; this process writes the even ranges and another process
(``python -m exporters.lheo.parts``) renders the odd ones meanwhile into a temporary file beside
the export, saying where each lies as soon as it is written; this process copies each in its place
when it gets there. The document is byte for byte the one a single process writes (same order:
formations by id). Measured at a million sessions on PostgreSQL, against the designs tried before:
the other half written to a file and appended at the end spent seconds copying once both were
done; ranges sent down a pipe made the two processes wait for each other (or hold ranges in memory:
450 MB for the two processes).

Both processes read one snapshot of the database, so the file is the published offer at one
moment whatever is published meanwhile. PostgreSQL shares it (``pg_export_snapshot`` then ``SET
TRANSACTION SNAPSHOT``, as ``pg_dump --jobs`` does). SQLite cannot: the exporting process holds
the write lock (``BEGIN IMMEDIATE`` on a connection of its own) from just before it starts
reading until the other process has started reading too, so that nothing is committed in
between (the other process connects first: the lock lasts milliseconds, not its start).

The two processes talk through the other one's standard input (the job, then the snapshot to
take: ``go`` on SQLite) and output (frames: ``connected``, ``reading``, where each range lies in its
file, the counts).
"""

import contextlib
import json
import os
import re
import struct
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

from exporters.lheo import worker_process
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
RANGE_ACTIONS = 2_000  # published actions per range: about 30 MB of LHÉO
COPY_BYTES = 1 << 20
PLACE = struct.Struct("<QQ")  # where a range lies in the other process's file: offset, length
SNAPSHOT_ID = re.compile(r"[0-9A-Fa-f]+(-[0-9A-Fa-f]+)+")
EXCEPTION_LINE = re.compile(r"[\w.]+(Error|Exception)\b.*: ")
FRAME = struct.Struct("<cQ")  # kind, length of what follows
CONNECTED, READING, RANGE, COUNTS = b"c", b"r", b"p", b"n"
GO = "go"  # the snapshot sent on SQLite: read now, the exporting process holds off the writers

Range = tuple[int | None, int | None]  # formation ids: from (included), before (excluded); None: no bound


class PartFailed(RuntimeError):
    """The other process did not start, or stopped without writing its part."""


def formation_ranges(session: Session, min_actions: int) -> list[Range]:
    """Ranges of formation ids holding about ``RANGE_ACTIONS`` published actions each (up to four
    ranges for fewer actions); none below ``min_actions`` published actions, nor for one formation."""
    count = session.scalar(sa.select(sa.func.count()).select_from(PublishedAction))
    if count < max(min_actions, 4):
        return []
    every = min(RANGE_ACTIONS, count // 4)
    numbered = sa.select(
        PublishedAction.formation_id, sa.func.row_number().over(order_by=PublishedAction.formation_id).label("n")
    ).subquery()
    starts = session.scalars(
        sa.select(numbered.c.formation_id).where((numbered.c.n - 1) % every == 0, numbered.c.n > 1).distinct()
    )
    bounds = sorted(starts)
    return list(zip([None, *bounds], [*bounds, None], strict=True)) if bounds else []


def document_in_two_parts(
    engine: sa.Engine, ranges: list[Range], stats: ExportStats, directory: Path
) -> Iterator[bytes]:
    """The whole published offer as an LHÉO document (``writer.iter_document``): this process writes the
    even ``ranges`` while another renders the odd ones to a temporary file in ``directory``.

    Read through connections of their own: what the caller's session has not committed is not in it.
    """
    with OtherProcess(engine.url, ranges[1::2], directory) as other, shared_snapshot(engine, other) as session:
        formacodes = FormacodeVersions(session=session)
        yield document_start()
        for index, formations in enumerate(ranges):
            if index % 2:
                yield from other.next_range()
            else:
                yield from iter_formations(published_actions(session=session, formations=formations), stats, formacodes)
        other.add_counts(stats)
        yield DOCUMENT_END


@contextlib.contextmanager
def shared_snapshot(engine: sa.Engine, other: "OtherProcess") -> Iterator[Session]:
    """A read-only session on one snapshot of the database, which ``other`` reads too."""
    with engine.connect() as connection:
        if engine.dialect.name == "postgresql":
            connection = connection.execution_options(isolation_level="REPEATABLE READ")
            connection.exec_driver_sql("SET TRANSACTION READ ONLY")
            other.take(connection.scalar(sa.text("SELECT pg_export_snapshot()")))
        else:
            other.connected()
            with engine.connect() as writers:
                writers.exec_driver_sql("BEGIN IMMEDIATE")  # nothing committed until the other process reads
                _begin_reading(connection)
                other.take(GO)
                other.reading()
                writers.rollback()
        with Session(bind=connection) as session:
            yield session


def _begin_reading(connection: sa.Connection) -> None:
    """SQLite: a read transaction, its snapshot fixed by its first read (WAL mode)."""
    connection.exec_driver_sql("BEGIN")
    connection.exec_driver_sql("SELECT count(*) FROM publication_sequence")


def _take_snapshot(connection: sa.Connection, snapshot: str) -> None:
    """The other process: read the snapshot the exporting process sent (``go``: SQLite's, held for it)."""
    if connection.dialect.name != "postgresql":
        _begin_reading(connection)
        return
    if not SNAPSHOT_ID.fullmatch(snapshot):
        raise ValueError(f"identifiant d'instantané invalide : {snapshot!r}")
    connection.exec_driver_sql("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
    connection.exec_driver_sql(f"SET TRANSACTION SNAPSHOT '{snapshot}'")  # a command: no bound value


class OtherProcess:
    """The process rendering the formations of ``ranges``, one range after the other, for this one to write."""

    def __init__(self, url: sa.URL, ranges: list[Range], directory: Path):
        handle, name = tempfile.mkstemp(dir=directory, prefix=".lheo-part.", suffix=".tmp")
        self.rendered = os.fdopen(handle, "rb")  # what the process writes, read back range by range
        self.path = Path(name)
        job = {"url": url.render_as_string(hide_password=False), "ranges": ranges, "output": name}  # stdin: not `ps`
        # a file, not a pipe: a long traceback cannot block the process; closed in __exit__
        self.errors = tempfile.TemporaryFile()  # noqa: SIM115
        self.process: subprocess.Popen | None = None
        try:
            self.process = worker_process.start(
                __name__, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.errors
            )
            self._send(json.dumps(job))
        except OSError as error:  # no interpreter, no process left, or gone at once: nothing of it stays behind
            self.__exit__()
            reason = error.strerror or error
            raise PartFailed(f"Le second processus de l'export n'a pas pu démarrer ({reason}).") from error
        except BaseException:
            self.__exit__()
            raise

    def __enter__(self) -> "OtherProcess":
        return self

    def __exit__(self, *exc) -> None:
        if self.process is not None:
            if self.process.poll() is None:
                self.process.kill()  # the export stopped first (an error, an interruption)
            with self.process.stdin, self.process.stdout:
                self.process.wait()
        self.errors.close()
        self.rendered.close()
        self.path.unlink(missing_ok=True)

    def _send(self, line: str) -> None:
        self.process.stdin.write(line.encode() + b"\n")
        self.process.stdin.flush()

    def _receive(self, kind: bytes) -> bytes:
        """The next frame of ``kind`` (the handshake frames nobody waited for are passed over)."""
        while True:
            header = self.process.stdout.read(FRAME.size)
            if len(header) < FRAME.size:
                self._failed()
            found, length = FRAME.unpack(header)
            payload = self.process.stdout.read(length)
            if found == kind:
                return payload
            if found not in (CONNECTED, READING):
                self._failed()

    def _failed(self):
        self.process.wait()
        self.errors.seek(0)
        lines = self.errors.read().decode(errors="replace").strip().splitlines()
        raised = [line for line in lines if EXCEPTION_LINE.match(line)]  # the traceback's last line, not a note
        detail = (raised or lines or [f"processus arrêté, code {self.process.returncode}"])[-1]
        raise PartFailed(f"Le second processus de l'export a échoué : {detail}")

    def connected(self) -> None:
        """Wait until the process is connected to the database."""
        self._receive(CONNECTED)

    def take(self, snapshot: str) -> None:
        """Send the snapshot to read (``GO`` on SQLite)."""
        self._send(snapshot)

    def reading(self) -> None:
        """Wait until the process has taken its snapshot."""
        self._receive(READING)

    def next_range(self) -> Iterator[bytes]:
        """The ``<formation>`` elements of the process's next range, read from its file (its page
        cache, most likely) once it says where they lie."""
        offset, length = PLACE.unpack(self._receive(RANGE))
        self.rendered.seek(offset)
        while length > 0:
            chunk = self.rendered.read(min(COPY_BYTES, length))
            if not chunk:
                self._failed()
            length -= len(chunk)
            yield chunk

    def add_counts(self, stats: ExportStats) -> None:
        """Add the counts of the process's ranges to ``stats``."""
        stats.add(ExportStats(**json.loads(self._receive(COUNTS))))


def render_ranges(job: dict, out: IO[bytes]) -> None:
    """The other process: the ``<formation>`` elements of each range of the job, read from the snapshot
    sent after the job, then the counts."""

    def send(kind: bytes, payload: bytes = b"") -> None:
        out.write(FRAME.pack(kind, len(payload)) + payload)
        out.flush()

    stats = ExportStats()
    engine = sa.create_engine(job["url"], poolclass=NullPool)
    try:
        with engine.connect() as connection:
            send(CONNECTED)
            _take_snapshot(connection, sys.stdin.readline().strip())
            send(READING)
            # ranges go to a file, not down the pipe: this process never waits for the export to take them
            with Session(bind=connection) as session, open(job["output"], "wb") as rendered:
                formacodes = FormacodeVersions(session=session)
                for formations in job["ranges"]:
                    offset = rendered.tell()
                    groups = published_actions(session=session, formations=tuple(formations))
                    for chunk in iter_formations(groups, stats, formacodes):
                        rendered.write(chunk)
                    rendered.flush()
                    send(RANGE, PLACE.pack(offset, rendered.tell() - offset))
    finally:
        engine.dispose()
    send(COUNTS, json.dumps(asdict(stats)).encode())


if __name__ == "__main__":
    # the frames go out on a copy of stdout; anything printed goes to stderr instead
    frames = worker_process.messages_out()
    with contextlib.suppress(BrokenPipeError):  # the export stopped first
        render_ranges(json.loads(sys.stdin.readline()), frames)
