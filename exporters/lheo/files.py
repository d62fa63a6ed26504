"""LHÉO exports written to files, atomically.

``write_file`` writes a temporary file in the target directory and moves it into place with
``os.replace``: readers never see half a file. A full export of a large offer is
written by two processes (``exporters.lheo.parts``), the others by this one (``writer``); the
file is written and hashed by a thread of its own meanwhile.
"""

import contextlib
import hashlib
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO

from exporters.lheo.background import InOrderThread
from exporters.lheo.parts import PARALLEL_MIN_ACTIONS, document_in_two_parts, formation_ranges
from exporters.lheo.writer import ExportStats, iter_document, published_actions
from models import db


@dataclass
class WrittenFile:
    path: Path
    stats: ExportStats
    sha256: str
    size: int


def write_file(
    path: Path | str,
    since: datetime | None = None,
    siret: str | None = None,
    parallel_min_actions: int = PARALLEL_MIN_ACTIONS,
) -> WrittenFile:
    """Write the published offer (all of it, or what changed since ``since``, or one organisation's)
    to ``path`` atomically; a full export of ``parallel_min_actions`` published actions or more on
    either database is written by two processes."""
    path = Path(path)
    stats = ExportStats()
    ranges = formation_ranges(db.session, parallel_min_actions) if since is None and siret is None else []
    if ranges:
        chunks = document_in_two_parts(db.engine, ranges, stats, path.parent)
    else:
        chunks = iter_document(published_actions(since=since, siret=siret), stats)
    digest = hashlib.sha256()
    size = 0
    try:
        with replaced_atomically(path) as handle, InOrderThread(_write, PENDING_CHUNKS) as writer:
            for chunk in chunks:
                writer.call(handle, digest, chunk)
                size += len(chunk)
    finally:
        chunks.close()  # a failed write ends the other process of a two-part export
    return WrittenFile(path, stats, digest.hexdigest(), size)


PENDING_CHUNKS = 8  # chunks of about 1 MB waiting for the writing thread


def _write(handle: IO[bytes], digest, chunk: bytes) -> None:
    """Write and hash a chunk, in a thread of its own: both let go of the GIL, so the export's thread
    goes on rendering meanwhile (hashing alone takes 2.4 s of a 1.7 GB export)."""
    handle.write(chunk)
    digest.update(chunk)


@contextlib.contextmanager
def replaced_atomically(path: Path, mode: str = "wb", encoding: str | None = None) -> Iterator[IO]:
    """A file to write that replaces ``path`` once complete and on disk; removed if anything fails."""
    handle = tempfile.NamedTemporaryFile(  # noqa: SIM115 (closed below, then moved into place)
        mode, dir=path.parent, prefix=f".{path.name}.", suffix=".tmp", delete=False, encoding=encoding
    )
    try:
        with handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(handle.name, 0o644)
        os.replace(handle.name, path)
    except BaseException:
        Path(handle.name).unlink(missing_ok=True)
        raise
