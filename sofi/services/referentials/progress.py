"""Progress reporting shared by the importers: a callback told how far the reading got."""

import io
from collections.abc import Callable
from typing import IO

Progress = Callable[[int], None]


def no_progress(_: int) -> None:
    """The default progress callback: reports nothing."""


class CountingReader(io.RawIOBase):
    """Wraps a binary file and reports every chunk read, so a parser's progress is visible."""

    def __init__(self, handle: IO[bytes], progress: Progress):
        self._handle = handle
        self._progress = progress

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        count = self._handle.readinto(buffer) or 0
        self._progress(count)
        return count


def counting_text(handle: IO[bytes], progress: Progress, encoding: str) -> io.TextIOWrapper:
    return io.TextIOWrapper(io.BufferedReader(CountingReader(handle, progress)), encoding=encoding, newline="")
