"""Fault injection: `rag ingest` killed with SIGKILL at several points, then rerun; two ingests
at once; a question asked while an ingest runs. Real processes, real Chroma, real models.
(The background embedding killed and resumed: test_background_embedding.py.)"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from chromadb.api.client import SharedSystemClient

from ingest.loaders import load_pdf
from ingest.splitter import split_document
from rag_app.service import RagService
from rag_app.settings import Settings, load_settings
from tests.support.cli import Run
from tests.support.pdfs import COURSE_PAGES, TOPIC_FILES, TOPICS, make_pdf, topic_pages

pytestmark = pytest.mark.slow


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    folder = tmp_path / "corpus"
    for topic in TOPICS:
        make_pdf(folder / f"{topic}.pdf", topic_pages(topic))
    return folder


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("RAG_")}
    # Small batches (windows of 8 x 2 chunks): many commits, so kills land between and inside
    # documents.
    return {
        **clean,
        "RAG_DATA_DIR": str(tmp_path / "data"),
        "RAG_EMBEDDING__BATCH_SIZE": "2",
        "RAG_LLM__MAX_TOKENS": "48",
    }


@pytest.fixture
def open_service(real_models: tuple[object, object]) -> Iterator[object]:
    """A fresh in-process view of a data dir (Chroma's client cache cleared around it, since
    other processes write to the same files between looks)."""

    def open_(data_dir: Path) -> RagService:
        SharedSystemClient.clear_system_cache()
        embeddings, chat = real_models
        return RagService(
            load_settings(data_dir=data_dir),
            embeddings=embeddings,  # type: ignore[arg-type]
            chat_model=chat,  # type: ignore[arg-type]
        )

    yield open_
    SharedSystemClient.clear_system_cache()


def expected_chunks(corpus: Path, settings: Settings) -> dict[str, int]:
    size, overlap = settings.chunking.chunk_size, settings.chunking.chunk_overlap
    return {
        p.name: len(split_document(load_pdf(p), size, overlap)) for p in sorted(corpus.iterdir())
    }


def assert_queries_see_only_ready(service: RagService) -> None:
    ready = {d.doc_id for d in service.documents()}
    if not ready:
        return
    for question in ["survey of rivers year", "glaciers measured site", "team units value"]:
        for strategy in ("similarity", "bm25", "hybrid"):
            for source in service.retrieve(question, k=10, strategy=strategy):
                assert source.chunk_id.split("-")[0] in ready, (strategy, source.chunk_id)


def test_kill_at_several_points_then_rerun(
    corpus: Path, env: dict[str, str], tmp_path: Path, open_service: object
) -> None:
    data_dir = tmp_path / "data"
    expected = expected_chunks(corpus, load_settings(data_dir=data_dir))
    # Kill points: while reading; at the first embedding line; late in the embedding.
    for pattern in [r"^Reading", r"^Embedding", r"^Embedding .*\(([5-9])0%\)"]:
        run = Run("ingest", str(corpus), env=env)
        run.wait_for(pattern)
        run.kill()
        service = open_service(data_dir)  # type: ignore[operator]
        for record in service.documents():  # whatever is ready is complete (every chunk
            # embedded, or searchable by keywords while it waits for its vector)...
            have = service.store.chunks.count(record.doc_id)
            assert have + service.store.queue.count(record.doc_id) == expected[record.source]
        assert_queries_see_only_ready(service)  # ...and nothing else is visible
        found = service.check()  # the killed process's lock did not outlive it
        assert all(
            "left pending" in p or "keyword index" in p or "still wait for it" in p
            for p in found.problems
        ), found.problems

    code, out, err = Run("ingest", str(corpus), env=env).finish()
    assert code == 0, err
    assert "Failed: 0" in out
    service = open_service(data_dir)  # type: ignore[operator]
    records = service.documents()
    assert sorted(r.source for r in records) == sorted(expected)  # each once
    assert {r.source: r.chunks for r in records} == expected
    total = sum(expected.values())
    assert service.store.chunks.count() == total == service.store.keyword.count()
    assert service.store.registry.all(status="pending") == []
    assert service.check().ok
    hit = service.retrieve("volcanoes survey year 1916 site VOL-23", k=3)[0]
    assert hit.source == "volcanoes.pdf"

    again = Run("ingest", str(corpus), "--json", env=env).finish()
    assert again[0] == 0 and len(json.loads(again[1])["unchanged"]) == len(TOPICS)


def test_two_ingests_and_a_question_at_once(
    corpus: Path, env: dict[str, str], tmp_path: Path, open_service: object
) -> None:
    data_dir = tmp_path / "data"
    course = make_pdf(tmp_path / "course" / "astronomy.pdf", COURSE_PAGES)
    first = open_service(data_dir)  # type: ignore[operator]
    assert first.ingest([course]).ingested
    SharedSystemClient.clear_system_cache()

    other = tmp_path / "other"
    for topic in ["canyons", "lagoons"]:
        make_pdf(other / f"{topic}.pdf", topic_pages(topic, 4))
    one = Run("ingest", str(corpus), env=env)
    two = Run("ingest", str(other), env=env)
    # Whichever takes the embed lock first embeds both's chunks; the other waits for it.
    one.wait_for(r"^Indexing")
    asked = Run("ask", "How wide is the mirror of the main telescope?", "--json", env=env)
    code, out, err = asked.finish()
    assert code == 0, err
    answer = json.loads(out)
    assert answer["answer"] and ("astronomy.pdf", 3) in [
        (s["source"], s["page"]) for s in answer["sources"]
    ]
    assert one.finish()[0] == 0 and two.finish()[0] == 0

    service = open_service(data_dir)  # type: ignore[operator]
    names = sorted(r.source for r in service.documents())
    assert names == sorted(["astronomy.pdf", "canyons.pdf", "lagoons.pdf", *TOPIC_FILES])
    assert service.check().ok
