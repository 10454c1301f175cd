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
from tests.e2e.test_crash_safety import TOPICS, topic_pages
from tests.support.cli import rag
from tests.support.pdfs import make_pdf

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


def wait_for_log(log: Path, pattern: str, pid: int, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if log.exists() and re.search(pattern, log.read_text(errors="replace"), re.MULTILINE):
            return
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            raise AssertionError(f"the embedder ended before {pattern!r}") from None
        time.sleep(0.02)
    raise AssertionError(f"no {pattern!r} in {log}")


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

    # Kill points: early, half way, late (the log's progress lines, at each tenth).
    for pattern in [r"\(10%\)", r"\(50%\)", r"\(90%\)"]:
        wait_for_log(log, pattern, pid)
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
        if pattern != r"\(90%\)":  # restart the background embedding, as an app would
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
