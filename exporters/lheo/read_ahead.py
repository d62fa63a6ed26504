"""The formations of an LHÉO file in batches, read ahead by another process when the file is large.

An import spends about a third of its time reading the XML (parsing, schema validation, the
inverse mapping to plain data) and the rest applying what it read to the database. On two
cores, a process that reads the next batches while the import applies the previous ones
takes that third off the import's time. The batches cross over pickled, through a pipe: the
reader is at most a batch ahead (it waits for the import beyond). A small file is read in the
importing process: starting an interpreter for the reader costs a few tenths of a second.
"""

import contextlib
import gc
import os
import pickle
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

from exporters.lheo import worker_process
from exporters.lheo.reader import DocumentInfo, LheoFileError, LheoStream, checked_formations, read_formation

READ_AHEAD_MIN_BYTES = 8 * 1024 * 1024  # below, the file is read in the importing process
READER_GC_THRESHOLD = 100_000  # the reader keeps a batch of plain data alive: fewer young collections


def formation_batches(stream: LheoStream, size: int) -> Iterator[list[dict]]:
    """Lists of up to ``size`` formations of ``stream``, validated then read.

    Once the file has an error, nothing more is read: it is refused at the end, its formations
    only validated, so that the refusal lists all its errors.
    """
    batch = []
    for element in checked_formations(stream):
        if stream.info.error_count:
            batch = []
            continue
        batch.append(read_formation(element))
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


class FormationBatches:
    """The formations of an LHÉO file in lists of ``size`` (``formation_batches``); ``info`` (root,
    version, counts, schema errors) is complete once they have all been taken.

    The file's size is checked at once (``LheoStream``). From ``read_ahead_min_bytes`` up, another
    process reads it; its problems are raised here as the same :class:`LheoFileError`.
    """

    def __init__(self, path: Path | str, max_bytes: int, size: int, read_ahead_min_bytes: int = READ_AHEAD_MIN_BYTES):
        self.stream = LheoStream(path, max_bytes)
        self.max_bytes = max_bytes
        self.size = size
        self.info: DocumentInfo = self.stream.info
        self.read_ahead = os.path.getsize(self.stream.path) >= read_ahead_min_bytes

    def __iter__(self) -> Iterator[list[dict]]:
        if self.read_ahead:
            return self._read_by_another_process()
        return formation_batches(self.stream, self.size)

    def _read_by_another_process(self) -> Iterator[list[dict]]:
        reader = worker_process.start(
            __name__,
            str(self.stream.path),
            str(self.max_bytes),
            str(self.size),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
        )
        try:
            while True:
                kind, payload = _receive(reader)
                if kind == "batch":
                    yield payload
                elif kind == "end":
                    self.info = payload
                    return
                elif kind == "error":
                    raise LheoFileError(payload)
                else:
                    raise RuntimeError(f"la lecture du fichier a échoué ({payload})")
        finally:
            if reader.poll() is None:
                reader.kill()  # the import stopped first (an error, an interruption)
            reader.stdout.close()
            reader.wait()


def _receive(reader: subprocess.Popen) -> tuple[str, object]:
    """The reader's next message; an error if it stopped without one (killed, out of memory)."""
    try:
        return pickle.load(reader.stdout)  # written by our own reading process
    except EOFError:
        return "crash", f"processus de lecture arrêté, code {reader.wait()}"


def _read(path: str, max_bytes: int, size: int, out) -> None:
    """The reading process: every batch, then the document's info (or the problem met), pickled to ``out``."""

    def send(kind: str, payload) -> None:
        pickle.dump((kind, payload), out, protocol=pickle.HIGHEST_PROTOCOL)
        out.flush()

    gc.set_threshold(READER_GC_THRESHOLD, *gc.get_threshold()[1:])
    try:
        stream = LheoStream(path, max_bytes)
        for batch in formation_batches(stream, size):
            send("batch", batch)
        send("end", stream.info)
    except LheoFileError as error:
        send("error", error.message)
    except Exception as error:  # reported to the import, which rolls back and says so
        send("crash", f"{type(error).__name__} : {error}")


if __name__ == "__main__":
    # the messages go out on a copy of stdout; anything printed goes to stderr instead
    messages = worker_process.messages_out()
    with contextlib.suppress(BrokenPipeError):  # the import stopped reading
        _read(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), messages)
