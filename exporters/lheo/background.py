"""Calls made in order by a thread of its own, a bounded number behind the caller (the LHÉO export's writes).

Writing to a file or a pipe and hashing let go of the GIL: done by another thread, they overlap
the caller's Python work (rendering LHÉO) instead of following it.
"""

from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor


class InOrderThread:
    """``call(*args)`` runs ``function(*args)`` in a thread of its own, in the order of the calls; the
    caller waits only when more than ``behind`` calls are still to run. Leaving the ``with`` block
    waits for all of them; an error of one is raised in the caller."""

    def __init__(self, function: Callable, behind: int):
        self.function = function
        self.behind = behind
        self.pending: deque[Future] = deque()
        self.executor = ThreadPoolExecutor(max_workers=1)

    def __enter__(self) -> "InOrderThread":
        return self

    def __exit__(self, error_type, *exc) -> None:
        try:
            if error_type is None:
                while self.pending:
                    self.pending.popleft().result()
        finally:
            self.executor.shutdown(wait=True, cancel_futures=True)

    def call(self, *args) -> None:
        self.pending.append(self.executor.submit(self.function, *args))
        if len(self.pending) > self.behind:
            self.pending.popleft().result()
