from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rag_app.cli.bench import bench_app
from rag_app.errors import RagError
from rag_app.evaluation import benchmark
from rag_app.evaluation.benchmark import run_benchmark, score_query
from rag_app.evaluation.corpora import Corpus, Query, load_beir, load_squad
from rag_app.service import RagService
from tests.support.embeddings import BagOfWordsEmbeddings

A, B, C, D = ("a", 0), ("b", 0), ("c", 0), ("d", 0)


# -- metrics ------------------------------------------------------------------------------
def test_perfect_ranking_scores_one() -> None:
    scores = score_query([A, B, C], {A: 1.0, B: 1.0})
    assert scores == {"ndcg@10": 1.0, "recall@5": 1.0, "recall@10": 1.0, "mrr@10": 1.0}


def test_relevant_at_rank_two() -> None:
    scores = score_query([C, A, D], {A: 1.0})
    assert scores["mrr@10"] == 0.5
    assert scores["ndcg@10"] == pytest.approx(1 / math.log2(3))
    assert scores["recall@5"] == 1.0


def test_graded_ndcg() -> None:
    # DCG = 1/log2(2) + 2/log2(3); ideal = 2/log2(2) + 1/log2(3)
    expected = (1 + 2 / math.log2(3)) / (2 + 1 / math.log2(3))
    assert benchmark.ndcg_at([B, A], {A: 2.0, B: 1.0}) == pytest.approx(expected)
    assert benchmark.ndcg_at([C, D], {A: 2.0}) == 0.0


def test_two_chunks_of_one_document_count_once() -> None:
    scores = score_query([A, A, B], {B: 1.0, A: 1.0})
    assert scores["ndcg@10"] == 1.0  # B is the second unit, not the third chunk
    scores = score_query([C, C, C, C, C, C, A], {A: 1.0})
    assert scores["mrr@10"] == 0.5
    assert scores["recall@5"] == 1.0  # within the first 5 units though 7th chunk


def test_recall_cutoffs() -> None:
    ranked = [("x", i) for i in range(1, 7)]
    relevant = {("x", 6): 1.0, ("y", 1): 1.0}
    assert benchmark.recall_at(ranked, relevant, 5) == 0.0
    assert benchmark.recall_at(ranked, relevant, 10) == 0.5


# -- loaders ------------------------------------------------------------------------------
def write_jsonl(path: Path, rows: list[dict[str, object]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")


def make_beir(folder: Path, queries_name: str = "queries_train.jsonl") -> Path:
    write_jsonl(
        folder / "corpus.jsonl",
        [
            {"_id": "d1", "title": "Volcanoes", "text": "Lava erupts from volcanic craters."},
            {"_id": "d2", "title": "Tides", "text": "The moon pulls ocean tides twice daily."},
            {"_id": "d3", "title": "Bees", "text": "Honeybees pollinate orchards and flowers."},
        ],
    )
    write_jsonl(
        folder / queries_name,
        [
            {"_id": "q1", "text": "What erupts from volcanic craters?"},
            {"_id": "q2", "text": "What pulls the ocean tides?"},
            {"_id": "q3", "text": "Unjudged question about bees"},
        ],
    )
    (folder / "qrels").mkdir()
    (folder / "qrels" / "train.tsv").write_text(
        "query-id\tcorpus-id\tscore\nq1\td1\t2\nq2\td2\t1\nq2\td3\t0\n", encoding="utf-8"
    )
    return folder


def test_load_beir(tmp_path: Path) -> None:
    corpus = load_beir(make_beir(tmp_path / "tiny"), "train")
    assert corpus.name == "tiny-train"
    assert corpus.documents[0] == ("d1", ["Volcanoes\n\nLava erupts from volcanic craters."])
    assert [q.id for q in corpus.queries] == ["q1", "q2"]  # q3 is not in the qrels
    assert corpus.queries[0].relevant == {("d1", 0): 2.0}
    assert corpus.queries[1].relevant == {("d2", 0): 1.0}  # grade 0 is not relevant


def test_load_beir_plain_queries_file(tmp_path: Path) -> None:
    corpus = load_beir(make_beir(tmp_path / "tiny", "queries.jsonl"), "train")
    assert len(corpus.queries) == 2


def test_beir_errors(tmp_path: Path) -> None:
    folder = make_beir(tmp_path / "tiny")
    with pytest.raises(RagError, match="split 'validation': unknown"):
        load_beir(folder, "validation")
    with pytest.raises(RagError, match=r"test\.tsv: file not found; choose a split among"):
        load_beir(folder, "test")
    with (folder / "qrels" / "train.tsv").open("a") as qrels:
        qrels.write("q9\td1\t1\n")
    with pytest.raises(RagError, match=r"query ids \['q9'\] are not in queries_train\.jsonl"):
        load_beir(folder, "train")
    (folder / "corpus.jsonl").write_text('{"_id": "d1", "text": "ok"}\n{"_id": "d2", "te\n')
    with pytest.raises(RagError, match=r"corpus\.jsonl, line 2: not valid JSON"):
        load_beir(folder, "train")


def test_qrels_bad_line_names_it(tmp_path: Path) -> None:
    folder = make_beir(tmp_path / "tiny")
    (folder / "qrels" / "train.tsv").write_text("q1\td1\t1\nq2 d2\n", encoding="utf-8")
    with pytest.raises(RagError, match=r"train\.tsv, line 2: expected"):
        load_beir(folder, "train")


def squad_json(path: Path) -> Path:
    def paragraph(context: str, qid: str, question: str) -> dict[str, object]:
        qa = {"id": qid, "question": question, "answers": [{"text": "x", "answer_start": 0}]}
        return {"context": context, "qas": [qa]}

    data = {
        "version": "1.1",
        "data": [
            {
                "title": "Rivers",
                "paragraphs": [
                    paragraph("The Nile flows north.", "s1", "Which way does the Nile flow?"),
                    paragraph("\ufeffThe Amazon is wide.", "s2", "Which river is wide?"),
                ],
            },
            {"title": "Rivers", "paragraphs": [paragraph("Deltas form.", "s3", "What forms?")]},
        ],
    }
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def test_load_squad(tmp_path: Path) -> None:
    corpus = load_squad(squad_json(tmp_path / "tiny.dev.json"))
    assert corpus.name == "tiny.dev"
    assert corpus.documents == [
        ("Rivers", ["The Nile flows north.", "The Amazon is wide."]),
        ("Rivers (2)", ["Deltas form."]),
    ]
    assert [q.relevant for q in corpus.queries] == [
        {("Rivers", 1): 1.0},
        {("Rivers", 2): 1.0},
        {("Rivers (2)", 1): 1.0},
    ]


def test_squad_errors(tmp_path: Path) -> None:
    with pytest.raises(RagError, match="file not found"):
        load_squad(tmp_path / "missing.json")
    bad = tmp_path / "bad.json"
    bad.write_text('{"data": [\n  {"title": "x",\n  oops}\n]}\n', encoding="utf-8")
    with pytest.raises(RagError, match="line 3: not valid JSON"):
        load_squad(bad)
    bad.write_text('{"data": [{"title": "x"}]}', encoding="utf-8")
    with pytest.raises(RagError, match="lacks 'paragraphs'"):
        load_squad(bad)


# -- end to end (Python API, fake embedder) -------------------------------------------------
TOPICS = {
    "volcano": "lava magma crater eruption ash basalt",
    "ocean": "tide wave salt current coral reef",
    "forest": "oak pine moss fern canopy timber",
    "desert": "dune cactus sand mirage oasis camel",
    "glacier": "ice snow crevasse moraine frost fjord",
}


def tiny_corpus() -> Corpus:
    documents: list[tuple[str, list[str]]] = []
    queries: list[Query] = []
    for name, words in TOPICS.items():
        long_text = " ".join(f"The {name} has {w} and more {w}." for w in words.split() * 3)
        documents.append((name, [long_text]))  # several chunks per document
        queries.append(Query(name, f"Tell me about {words}", {(name, 0): 1.0}))
    return Corpus("tiny", documents, queries, by_page=False, split="test")


def test_end_to_end_and_cache_reuse(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RAG_CHUNKING__CHUNK_SIZE", "150")
    monkeypatch.setenv("RAG_CHUNKING__CHUNK_OVERLAP", "20")
    corpus, out = tiny_corpus(), tmp_path / "results"
    notes: list[str] = []

    def run() -> benchmark.BenchResult:
        return run_benchmark(
            corpus,
            ["similarity", "no-such-strategy"],
            cache_root=tmp_path / "cache",
            out_dir=out,
            embeddings=BagOfWordsEmbeddings(),
            notify=notes.append,
        )

    first = run()
    assert not first.reused_cache
    assert first.cache_dir.parent == tmp_path / "cache" / "bench"
    scores = first.report["strategies"]["similarity"]
    # each query's words are its own document's: found first (a 0..1 bound held for any score)
    metrics = ("ndcg@10", "recall@5", "recall@10", "mrr@10")
    assert {m: scores[m] for m in metrics} == dict.fromkeys(metrics, 1.0)
    assert set(first.errors) == {"no-such-strategy"}
    counts = first.report["counts"]
    assert counts["queries"] == 5 and counts["documents"] == 5
    assert counts["chunks"] > 5  # documents were split, and units deduplicated
    assert json.loads(first.json_path.read_text())["strategies"] == first.report["strategies"]
    md = first.markdown_path.read_text()
    assert "| strategy | nDCG@10 | R@5 | R@10 | MRR@10 | s/query |" in md
    assert "| similarity | " in md and "tiny" in md

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("ingested again")

    monkeypatch.setattr(RagService, "ingest_texts", refuse)
    second = run()
    assert second.reused_cache and second.cache_dir == first.cache_dir
    assert second.report["strategies"]["similarity"]["ndcg@10"] == scores["ndcg@10"]
    assert any("reusing the cached index" in note for note in notes)


def test_results_go_to_the_data_dir_by_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Never into the folder it is run from (a checkout): <data dir>/bench-results."""
    monkeypatch.setenv("RAG_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("RAG_CONFIG", raising=False)
    (tmp_path / "cwd").mkdir()
    monkeypatch.chdir(tmp_path / "cwd")
    result = run_benchmark(
        tiny_corpus(),
        ["similarity"],
        limit=1,
        cache_root=tmp_path / "cache",
        embeddings=BagOfWordsEmbeddings(),
    )
    assert result.json_path.parent == tmp_path / "data" / "bench-results"
    assert result.markdown_path.is_file()
    assert list((tmp_path / "cwd").iterdir()) == []
    assert benchmark.default_out_dir(data_dir=tmp_path / "d") == tmp_path / "d" / "bench-results"


def test_cache_key_follows_chunking_and_text(tmp_path: Path) -> None:
    from rag_app.settings import load_settings

    docs = [("a", ["one page"])]
    small = load_settings(data_dir=tmp_path, chunking={"chunk_size": 200, "chunk_overlap": 0})
    large = load_settings(data_dir=tmp_path)
    key = benchmark.cache_key("m", large, docs)
    assert key == benchmark.cache_key("m", large, [("a", ["one page"])])
    assert len({key, benchmark.cache_key("m", small, docs)}) == 2
    assert key != benchmark.cache_key("m", large, [("a", ["another page"])])
    assert key != benchmark.cache_key("n", large, docs)


def test_cli_needs_one_corpus() -> None:
    result = CliRunner().invoke(bench_app, ["retrieval"])
    assert isinstance(result.exception, RagError)
    assert "exactly one of --beir DIR or --squad FILE" in str(result.exception)
