"""The full LHÉO export of a large offer on PostgreSQL, written by two processes at once.

Writing the LHÉO text is Python work (decoding each published action's stored fragment, building
the envelope of each formation around them): one core, while the database mostly waits. From
``PARALLEL_MIN_ACTIONS`` published actions, the published actions are split in two ranges of
formations at their median; another process (``python -m exporters.lheo.parts``) writes the
second range to a temporary file beside the export while the exporting process writes the first,
then the exporting process appends that file. The document is byte for byte the one a single
process writes (same order: formations by id).

Both processes read one snapshot of the database (``pg_export_snapshot`` then ``SET TRANSACTION
SNAPSHOT``, as ``pg_dump --jobs`` does): the file is the published offer at one moment, whatever
is published meanwhile. SQLite cannot share a snapshot between connections: there the export
stays in one process (and meets its rate without help at the sizes SQLite serves).
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


@contextlib.contextmanager
def shared_snapshot(engine: sa.Engine) -> Iterator[tuple[Session, str]]:
    """A session reading one snapshot (REPEATABLE READ, read only) and the id other processes take it by."""
    with engine.connect() as connection:
        connection = connection.execution_options(isolation_level="REPEATABLE READ")
        with Session(bind=connection) as session:
            session.execute(sa.text("SET TRANSACTION READ ONLY"))
            yield session, session.scalar(sa.text("SELECT pg_export_snapshot()"))


def _take_snapshot(session: Session, snapshot: str) -> None:
    """Make ``session``'s transaction read ``snapshot`` (a command: the id cannot be a bound value)."""
    if not SNAPSHOT_ID.fullmatch(snapshot):
        raise ValueError(f"identifiant d'instantané invalide : {snapshot!r}")
    session.execute(sa.text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY"))
    session.execute(sa.text(f"SET TRANSACTION SNAPSHOT '{snapshot}'"))


def median_formation(session: Session, min_actions: int) -> int | None:
    """The formation id splitting the published actions in two halves; None below ``min_actions`` actions
    or on SQLite (no shared snapshot)."""
    if session.get_bind().dialect.name != "postgresql":
        return None
    count, median = session.execute(
        sa.select(
            sa.func.count(),
            sa.func.percentile_disc(0.5).within_group(PublishedAction.formation_id),
        )
    ).one()
    return median if count >= min_actions else None


def document_in_two_parts(engine: sa.Engine, median: int, stats: ExportStats, directory: Path) -> Iterator[bytes]:
    """The whole published offer as an LHÉO document (``writer.iter_document``): this process writes the
    formations before ``median`` while another writes the others to a temporary file in ``directory``.

    Read through a connection of its own: what the caller's session has not committed is not in it.
    """
    with shared_snapshot(engine) as (session, snapshot), SecondPart(engine.url, snapshot, median, directory) as second:
        formacodes = FormacodeVersions(session=session)
        yield document_start()
        yield from iter_formations(published_actions(session=session, formations=(None, median)), stats, formacodes)
        yield from second.chunks(stats)
        yield DOCUMENT_END


class SecondPart:
    """The process writing the formations from ``first_formation`` on, from ``snapshot``, to a temporary file."""

    def __init__(self, url: sa.URL, snapshot: str, first_formation: int, directory: Path):
        handle, name = tempfile.mkstemp(dir=directory, prefix=".lheo-part.", suffix=".tmp")
        os.close(handle)
        self.path = Path(name)
        job = {
            "url": url.render_as_string(hide_password=False),  # on stdin: not in the process list
            "snapshot": snapshot,
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
        with self.process.stdin:
            self.process.stdin.write(json.dumps(job).encode())

    def __enter__(self) -> "SecondPart":
        return self

    def __exit__(self, *exc) -> None:
        if self.process.poll() is None:
            self.process.kill()  # the export stopped first (an error, an interruption)
        with self.process.stdout, self.errors:
            self.process.wait()
        self.path.unlink(missing_ok=True)

    def chunks(self, stats: ExportStats) -> Iterator[bytes]:
        """Wait for the process, add its counts to ``stats``, then read what it wrote."""
        out = self.process.stdout.read()  # one line, written when it is done
        if self.process.wait() != 0:
            self.errors.seek(0)
            lines = self.errors.read().decode(errors="replace").strip().splitlines()
            detail = lines[-1] if lines else f"processus arrêté, code {self.process.returncode}"
            raise PartFailed(f"L'écriture de la seconde moitié de l'export a échoué : {detail}")
        written = json.loads(out)
        for name in ("formations", "actions", "sessions", "published_actions"):
            setattr(stats, name, getattr(stats, name) + written[name])
        stats.skipped.extend(written["skipped"])
        with self.path.open("rb") as part:
            while chunk := part.read(COPY_BYTES):
                yield chunk


def write_part(url: str, snapshot: str, first_formation: int, output: str) -> ExportStats:
    """The second process: the ``<formation>`` elements from ``first_formation`` on, read from ``snapshot``."""
    stats = ExportStats()
    engine = sa.create_engine(url, poolclass=NullPool)
    try:
        with Session(engine) as session, open(output, "wb") as out:
            _take_snapshot(session, snapshot)
            groups = published_actions(session=session, formations=(first_formation, None))
            for chunk in iter_formations(groups, stats, FormacodeVersions(session=session)):
                out.write(chunk)
    finally:
        engine.dispose()
    return stats


if __name__ == "__main__":
    job = json.load(sys.stdin)
    print(json.dumps(asdict(write_part(job["url"], job["snapshot"], job["first_formation"], job["output"]))))
