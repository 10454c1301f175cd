"""`rag serve`'s generation turns (rag_app/turns.py): waiters get the model in the order they
came, none is passed over, one that gives up leaves the queue, and a streamed reply whose
client leaves mid-stream gives its turn back. Fast: threads and a stub service, no model."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from rag_app.api import app as api
from rag_app.api.turns import FifoLock
from rag_app.service import RagService
from rag_app.settings import Settings, load_settings
from tests.support.servers import free_port


def wait_until(condition: Any, timeout_s: float = 5.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.001)


def queued(lock: FifoLock, order: list[int], n: int) -> list[threading.Thread]:
    """``n`` threads that wait for the held ``lock`` one after another (each started only once
    the one before it waits), then note their number when they get it."""

    def take(number: int) -> None:
        with lock:
            order.append(number)

    threads = []
    for number in range(n):
        thread = threading.Thread(target=take, args=(number,))
        thread.start()
        wait_until(lambda number=number: lock.waiting() == number + 1)
        threads.append(thread)
    return threads


def test_waiters_get_their_turn_in_arrival_order() -> None:
    lock, order = FifoLock(), list[int]()
    lock.acquire()
    threads = queued(lock, order, 12)
    lock.release()
    for thread in threads:
        thread.join(timeout=5)
    assert order == list(range(12))
    assert not lock.locked() and lock.waiting() == 0


def test_a_holder_asking_again_goes_behind_the_waiters() -> None:
    """With threading.Lock the releasing thread usually takes it straight back (the waiter
    starves); here the waiter goes first."""
    lock, order = FifoLock(), list[int]()
    lock.acquire()
    threads = queued(lock, order, 1)
    for _ in range(3):
        lock.release()
        lock.acquire()
        order.append(-1)
    lock.release()
    threads[0].join(timeout=5)
    assert order == [0, -1, -1, -1]


def test_a_waiter_that_gives_up_leaves_the_queue() -> None:
    lock, order = FifoLock(), list[int]()
    lock.acquire()
    gave_up: list[bool] = []
    impatient = threading.Thread(target=lambda: gave_up.append(lock.acquire(timeout_s=0.2)))
    impatient.start()
    wait_until(lambda: lock.waiting() == 1)
    behind = queued(lock, order, 1)  # waits behind the impatient one
    impatient.join(timeout=5)
    assert gave_up == [False] and lock.waiting() == 1
    lock.release()
    behind[0].join(timeout=5)
    assert order == [0] and not lock.locked()


def test_the_turn_belongs_to_no_thread() -> None:
    """A streamed reply takes its turn in one worker thread and gives it back in another."""
    lock = FifoLock()
    taker = threading.Thread(target=lock.acquire)
    taker.start()
    taker.join(timeout=5)
    assert lock.locked()
    lock.release()
    assert lock.acquire(timeout_s=0) and lock.locked()
    lock.release()
    with pytest.raises(RuntimeError, match="not held"):
        lock.release()


# -- the API: a client that leaves mid-stream ---------------------------------------------------
class EndlessStream:
    """What RagService.stream returns, for a model that would talk for minutes."""

    mode, sources = "both", ["a source"]

    def __init__(self) -> None:
        self.sent, self.closed = 0, threading.Event()

    def __iter__(self) -> Iterator[str]:
        try:
            for _ in range(10_000):
                self.sent += 1
                time.sleep(0.01)
                yield " word"
        finally:
            self.closed.set()


class Reply:
    answer = "short"

    def to_dict(self) -> dict[str, Any]:
        return {"answer": self.answer}


class StubService:
    def __init__(self) -> None:
        self.streams: list[EndlessStream] = []

    def stream(self, question: str, **_: Any) -> EndlessStream:
        self.streams.append(EndlessStream())
        return self.streams[-1]

    def ask(self, question: str, *_: Any, **__: Any) -> Reply:
        return Reply()

    def needs_model(self, *_: Any) -> bool:
        return True  # its answers are generated: they wait for the turn


@pytest.fixture
def stub_api(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, StubService]]:
    import uvicorn

    service = StubService()
    monkeypatch.setattr(api.Services, "get", lambda self, kb: service)
    app = api.create_app(load_settings(data_dir=tmp_path / "data"))
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    wait_until(lambda: server.started, timeout_s=20)
    try:
        yield f"http://127.0.0.1:{port}", service
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def test_a_client_that_leaves_mid_stream_gives_the_model_back(
    stub_api: tuple[str, StubService],
) -> None:
    url, service = stub_api
    question = {"model": "default", "stream": True, "messages": [{"role": "user", "content": "q"}]}
    with httpx.stream("POST", f"{url}/v1/chat/completions", json=question, timeout=10) as reply:
        assert reply.status_code == 200
        lines = reply.iter_lines()
        read = [line for line, _ in zip(lines, range(6), strict=False) if line]
        assert len(read) >= 2  # the role chunk and a word or more
    # The client is gone; the next question must not wait for 10,000 words (100 s).
    asked = httpx.post(f"{url}/ask", json={"question": "next"}, timeout=10)
    assert asked.status_code == 200 and asked.json() == {"answer": "short"}
    assert service.streams[0].closed.wait(5) and service.streams[0].sent < 10_000


def test_only_answers_that_call_the_model_wait_for_its_turn(settings: Settings) -> None:
    """`rag serve` skips the generation queue for these (quotes from a strategy that writes
    nothing), so evidence answers are not held behind a long generation."""
    service = RagService(settings)
    assert not service.needs_model("evidence", "hybrid")
    assert not service.needs_model("evidence", "bm25")
    assert service.needs_model("evidence", "hyde")  # the model writes the passage searched
    assert service.needs_model("evidence", "multi-query")
    assert service.needs_model("both", "similarity") and service.needs_model("generate", "mmr")
    assert service.needs_model()  # the defaults: both, hybrid
    assert service.needs_model("evidence", "bogus")  # an unknown name fails inside the turn
