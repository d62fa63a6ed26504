"""LHÉO exports written to files, atomically.

``write_file`` writes a temporary file in the target directory and moves it into place with
``os.replace``: readers never see half a file. A full export of a large offer on PostgreSQL is
written by two processes (``exporters.lheo.parts``), the others by this one (``writer``).
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

from exporters.lheo.parts import PARALLEL_MIN_ACTIONS, document_in_two_parts, median_formation
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
    PostgreSQL is written by two processes."""
    path = Path(path)
    directory = path.parent if str(path.parent) else Path(".")
    stats = ExportStats()
    median = median_formation(db.session, parallel_min_actions) if since is None and siret is None else None
    if median is not None:
        chunks = document_in_two_parts(db.engine, median, stats, directory)
    else:
        chunks = iter_document(published_actions(since=since, siret=siret), stats)
    digest = hashlib.sha256()
    size = 0
    try:
        with replaced_atomically(path) as handle:
            for chunk in chunks:
                handle.write(chunk)
                digest.update(chunk)
                size += len(chunk)
    finally:
        chunks.close()  # a failed write ends the second process and removes its part
    return WrittenFile(path, stats, digest.hexdigest(), size)


@contextlib.contextmanager
def replaced_atomically(path: Path, mode: str = "wb", encoding: str | None = None) -> Iterator[IO]:
    """A file to write that replaces ``path`` once complete and on disk; removed if anything fails."""
    directory = path.parent if str(path.parent) else Path(".")
    handle = tempfile.NamedTemporaryFile(  # noqa: SIM115 (closed below, then moved into place)
        mode, dir=directory, prefix=f".{path.name}.", suffix=".tmp", delete=False, encoding=encoding
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
