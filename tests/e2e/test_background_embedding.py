"""Progressive indexing with real processes, real Chroma and the real embedder: `rag ingest
--background` returns once the files are searchable by keywords, a question asked at once is
answered from them (with the note), and the background embedding killed with SIGKILL at three
points resumes, after a restart, with only the chunks still missing: the store then equals a
clean ingest."""

from __future__ import annotations

import json
import math
import os
import re
import signal
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from chromadb.api.client import SharedSystemClient

from rag_app.service import RagService
from rag_app.settings import load_settings
from tests.support.cli import Run, rag
from tests.support.embeddings import Counting
from tests.support.pdfs import TOPICS, make_pdf, topic_pages

OpenService = Callable[[Path], RagService]


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    folder = tmp_path / "corpus"
    for topic in TOPICS[:4]:
        make_pdf(folder / f"{topic}.pdf", topic_pages(topic, 4))
    return folder


@pytest.fixture
def open_service(real_models: tuple[object, object]) -> OpenService:
    def open_(data_dir: Path) -> RagService:
        SharedSystemClient.clear_system_cache()  # other processes write between looks
        embeddings, _ = real_models
        return RagService(load_settings(data_dir=data_dir), embeddings=embeddings)  # type: ignore[arg-type]

    return open_


def snapshot(service: RagService) -> dict[str, tuple[str, str, list[float]]]:
    chunks = {str(c.id): c for c in service.store.chunks.all_chunks()}
    vectors = service.store.chunks.vectors(list(chunks))
    return {i: (c.page_content, str(c.metadata["doc_id"]), vectors[i]) for i, c in chunks.items()}


def same_store(got: dict[str, tuple[str, str, list[float]]],
               clean: dict[str, tuple[str, str, list[float]]]) -> None:  # fmt: skip
    assert sorted(got) == sorted(clean)  # the same chunks, each once
    for chunk_id, (text, doc_id, vector) in clean.items():
        assert got[chunk_id][:2] == (text, doc_id)
        cosine = sum(a * b for a, b in zip(got[chunk_id][2], vector, strict=True))
        assert math.isclose(cosine, 1.0, abs_tol=1e-4), chunk_id  # batches pad differently


def embedder_pid(stderr: str) -> int:
    found = re.search(r"by process (\d+)", stderr)
    assert found, stderr
    return int(found.group(1))


def wait_for_share(log: Path, share: float, total: int, pid: int, timeout: float = 300) -> None:
    """Until the embedder's log says ``share`` of all ``total`` chunks have their vectors (its
    progress lines count what this run embedded of what it found waiting)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        text = log.read_text(errors="replace") if log.exists() else ""
        for done, waiting in re.findall(r"^Embedding (\d+)/(\d+)", text, re.MULTILINE):
            if total - int(waiting) + int(done) >= share * total and done != waiting:
                return
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            raise AssertionError(f"the embedder ended before {share:.0%}: {text}") from None
        time.sleep(0.02)
    raise AssertionError(f"never {share:.0%} in {log}")


def kill(pid: int) -> None:
    os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        try:  # our grandchild: reaped by init, or a zombie until then
            if Path(f"/proc/{pid}/status").read_text().find("State:\tZ") >= 0:
                return
        except OSError:
            return
        time.sleep(0.05)


def test_ask_at_once_then_kill_the_embedding_at_three_points_and_resume(
    corpus: Path, env: dict[str, str], tmp_path: Path, open_service: OpenService
) -> None:
    data_dir = tmp_path / "data"
    clean = open_service(tmp_path / "clean")
    clean.ingest([corpus])
    expected = {r.source: r.chunks for r in clean.documents()}
    total = sum(expected.values())
    reference = snapshot(clean)
    env = {**env, "RAG_EMBEDDING__BATCH_SIZE": "1"}  # many small batches: room to kill
    log = data_dir / "embed-documents.log"

    staged = rag("ingest", "--background", str(corpus), env=env)
    assert staged.returncode == 0, staged.stderr
    assert "searchable by keywords now" in staged.stderr
    pid = embedder_pid(staged.stderr)

    asked = rag("ask", "glaciers survey year 1916 site GLA-23", "--mode", "evidence", "--json",
                env=env)  # fmt: skip
    assert asked.returncode == 0, asked.stderr
    answer = json.loads(asked.stdout)
    assert "glaciers.pdf" in {s["source"] for s in answer["sources"]}
    assert answer["note"] and answer["note"].startswith("Still indexing: ")
    assert 0 <= answer["trace"]["meaning_indexed"] < 1

    # Kill points: early, half way, late (of all the chunks; each restarted embedder logs its
    # progress at every tenth of what it found waiting).
    for share in (0.1, 0.4, 0.7):
        wait_for_share(log, share, total, pid)
        kill(pid)
        service = open_service(data_dir)
        records = service.documents()
        assert {r.source: r.chunks for r in records} == expected  # all listed, each once
        for record in records:  # each whole: every chunk embedded or still waiting
            have = service.store.chunks.count(record.doc_id)
            assert have + service.store.queue.count(record.doc_id) == record.chunks
        waiting = service.indexing().waiting
        assert 0 < waiting < total
        # A kill between a batch's two writes leaves it in both places (settled on resume).
        problems = service.check().problems
        assert all("still wait for it in the queue" in p for p in problems), problems
        both = sum(int(p.split()[0]) for p in problems)
        if share < 0.7:  # restart the background embedding, as an app would
            log.unlink()
            again = rag("ingest", "--background", str(corpus), env=env)
            assert again.returncode == 0, again.stderr
            assert json.loads(rag("docs", "--json", env=env).stdout)  # readable meanwhile
            pid = embedder_pid(again.stderr)

    resumed = rag("docs", "embed", env=env)  # the restart: only what is missing
    assert resumed.returncode == 0, resumed.stderr
    done = int(re.search(r"Embedded (\d+) chunk", resumed.stdout).group(1))  # type: ignore[union-attr]
    assert done == waiting - both  # only what was missing, nothing twice

    service = open_service(data_dir)
    assert service.indexing().done and service.check().ok
    assert service.store.keyword.count() == total
    same_store(snapshot(service), reference)
    after = json.loads(rag("ask", "glaciers survey year 1916 site GLA-23", "--mode", "evidence",
                           "--json", env=env).stdout)  # fmt: skip
    assert after["note"] is None and "meaning_indexed" not in after["trace"]


def test_an_app_and_the_cli_adding_at_once_embed_every_chunk_once(
    tmp_path: Path, env: dict[str, str], real_models: tuple[object, object]
) -> None:
    """An app (the UI's or the API's process: embedding in its own thread) and `rag ingest`
    add files to one data dir at the same time: one embedder at a time takes whatever waits,
    so the two counts of embedded chunks add up to the chunks stored, each once."""
    counting = Counting(real_models[0])  # type: ignore[arg-type]
    ours, theirs = tmp_path / "ours", tmp_path / "theirs"
    for topic in ("rivers", "glaciers"):
        make_pdf(ours / f"{topic}.pdf", topic_pages(topic, 4))
    for topic in ("deserts", "forests"):
        make_pdf(theirs / f"{topic}.pdf", topic_pages(topic, 4))
    env = {**env, "RAG_EMBEDDING__BATCH_SIZE": "2"}
    SharedSystemClient.clear_system_cache()
    app = RagService(load_settings(data_dir=tmp_path / "data"), embeddings=counting)
    cli = Run("ingest", str(theirs), "--json", env=env)
    app.ingest([ours], background=True)
    code, out, err = cli.finish()
    assert code == 0, err
    report = json.loads(out)
    deadline = time.monotonic() + 300
    while not app.indexing().done:
        assert time.monotonic() < deadline and app.background_error() is None
        time.sleep(0.1)
    records = app.documents()
    assert sorted(r.source for r in records) == [
        "deserts.pdf", "forests.pdf", "glaciers.pdf", "rivers.pdf"
    ]  # fmt: skip
    total = sum(r.chunks for r in records)
    assert counting.embedded + report["embedded_vectors"] == total  # each chunk once
    assert app.store.chunks.count() == total and app.check().ok
