"""BM25 over the chunks: tokenization, and staying in step with Chroma through every change."""

import sqlite3
from pathlib import Path

import pytest
from langchain_core.documents import Document

from rag_app.service import RagService
from rag_app.settings import Settings
from rag_app.text.language import SEARCH, tokenize
from tests.support.embeddings import BagOfWordsEmbeddings
from tests.support.pdfs import make_pdf
from vectorstore.keyword import KeywordIndex, _parts


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


def _chunk(doc_id: str, index: int, page: int, text: str) -> Document:
    return Document(
        id=f"{doc_id}-{index:06d}",
        page_content=text,
        metadata={"doc_id": doc_id, "page": page, "source": f"{doc_id}.pdf"},
    )


def test_page_search_scores_a_page_by_all_its_chunks(tmp_path: Path) -> None:
    index = KeywordIndex(tmp_path / "keywords.sqlite", SEARCH)
    index.add(
        [
            # page 1 of "a": the title in one chunk, the finding in the next
            _chunk("a", 0, 1, "Vitamin D deficiency and bone density in older adults."),
            _chunk("a", 1, 1, "Fracture rates fell after supplementation in the cohort."),
            _chunk("a", 2, 2, "Funding and acknowledgements."),
            # "b" mentions one of the words, in a single short chunk
            _chunk("b", 0, 1, "Fracture fracture healing in athletes."),
        ]
    )
    assert index.search("fracture", 5)
    assert list(index._built) == [False]  # the page model waits for a page search
    pages = index.search_pages("vitamin D supplementation fracture", 5)
    assert pages[0][0] == ["a-000000", "a-000001"]  # the page, as its chunks in order
    assert ["a-000002"] not in [chunks for chunks, _ in pages]  # the other page has no word
    assert index.search_pages("vitamin", 5, excluded=["a"]) == []
    assert [c for c, _ in index.search_pages("fracture", 5, only=["b"])] == [["b-000000"]]
    index.close()


def test_page_match_is_strong_for_a_page_with_the_questions_rare_words(tmp_path: Path) -> None:
    index = KeywordIndex(tmp_path / "keywords.sqlite", SEARCH)
    index.add(
        [
            _chunk("a", 0, 1, "Vitamin D supplementation lowered fracture rates in older adults."),
            _chunk("b", 0, 1, "The study enrolled older adults in two cities."),
            _chunk("c", 0, 1, "Older adults walked more in the summer."),
            _chunk("d", 0, 1, "Rainfall in the cities was measured daily."),
        ]
    )
    on_topic = index.page_match("Did vitamin D supplementation lower fracture rates?")
    off_topic = index.page_match("How many older adults play chess?")  # only common words
    assert on_topic > 2 * off_topic > 0
    assert index.page_match("penguins of Antarctica") == 0.0  # no word of it anywhere
    assert index.page_match("vitamin fracture", excluded=["a"]) == 0.0
    assert index.page_match("vitamin fracture", only=["a"]) == index.page_match("vitamin fracture")
    index.close()


SPANISH_NOTES = [
    "El modelo GPT-3 tiene 96 capas de transformador y 175 mil millones de parámetros.",
    "La atención permite que cada palabra del texto mire a las demás palabras de la frase.",
    "El entrenamiento del modelo usa textos de libros, de la web y de la enciclopedia.",
]


def test_a_words_weight_is_counted_among_the_pages_of_its_language(tmp_path: Path) -> None:
    """A few Spanish pages beside many English ones: the Spanish question's page match and
    ranking are those of the Spanish pages alone (its words are not rare just because most
    pages are in English), while the English pages keep theirs."""
    spanish = [_chunk(f"es{i}", 0, 1, text) for i, text in enumerate(SPANISH_NOTES)]
    english = [
        _chunk(f"en{i}", 0, 1, f"Report {i}: the field trial measured crop yield and soil water.")
        for i in range(40)
    ]
    alone, mixed = (
        KeywordIndex(tmp_path / "alone.sqlite", SEARCH),
        KeywordIndex(tmp_path / "mixed.sqlite", SEARCH),
    )
    alone.add(spanish)
    mixed.add(spanish + english)
    for question in ("¿Cuántas capas tiene el modelo?", "¿Qué textos usa el entrenamiento?"):
        assert mixed.page_match(question) == pytest.approx(alone.page_match(question))
        assert mixed.search(question, 3) == alone.search(question, 3)
    english_only = KeywordIndex(tmp_path / "english.sqlite", SEARCH)
    english_only.add(english)
    assert mixed.page_match("How was soil water measured?") == pytest.approx(
        english_only.page_match("How was soil water measured?")
    )
    for index in (alone, mixed, english_only):
        index.close()


@pytest.mark.parametrize(
    ("column", "lacking"), [("page", "page search"), ("language", "per-language weights")]
)
def test_an_index_from_an_earlier_version_is_rebuilt(
    settings: Settings, course_pdf: Path, column: str, lacking: str
) -> None:
    first = RagService(settings, embeddings=BagOfWordsEmbeddings())
    first.ingest([course_pdf])
    db = first.store.keyword.path
    first.store.keyword.close()
    with sqlite3.connect(db) as old:  # what an earlier version wrote: no such column
        old.execute(f"ALTER TABLE chunks DROP COLUMN {column}")

    again = RagService(settings, embeddings=BagOfWordsEmbeddings())
    assert f"predates {lacking}" in (again.store.sync_keyword() or "")
    found = again.store.page_hits("Brindlemoor", 3)
    chunks = again.store.chunk_documents([chunk_id for chunk_id, _ in found])
    assert found and {doc.metadata["page"] for doc in chunks.values()} == {2}
    assert again.store.keyword.count() == again.store.chunks.count()


def test_a_chunk_in_the_other_language_stays_with_its_document() -> None:
    rows = [  # (id, doc_id, tokens, page, detected language)
        ("a-0", "a", "capa transformador", 1, "es"),
        ("a-1", "a", "model layer", 1, "en"),  # an English quote in Spanish notes
        ("a-2", "a", "parametr", 2, "es"),
        ("b-0", "b", "soil water", 1, "en"),
    ]
    chunks = _parts(rows, pages=False)
    assert sorted(sorted(c[0] for c in part.chunks) for part in chunks) == [
        ["a-0", "a-1", "a-2"],
        ["b-0"],
    ]
    assert sorted(part.chunks for part in _parts(rows, pages=True)) == [
        [["a-0", "a-1"], ["a-2"]],
        [["b-0"]],
    ]
