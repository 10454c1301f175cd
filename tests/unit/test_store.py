"""Ingest, re-ingest, replace, delete and recovery on a real Chroma (temp dir), small embedder."""

import threading
from dataclasses import replace
from pathlib import Path

import pytest
from filelock import FileLock
from langchain_core.documents import Document

from ingest import pipeline
from rag_app import knowledge
from rag_app.errors import RagError
from rag_app.service import EmptyStoreError, RagService
from rag_app.settings import Settings
from tests.support.embeddings import BagOfWordsEmbeddings
from tests.support.pdfs import COURSE_PAGES, make_pdf


@pytest.fixture
def service(settings: Settings) -> RagService:
    return RagService(settings, embeddings=BagOfWordsEmbeddings())


def test_ingest_then_reingest_adds_nothing(service: RagService, course_pdf: Path) -> None:
    first = service.ingest([course_pdf])
    assert [r.source for r in first.ingested] == ["astronomy.pdf"]
    assert first.pages == 3 and first.chunks >= 3 and not first.failed
    count = service.store.chunks.count()
    assert count == first.chunks

    second = service.ingest([course_pdf])
    assert second.ingested == [] and second.unchanged == ["astronomy.pdf"]
    assert service.store.chunks.count() == count


def test_changed_file_replaces_old_chunks(
    service: RagService, course_pdf: Path, tmp_path: Path
) -> None:
    service.ingest([course_pdf])
    changed = make_pdf(tmp_path / "v2" / "astronomy.pdf", COURSE_PAGES[:2])
    report = service.ingest([changed])
    assert len(report.ingested) == 1
    docs = service.documents()
    assert [(d.source, d.pages) for d in docs] == [("astronomy.pdf", 2)]
    assert service.store.chunks.count() == docs[0].chunks
    assert all("Glasgow" not in s.text for s in service.retrieve("mirror Glasgow", k=10))


def test_delete_removes_every_chunk(
    service: RagService, course_pdf: Path, spanish_pdf: Path
) -> None:
    service.ingest([course_pdf, spanish_pdf])
    kept = service.store.find("biologia.pdf")
    assert kept is not None
    removed = service.delete("astronomy.pdf")
    assert removed > 0
    assert [d.source for d in service.documents()] == ["biologia.pdf"]
    assert service.store.chunks.count() == kept.chunks
    assert all(s.source == "biologia.pdf" for s in service.retrieve("observatory", k=10))
    with pytest.raises(RagError, match="not in the store"):
        service.delete("astronomy.pdf")


def test_failures_are_reported_and_others_go_in(
    service: RagService, course_pdf: Path, tmp_path: Path
) -> None:
    bad = tmp_path / "pdfs" / "broken.pdf"
    bad.write_bytes(b"%PDF-1.4 garbage")
    report = service.ingest([course_pdf, bad, tmp_path / "missing.pdf"])
    assert [r.source for r in report.ingested] == ["astronomy.pdf"]
    assert len(report.failed) == 2
    assert any("broken.pdf" in line for line in report.failed)
    assert any("missing.pdf" in line for line in report.failed)


def test_partial_ingest_is_invisible_and_cleaned_up(service: RagService, course_pdf: Path) -> None:
    service.ingest([course_pdf])
    store = service.store
    record = store.documents()[0]
    # Simulate a crash half-way through another document: pending record, some chunks.
    ghost = replace(record, doc_id="ghost0000000000", source="ghost.pdf")
    store.begin(ghost)
    best = service.retrieve("observatory", k=1)[0].as_document()
    ghosts = [  # many chunks closer to the query than anything real: they must not crowd out
        Document(
            id=f"ghost0000000000-{i:06d}",
            page_content="observatory observatory",
            metadata={"doc_id": ghost.doc_id, "source": "ghost.pdf", "page": 1, "chunk": i},
        )
        for i in range(30)
    ]
    store.add(ghosts, service.embeddings.embed_documents([g.page_content for g in ghosts]))
    assert service.retrieve("observatory", k=1)[0].chunk_id == best.id

    assert [d.source for d in service.documents()] == ["astronomy.pdf"]
    assert all(s.source != "ghost.pdf" for s in service.retrieve("observatory", k=10))

    report = service.ingest([])
    assert any("ghost.pdf" in note for note in report.notes)
    assert store.chunks.count("ghost0000000000") == 0
    assert store.registry.all(status="pending") == []


def test_empty_store_and_empty_question(service: RagService) -> None:
    with pytest.raises(EmptyStoreError):
        service.retrieve("anything")
    with pytest.raises(RagError, match="empty"):
        service.retrieve("   ")


def test_store_remembers_its_embedder(settings: Settings, course_pdf: Path) -> None:
    RagService(settings, embeddings=BagOfWordsEmbeddings()).ingest([course_pdf])
    other = settings.model_copy(
        update={"embedding": settings.embedding.model_copy(update={"model": "/some/other"})}
    )
    with pytest.raises(RagError, match="built with embedder"):
        RagService(other, embeddings=BagOfWordsEmbeddings()).documents()


def test_same_name_twice_in_one_batch(service: RagService, tmp_path: Path) -> None:
    first = make_pdf(tmp_path / "a" / "notes.pdf", ["First notes about rivers."])
    second = make_pdf(tmp_path / "b" / "notes.pdf", ["Second notes about mountains."])
    report = service.ingest([first, second])
    assert [r.source for r in report.ingested] == ["notes.pdf"]
    assert len(report.failed) == 1 and "another file named notes.pdf" in report.failed[0]
    assert service.ingest([first]).unchanged == ["notes.pdf"]


def test_one_ingest_at_a_time(
    service: RagService, course_pdf: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(knowledge, "INGEST_LOCK_WAIT_S", 1)
    service.settings.data_dir.mkdir(parents=True, exist_ok=True)
    other = FileLock(service.settings.data_dir / "ingest.lock")
    errors: list[Exception] = []

    def run() -> None:
        try:
            service.ingest([course_pdf])
        except RagError as exc:
            errors.append(exc)

    with other:
        worker = threading.Thread(target=run)
        worker.start()
        worker.join(timeout=30)
    assert errors and "another ingest" in str(errors[0])
    assert service.ingest([course_pdf]).ingested  # once the other one is done, it goes in


def test_text_documents_go_through_the_same_pipeline(service: RagService) -> None:
    pages = ["First page about rivers.", "Second page about the Kestrel bridge."]
    report = service.ingest_texts([("corpus-doc-1", pages)])
    assert [(r.source, r.pages, r.path) for r in report.ingested] == [("corpus-doc-1", 2, "")]
    hit = service.retrieve("Kestrel bridge", k=1)[0]
    assert (hit.source, hit.page) == ("corpus-doc-1", 2)
    assert service.ingest_texts([("corpus-doc-1", pages)]).unchanged == ["corpus-doc-1"]
    assert service.page_image("corpus-doc-1", 1) is None  # no file to render


def test_registry_changes_by_another_writer_are_seen_at_once(
    settings: Settings, course_pdf: Path
) -> None:
    """Readers cache the registry (pending ids, size) until its version moves: a document
    another process begins stays invisible, and turns visible the moment it is committed."""
    writer = RagService(settings, embeddings=BagOfWordsEmbeddings())
    reader = RagService(settings, embeddings=BagOfWordsEmbeddings())
    with pytest.raises(EmptyStoreError):
        reader.retrieve("observatory")
    writer.ingest([course_pdf])
    assert reader.retrieve("observatory", k=1)

    record = replace(writer.store.documents()[0], doc_id="late000000000000", source="late.pdf")
    writer.store.begin(record)
    late = Document(
        id="late000000000000-000000",
        page_content="observatory observatory",
        metadata={"doc_id": record.doc_id, "source": "late.pdf", "page": 1, "chunk": 0},
    )
    writer.store.add([late], writer.embeddings.embed_documents([late.page_content]))
    for strategy in ("similarity", "bm25", "hybrid"):
        found = reader.retrieve("observatory", k=10, strategy=strategy)
        assert all(s.source != "late.pdf" for s in found)

    writer.store.commit(record, previous={})
    assert reader.retrieve("observatory", k=1, strategy="hybrid")[0].source == "late.pdf"
    writer.delete("late.pdf")
    assert all(s.source != "late.pdf" for s in reader.retrieve("observatory", k=10))


def test_chunks_are_embedded_once_shortest_first_after_every_document_is_searchable(
    settings: Settings,
) -> None:
    """Every document is staged (ready, searchable by keywords) before the first embedding;
    then embedding goes a batch at a time (progress after each), shortest chunk first within
    a window of batches spanning documents."""
    settings.embedding.batch_size = 2
    calls: list[tuple[list[str], list[str]]] = []  # (texts, ready documents at that time)

    class Recording(BagOfWordsEmbeddings):
        def embed_documents(self, texts: list[str]) -> list[list[float]]:
            calls.append((list(texts), [d.source for d in service.documents()]))
            return super().embed_documents(texts)

    service = RagService(settings, embeddings=Recording())
    words = "rivers carry sediment to the sea and shape the valleys they cross. "
    texts = [
        (f"doc{n}", [f"Document {n}, page {p}: " + words * (1 + (n * 7 + p) % 9) for p in range(4)])
        for n in range(6)
    ]
    seen: dict[str, list[int]] = {}
    report = service.ingest_texts(
        texts, lambda stage, done, total, name: seen.setdefault(stage, []).append(done)
    )

    chunks = sorted(c.page_content for c in service.store.chunks.all_chunks())
    assert sorted(t for batch, _ in calls for t in batch) == chunks  # each chunk once
    assert all(len(batch) <= 2 for batch, _ in calls)
    window = pipeline.BATCHES_PER_WINDOW  # embed calls per window
    assert len(chunks) > 2 * pipeline.BATCHES_PER_WINDOW  # more than one window
    for first in range(0, len(calls), window):
        lengths = [len(t) for batch, _ in calls[first : first + window] for t in batch]
        assert lengths == sorted(lengths)
    assert calls[0][1] == [f"doc{n}" for n in range(6)]  # all ready before the first batch
    assert list(seen) == ["index", "embed"]  # texts: nothing to parse
    assert all(done == sorted(done) for done in seen.values())
    assert seen["embed"][-1] == len(chunks) and seen["index"][-1] == 6
    assert len(report.ingested) == 6 and report.waiting == 0
    assert service.store.queue.count() == 0 and service.indexing().done


def test_a_changed_file_reuses_the_vectors_of_its_unchanged_chunks(settings: Settings) -> None:
    """Editing one page re-embeds that page's chunks only; a text repeated in a run is
    embedded once; what is stored is the same as embedding everything again."""
    embedded: list[str] = []

    class Recording(BagOfWordsEmbeddings):
        def embed_documents(self, texts: list[str]) -> list[list[float]]:
            embedded.extend(texts)
            return super().embed_documents(texts)

    service = RagService(settings, embeddings=Recording())
    pages = [f"Chapter {n}: the river delta of region {n} floods every spring." for n in range(6)]
    service.ingest_texts([("notes", pages + ["This page is intentionally blank."] * 2)])
    assert embedded.count("This page is intentionally blank.") == 1
    embedded.clear()

    edited = [*pages[:3], "Chapter 3: rewritten, the delta moved east.", *pages[4:]]
    report = service.ingest_texts([("notes", edited)])
    assert embedded == ["Chapter 3: rewritten, the delta moved east."]
    assert report.reused == 5 and report.ingested[0].chunks == 6
    stored = service.store.chunks
    assert stored.count() == 6
    doc_id = report.ingested[0].doc_id
    fresh = BagOfWordsEmbeddings()
    for text, vector in stored.vectors_by_text(doc_id).items():
        assert vector == pytest.approx(fresh.embed_query(text), abs=1e-6)
    hit = service.retrieve("delta moved east", k=1)[0]
    assert hit.page == 4 and hit.source == "notes"
