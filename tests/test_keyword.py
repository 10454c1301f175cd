"""BM25 over the chunks: tokenization, and staying in step with Chroma through every change."""

from pathlib import Path

import pytest

from rag_app.service import RagService
from rag_app.settings import Settings
from tests.conftest import BagOfWordsEmbeddings
from tests.pdfs import make_pdf
from vectorstore.keyword import tokenize


def test_tokenize_spanish_and_english() -> None:
    assert tokenize("Las fotosíntesis ocurren en los cloroplastos") == [
        "fotosintesis",
        "ocurr",
        "cloroplast",
    ]
    assert tokenize("Photosynthesis happens in the chloroplasts") == [
        "photosynthesi",
        "happen",
        "chloroplast",
    ]
    assert tokenize("la fotosintesis", "es") == tokenize("la fotosíntesis", "es")


@pytest.fixture
def service(settings: Settings) -> RagService:
    return RagService(settings, embeddings=BagOfWordsEmbeddings())


def test_keyword_index_follows_ingest_replace_delete(
    service: RagService, course_pdf: Path, tmp_path: Path
) -> None:
    store = service.store
    service.ingest([course_pdf])
    assert store.keyword.count() == store.chunks.count() > 0
    top = store.keyword_search("Brindlemoor", 3)
    assert top and top[0][0].metadata["page"] == 2

    changed = make_pdf(tmp_path / "v2" / "astronomy.pdf", ["Only the Glasgow mirror now."])
    service.ingest([changed])
    assert store.keyword.count() == store.chunks.count() == 1
    assert store.keyword_search("Brindlemoor", 3) == []

    service.delete("astronomy.pdf")
    assert store.keyword.count() == store.chunks.count() == 0


def test_keyword_index_is_rebuilt_when_missing(
    settings: Settings, course_pdf: Path, spanish_pdf: Path
) -> None:
    first = RagService(settings, embeddings=BagOfWordsEmbeddings())
    first.ingest([course_pdf, spanish_pdf])
    expected = first.store.chunks.count()
    first.store.keyword.close()
    db = first.store.keyword.path
    db.unlink()

    again = RagService(settings, embeddings=BagOfWordsEmbeddings())
    hits = again.store.keyword_search("cloroplastos", 2)
    assert again.store.keyword.count() == expected
    assert hits[0][0].metadata["source"] == "biologia.pdf"
    assert not list(db.parent.glob("*.pkl")) and not list(db.parent.glob("*.pickle"))


def test_keyword_search_never_sees_pending_documents(service: RagService, course_pdf: Path) -> None:
    service.ingest([course_pdf])
    record = service.store.documents()[0]
    service.store.begin(
        record.__class__(**{**record.__dict__, "doc_id": "x" * 16, "source": "b.pdf"})
    )
    assert all(
        doc.metadata["doc_id"] == record.doc_id
        for doc, _ in service.store.keyword_search("observatory", 10)
    )


def test_any_strategy_as_a_langchain_retriever(service: RagService, course_pdf: Path) -> None:
    service.ingest([course_pdf])
    docs = service.as_retriever("bm25", k=2).invoke("Brindlemoor")
    assert docs and (docs[0].metadata["source"], docs[0].metadata["page"]) == ("astronomy.pdf", 2)
    assert 0 < len(docs) <= 2 and "score" in docs[0].metadata
