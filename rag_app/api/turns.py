"""A lock that hands itself over in arrival order: `rag serve`'s one generation at a time.

``threading.Lock`` promises no order: a waiter may be passed over again and again while newer
requests get the model. ``FifoLock`` gives each caller a ticket and wakes them in the order
they came. It belongs to no thread (a streamed reply takes its turn in one worker thread and
gives it back in another), and a waiter that gives up (an exception while waiting) leaves the
queue, so nobody behind it waits for a turn that will never be taken.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from types import TracebackType


class FifoLock:
    def __init__(self) -> None:
        self._changed = threading.Condition(threading.Lock())
        self._waiting: deque[object] = deque()
        self._held = False

    def acquire(self, timeout_s: float | None = None) -> bool:
        """Wait until every earlier caller has had and given back its turn, then take it
        (True); after ``timeout_s`` seconds without it, leave the queue (False)."""
        ticket = object()
        deadline = None if timeout_s is None else time.monotonic() + timeout_s
        with self._changed:
            self._waiting.append(ticket)
            try:
                while self._held or self._waiting[0] is not ticket:
                    left = None if deadline is None else deadline - time.monotonic()
                    if left is not None and left <= 0:
                        self._leave(ticket)
                        return False
                    self._changed.wait(left)
            except BaseException:  # interrupted while waiting
                self._leave(ticket)
                raise
            self._waiting.popleft()
            self._held = True
            return True

    def _leave(self, ticket: object) -> None:
        """A waiter gives up: out of the queue, and the one behind it may be first now."""
        self._waiting.remove(ticket)
        self._changed.notify_all()

    def release(self) -> None:
        """Give the turn to the earliest waiter (from any thread)."""
        with self._changed:
            if not self._held:
                raise RuntimeError("release of a FifoLock that is not held")
            self._held = False
            self._changed.notify_all()

    def locked(self) -> bool:
        with self._changed:
            return self._held

    def waiting(self) -> int:
        """How many callers wait for their turn (the holder not counted)."""
        with self._changed:
            return len(self._waiting)

    def __enter__(self) -> FifoLock:
        self.acquire()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.release()
