"""The store on a real Chroma server (`chroma run`, started here) instead of the embedded one."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from rag_app.service import RagService
from rag_app.settings import load_settings
from tests.support.servers import CHROMA, free_port, running


@pytest.fixture(scope="module")
def chroma_port(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    folder = tmp_path_factory.mktemp("chroma-server")
    port = free_port()
    command = [CHROMA, "run", "--path", str(folder / "db"), "--host", "127.0.0.1"]
    heartbeat = f"http://127.0.0.1:{port}/api/v2/heartbeat"
    with running([*command, "--port", str(port)], heartbeat, folder / "server.log"):
        yield port


def server_service(data_dir: Path, port: int, models: tuple) -> RagService:
    settings = load_settings(
        data_dir=data_dir, vectorstore={"host": "127.0.0.1", "port": port}, llm={"temperature": 0}
    )
    embeddings, chat = models
    return RagService(settings, embeddings=embeddings, chat_model=chat)


@pytest.mark.slow
def test_ingest_ask_list_delete_on_server(
    chroma_port: int, real_models: tuple, course_pdf: Path, tmp_path: Path
) -> None:
    service = server_service(tmp_path / "app-a", chroma_port, real_models)
    report = service.ingest([course_pdf])
    assert [r.source for r in report.ingested] == ["astronomy.pdf"] and not report.failed
    assert [d.source for d in service.documents()] == ["astronomy.pdf"]
    answer = service.ask("How wide is the mirror of the main telescope?")
    assert answer.answer and answer.sources[0].page == 3
    assert service.describe()["vector_store"] == f"server http://127.0.0.1:{chroma_port}"
    # Nothing went into an embedded store; only the keyword index is local, one per server.
    data = tmp_path / "app-a"
    assert not (data / "chroma").exists()
    assert (data / f"chroma-127.0.0.1-{chroma_port}" / "documents_keywords.sqlite3").is_file()

    # Another app instance with an empty data dir sees the same documents, and rebuilds its
    # own keyword index from the server on first search.
    other = server_service(tmp_path / "app-b", chroma_port, real_models)
    assert [d.source for d in other.documents()] == ["astronomy.pdf"]
    found = other.retrieve("Elena Vasquez founded the observatory", strategy="bm25")
    assert found and found[0].page == 2

    assert service.delete("astronomy.pdf") == report.chunks
    assert other.documents() == []
    assert service.store.chunks.count() == 0


@pytest.mark.slow
def test_a_running_instance_sees_another_instances_writes(
    chroma_port: int, real_models: tuple, course_pdf: Path, spanish_pdf: Path, tmp_path: Path
) -> None:
    """Two app instances on one Chroma server, each with its own data dir (as on two machines):
    what one adds, removes or is still writing, the other sees at its next question, keyword
    search included (its local index catches up when the shared change marker moves)."""
    a = server_service(tmp_path / "replica-a", chroma_port, real_models)
    b = server_service(tmp_path / "replica-b", chroma_port, real_models)
    a.ingest([course_pdf])
    assert b.retrieve("Elena Vasquez founded the observatory", strategy="bm25")[0].page == 2

    a.ingest([spanish_pdf])  # b has searched already: its keyword index must catch up
    found = b.retrieve("¿Dónde ocurre la fotosíntesis?", k=3, strategy="bm25")
    assert found and found[0].source == "biologia.pdf"

    record = a.store.find("biologia.pdf")
    assert record is not None
    a.store.begin(record)  # as in the middle of re-writing it: pending for everyone
    assert record.doc_id in b.store.pending()
    assert "biologia.pdf" not in {
        s.source for s in b.retrieve("¿Dónde ocurre la fotosíntesis?", k=5, strategy="hybrid")
    }
    a.store.commit(record, previous={})

    a.delete("biologia.pdf")
    after = b.retrieve("¿Dónde ocurre la fotosíntesis?", k=5, strategy="bm25")
    assert "biologia.pdf" not in {s.source for s in after}
    a.delete("astronomy.pdf")


@pytest.mark.slow
def test_instances_take_turns_to_write_and_a_killed_one_does_not_block(
    chroma_port: int, real_models: tuple, course_pdf: Path, tmp_path: Path
) -> None:
    """Two instances ingesting the same file at once end with one copy; a holder of the
    server's ingest lease that dies (stops renewing) is passed over once its lease lapses."""
    import threading

    from rag_app.components import store_location
    from vectorstore import ingest_lease

    a = server_service(tmp_path / "turns-a", chroma_port, real_models)
    b = server_service(tmp_path / "turns-b", chroma_port, real_models)
    reports = []
    threads = [threading.Thread(target=lambda s=s: reports.append(s.ingest([course_pdf])))
               for s in (a, b)]  # fmt: skip
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(len(r.ingested) for r in reports) == [0, 1]  # one wrote, one found it there
    assert [d.source for d in b.documents()] == ["astronomy.pdf"]
    assert a.store.chunks.count() == a.documents()[0].chunks

    _, server = store_location(a.settings)
    dead = ingest_lease(server, a.settings.collection, ttl_s=2)  # type: ignore[arg-type]
    assert dead.acquire(timeout_s=5)
    dead._stop.set()  # killed: it renews no more, and never releases
    started = time.monotonic()
    assert b.delete("astronomy.pdf") > 0  # deleting needs no lease; ingesting does
    assert b.ingest([course_pdf]).ingested  # waits for the lapse, then writes
    assert time.monotonic() - started >= 1.0
    b.delete("astronomy.pdf")
