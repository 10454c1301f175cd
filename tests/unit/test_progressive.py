"""Progressive indexing on a real Chroma (temp dir), small embedder: documents searchable by
keywords once staged, answers that say the meaning index is still being built, an embedding
that resumes where it stopped, and one that never writes back a document deleted meanwhile."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from langchain_core.documents import Document

from ingest.pipeline import Embedder
from rag_app.indexing import BackgroundEmbedding, Questions
from rag_app.service import RagService
from rag_app.settings import Settings
from tests.support.embeddings import BagOfWordsEmbeddings
from tests.support.pdfs import COURSE_PAGES, make_pdf, topic_pages

QUESTION = "How wide is the mirror of the main telescope?"


class Recording(BagOfWordsEmbeddings):
    """Remembers every text it embeds; fails once ``fail_after`` batches are done."""

    def __init__(self, fail_after: int | None = None) -> None:
        super().__init__()
        self.texts: list[str] = []
        self.fail_after = fail_after

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        if self.fail_after is not None and self.fail_after <= 0:
            raise RuntimeError("killed")
        if self.fail_after is not None:
            self.fail_after -= 1
        self.texts.extend(texts)
        return super().embed_documents(texts)


def stored(service: RagService) -> dict[str, tuple[str, str, list[float]]]:
    """Every chunk with its text, document and vector: what a clean ingest must equal."""
    chunks = {str(c.id): c for c in service.store.chunks.all_chunks()}
    vectors = service.store.chunks.vectors(list(chunks))
    return {
        i: (c.page_content, str(c.metadata["doc_id"]), [round(x, 6) for x in vectors[i]])
        for i, c in chunks.items()
    }


def test_a_staged_document_is_searchable_by_keywords_and_answers_say_so(
    settings: Settings, course_pdf: Path
) -> None:
    # The measured bar is the bundled embedder's; the word-count one scores on its own scale.
    settings.answer.evidence_threshold = settings.answer.evidence_floor = 0.1
    service = RagService(settings, embeddings=BagOfWordsEmbeddings())
    report = service.stage([course_pdf])
    assert report.waiting == report.chunks > 0 and service.store.chunks.count() == 0
    assert [r.source for r in service.documents()] == ["astronomy.pdf"]  # listed, ready
    built = service.indexing(by_document=True)
    assert (built.waiting, built.share, built.done) == (report.chunks, 0.0, False)
    assert built.by_document == {report.ingested[0].doc_id: report.chunks}

    assert service.retrieve(QUESTION, strategy="similarity") == []  # no vector yet
    for strategy in ("bm25", "hybrid"):
        found = service.retrieve(QUESTION, k=2, strategy=strategy)
        assert (found[0].source, found[0].page) == ("astronomy.pdf", 3), strategy
        assert found[0].score > 0  # its cosine, from its text embedded for this question

    answer = service.ask(QUESTION, mode="evidence")  # evidence from keyword-only passages
    assert any("2.4 metres" in e.text for e in answer.evidence)
    assert answer.trace.meaning_indexed == 0.0
    assert answer.note is not None and answer.note.startswith("Still indexing: 0%")
    assert answer.to_dict()["note"] == answer.note
    assert answer.to_dict()["trace"]["meaning_indexed"] == 0.0
    spanish = service.ask("¿Cuánto mide el espejo del telescopio?", mode="evidence")
    assert spanish.note is not None and spanish.note.startswith("Aún indexando: 0%")

    assert service.embed_waiting() == report.chunks
    assert service.indexing().done and service.store.queue.count() == 0
    assert service.store.chunks.count() == report.chunks == service.store.keyword.count()
    after = service.ask(QUESTION, mode="evidence")
    assert [e.text for e in after.evidence] == [e.text for e in answer.evidence]
    assert after.note is None and "note" in after.to_dict() and after.to_dict()["note"] is None
    assert "meaning_indexed" not in after.to_dict()["trace"]
    assert service.retrieve(QUESTION, k=1, strategy="similarity")[0].page == 3
    assert service.check().ok


def test_an_interrupted_embedding_resumes_with_only_the_missing_chunks(
    settings: Settings, tmp_path: Path
) -> None:
    settings.embedding.batch_size = 2
    files = [make_pdf(tmp_path / "in" / f"{t}.pdf", topic_pages(t)) for t in ("rivers", "dunes")]
    clean = RagService(settings.model_copy(update={"data_dir": tmp_path / "clean"}),
                       embeddings=Recording())  # fmt: skip
    clean.ingest(files)

    first = Recording(fail_after=3)
    service = RagService(settings, embeddings=first)
    report = service.stage(files)
    with pytest.raises(RuntimeError, match="killed"):
        service.embed_waiting()
    assert len(first.texts) == 6  # three batches of two, written as they were embedded
    assert service.store.chunks.count() == 6
    assert service.store.queue.count() == report.chunks - 6
    assert service.check().ok  # nothing half-written: a batch is in one place or the other

    second = Recording()
    resumed = RagService(settings, embeddings=second)
    assert resumed.embed_waiting() == report.chunks - 6
    assert not set(second.texts) & set(first.texts)  # nothing embedded twice
    assert len(second.texts) == report.chunks - 6
    assert stored(resumed) == stored(clean)  # the same as a clean ingest
    assert resumed.check().ok and resumed.indexing().done


def test_a_chunk_both_embedded_and_queued_is_settled(settings: Settings, course_pdf: Path) -> None:
    """A run killed between the two writes of a batch leaves it in both places: the check
    names it, the next run (or --repair) takes it off the queue, nothing is embedded again."""
    embeddings = Recording()
    service = RagService(settings, embeddings=embeddings)
    service.ingest([course_pdf])
    first = next(iter(service.store.chunks.all_chunks()))
    service.store.queue.add([first])
    problems = service.check().problems
    assert problems == ["1 chunk(s) have their vector and still wait for it in the queue"]
    embedded = len(embeddings.texts)
    report = service.ingest([course_pdf])
    assert "1 chunk(s) embedded by an interrupted run left the queue" in report.notes
    assert service.check().ok and len(embeddings.texts) == embedded

    service.store.queue.add([first])
    repaired = service.check(repair=True)
    assert repaired.ok and "took 1 embedded chunk(s) off the queue" in repaired.repaired


def test_a_document_deleted_while_its_batch_is_embedded_is_not_written_back(
    settings: Settings, course_pdf: Path, tmp_path: Path
) -> None:
    other = make_pdf(tmp_path / "in" / "rivers.pdf", topic_pages("rivers", 2))
    service = RagService(settings, embeddings=BagOfWordsEmbeddings())
    service.stage([course_pdf, other])

    class Deleting(BagOfWordsEmbeddings):
        def embed_documents(self, texts: list[str]) -> list[list[float]]:
            if service.store.find("astronomy.pdf") is not None:
                service.delete("astronomy.pdf")  # between the queue read and the write
            return super().embed_documents(texts)

    Embedder(service.store, Deleting(), batch_size=64).run()
    assert [r.source for r in service.documents()] == ["rivers.pdf"]
    owners = set(service.store.chunks.owners().values())
    assert owners == {service.documents()[0].doc_id}  # no orphan of the deleted document
    assert service.store.queue.count() == 0 and service.check().ok


def test_a_changed_file_staged_while_waiting_replaces_the_queued_version(
    settings: Settings, tmp_path: Path
) -> None:
    path = make_pdf(tmp_path / "in" / "notes.pdf", COURSE_PAGES)
    service = RagService(settings, embeddings=BagOfWordsEmbeddings())
    service.stage([path])
    make_pdf(path, [*COURSE_PAGES, "Appendix. The dome was rebuilt in 1990."])
    report = service.stage([path])
    assert [r.source for r in report.ingested] == ["notes.pdf"]
    (record,) = service.documents()
    assert set(service.store.queue.owners().values()) == {record.doc_id}
    assert service.store.queue.count() == record.chunks
    service.embed_waiting()
    assert service.store.chunks.count() == record.chunks and service.check().ok


def test_the_embedding_waits_while_a_question_is_answered() -> None:
    questions = Questions()
    order: list[str] = []
    asked = threading.Event()

    def embed() -> None:
        asked.wait(5)
        questions.wait_idle(most_s=5)
        order.append("batch")

    with questions.answering():
        worker = threading.Thread(target=embed)
        worker.start()
        asked.set()
        time.sleep(0.3)
        order.append("answered")
    worker.join(5)
    assert order == ["answered", "batch"]
    started = time.monotonic()
    with questions.answering():
        questions.wait_idle(most_s=0.2)  # never longer than the bound
    assert time.monotonic() - started < 2


def test_a_job_poked_while_it_runs_runs_once_more() -> None:
    """Documents staged while the embedding thread finishes its last round are not left
    waiting: a poke during a round makes one more."""
    background = BackgroundEmbedding()
    rounds: list[int] = []
    release = threading.Event()

    def embed() -> None:
        rounds.append(len(rounds))
        if len(rounds) == 1:
            release.wait(5)

    job = background.start("kb", embed)
    time.sleep(0.1)
    assert job.running
    background.start("kb", embed)  # staged meanwhile
    release.set()
    background.wait("kb", timeout_s=5)
    assert rounds == [0, 1] and not job.running and job.error is None

    def failing() -> None:
        raise RuntimeError("disk full\nmore")

    failed = background.start("other", failing)
    background.wait("other", timeout_s=5)
    assert failed.error == "disk full"


def test_background_ingest_returns_searchable_and_embeds_in_a_thread(
    settings: Settings, course_pdf: Path
) -> None:
    service = RagService(settings, embeddings=BagOfWordsEmbeddings())
    report = service.ingest([course_pdf], background=True)
    assert report.ingested and service.retrieve(QUESTION, k=1, strategy="bm25")
    deadline = time.monotonic() + 30
    while not service.indexing().done:
        assert time.monotonic() < deadline, "the background embedding never finished"
        time.sleep(0.05)
    assert service.store.chunks.count() == report.chunks and service.check().ok
    assert service.background_error() is None


def test_a_doc_list_shows_what_waits(settings: Settings, course_pdf: Path) -> None:
    service = RagService(settings, embeddings=BagOfWordsEmbeddings())
    report = service.stage([course_pdf])
    (listed,) = service.document_dicts()
    assert listed["waiting_vectors"] == report.chunks == listed["chunks"]
    service.embed_waiting()
    assert service.document_dicts()[0]["waiting_vectors"] == 0


def test_reused_vectors_go_straight_to_the_index(settings: Settings, tmp_path: Path) -> None:
    """An edited file: its unchanged chunks keep their vectors at once (never queued), so the
    meaning index only waits for the new text."""
    path = make_pdf(tmp_path / "in" / "notes.pdf", topic_pages("rivers", 3))
    service = RagService(settings, embeddings=BagOfWordsEmbeddings())
    service.ingest([path])
    make_pdf(path, [*topic_pages("rivers", 3), "Appendix. The delta moved in 1990."])
    report = service.stage([path])
    assert report.reused > 0
    assert service.store.queue.count() == report.chunks - report.reused
    docs = service.store.queue.first(10)
    assert all(isinstance(d, Document) and "Appendix" in d.page_content for d in docs)
