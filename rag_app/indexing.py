"""Embedding in the background (progressive indexing): added documents are searchable by
keywords at once, and a thread of this process gives their chunks vectors meanwhile.

Two things are shared by every service of the process: ``QUESTIONS``, the questions being
answered (the embedding waits between batches while one is, so a question asked during a
long embedding does not share the two cores with it), and the one thread per knowledge base
that embeds (``BackgroundEmbedding``). Across processes, the store's embed lock
(``knowledge.embed_lock``) lets only one embed; the others see its progress in the store.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from rag_app.errors import first_line

# A question waits for at most one batch; the embedding waits for questions this long at most,
# so a stream of questions cannot starve it.
MAX_YIELD_S = 30.0


class Questions:
    """How many questions this process is answering now."""

    def __init__(self) -> None:
        self._count = 0
        self._idle = threading.Condition()

    @contextmanager
    def answering(self) -> Iterator[None]:
        with self._idle:
            self._count += 1
        try:
            yield
        finally:
            with self._idle:
                self._count -= 1
                self._idle.notify_all()

    def wait_idle(self, most_s: float = MAX_YIELD_S) -> None:
        """Return once no question is being answered (or after ``most_s``)."""
        deadline = time.monotonic() + most_s
        with self._idle:
            while self._count and (left := deadline - time.monotonic()) > 0:
                self._idle.wait(left)


QUESTIONS = Questions()


@dataclass
class Job:
    """The embedding thread of one knowledge base: it runs ``embed`` until a run finds
    nothing more to do, also when documents are staged while it runs."""

    embed: Callable[[], object]
    error: str | None = None  # the last run's failure, one line
    _again: bool = True
    _lock: threading.Lock = field(default_factory=threading.Lock)
    thread: threading.Thread | None = None

    @property
    def running(self) -> bool:
        return self.thread is not None and self.thread.is_alive()

    def poke(self) -> None:
        """Make sure a run starts after this call (a new thread, or one more round)."""
        with self._lock:
            self._again = True
            if self.running:
                return
            self.thread = threading.Thread(target=self._loop, name="rag-embed", daemon=True)
            self.thread.start()

    def _loop(self) -> None:
        while True:
            with self._lock:
                if not self._again:
                    self.thread = None
                    return
                self._again = False
            try:
                self.embed()
                self.error = None
            except Exception as exc:  # shown by the UI and the API; the chunks stay queued
                self.error = first_line(exc) or type(exc).__name__


class BackgroundEmbedding:
    """The embedding jobs of this process, one per knowledge base (by a key naming its store)."""

    def __init__(self) -> None:
        self._jobs: dict[Hashable, Job] = {}
        self._lock = threading.Lock()

    def start(self, key: Hashable, embed: Callable[[], object]) -> Job:
        with self._lock:
            job = self._jobs.get(key)
            if job is None:
                job = self._jobs[key] = Job(embed)
        job.poke()
        return job

    def get(self, key: Hashable) -> Job | None:
        return self._jobs.get(key)

    def wait(self, key: Hashable, timeout_s: float | None = None) -> None:
        """Until that knowledge base's job (if any) is idle."""
        job = self._jobs.get(key)
        deadline = None if timeout_s is None else time.monotonic() + timeout_s
        while job is not None and job.running:
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and left <= 0:
                return
            thread = job.thread
            if thread is not None:
                thread.join(0.2 if left is None else min(left, 0.2))


BACKGROUND = BackgroundEmbedding()
