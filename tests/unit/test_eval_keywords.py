"""QA keywords and question types: parsing, the keyword metric on the text the user reads
(evidence + answer), and the per-type breakdown of the report. Pure logic, no model."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from rich.console import Console

from rag_app.answering.answers import Answer
from rag_app.answering.evidence import Evidence
from rag_app.cli.evaluate import type_table
from rag_app.errors import RagError
from rag_app.evaluation import metrics
from rag_app.evaluation.dataset import load_qa
from rag_app.evaluation.report import TYPE_COLUMNS, markdown, type_rows
from rag_app.evaluation.runner import NO_TYPE, build_report, by_type, run_pipeline
from rag_app.evaluation.schema import EvalRow
from rag_app.evaluation.scoring import keyword_scores, score_sample
from tests.support.embeddings import BagOfWordsEmbeddings

KEYWORDS = ["Programa principal", "procedimientos de servicio", "utilería"]


# -- parsing ----------------------------------------------------------------------------------
def test_keywords_and_type_in_jsonl_and_csv(tmp_path: Path) -> None:
    jsonl = tmp_path / "qa.jsonl"
    rows = [
        {"id": "cA01", "question": "¿En qué tres procesos?", "answer": "...", "source": "so.pdf",
         "page": 13, "keywords": KEYWORDS, "type": "list"},
        {"id": "cU01", "question": "¿Capital de Mongolia?", "unanswerable": True,
         "type": "unanswerable"},
        {"question": "Bare?", "keywords": "Número de marco"},
    ]  # fmt: skip
    jsonl.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), "utf-8")
    listed, unanswerable, bare = load_qa(jsonl)
    assert listed.keywords == KEYWORDS and listed.type == "list"
    assert unanswerable.keywords == [] and unanswerable.type == "unanswerable"
    assert bare.keywords == ["Número de marco"] and bare.type is None  # one string, one keyword
    assert listed.to_dict()["keywords"] == KEYWORDS and listed.to_dict()["type"] == "list"
    assert bare.to_dict()["type"] is None

    csv = tmp_path / "qa.csv"
    csv.write_text(
        'question,keywords,type\n"Which, then?","[""Número de marco"", "" ""]",definition\n'
        "No keywords?,,\n",
        encoding="utf-8",
    )
    first, second = load_qa(csv)
    assert first.keywords == ["Número de marco"] and first.type == "definition"  # blank dropped
    assert second.keywords == [] and second.type is None


@pytest.mark.parametrize(
    ("name", "text", "expected"),
    [
        ("bad.jsonl", '{"question": "a"}\n{"question": "b", "keywords": [1, 2]}\n',
         "bad.jsonl, line 2: 'keywords' must be a list of strings; fix the row"),
        ("bad.jsonl", '{"question": "a", "keywords": {"x": "y"}}\n',
         "bad.jsonl, line 1: 'keywords' must be a list of strings"),
        ("bad.csv", 'question,keywords\nWho?,"[""a"", ""b"""\n',
         "bad.csv, line 2: 'keywords' starts with '[' but is not a JSON list of strings"),
        ("bad.json", '[{"question": "a", "type": ["list"]}]',
         "bad.json, item 1: 'type' must be text, got list"),
    ],
)  # fmt: skip
def test_bad_keywords_or_type_is_a_one_line_error(
    tmp_path: Path, name: str, text: str, expected: str
) -> None:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    with pytest.raises(RagError) as caught:
        load_qa(path)
    message = str(caught.value)
    assert "\n" not in message and message.endswith("; fix the row")
    assert message.startswith(str(path)) and expected in message


# -- the metric -------------------------------------------------------------------------------
def test_keywords_compare_without_accents_case_or_extra_whitespace() -> None:
    assert metrics.keyword_text("  Número\n de\tMARCO ") == "numero de marco"
    shown = ["El  NUMERO de\nmarco [2] identifica la página."]
    assert metrics.keywords_found(["Número de marco"], shown) == [True]
    assert metrics.keywords_found(["número  DE marco"], ["numero de marco"]) == [True]
    assert metrics.keywords_found(["Utileria"], ["las utilerías del sistema"]) == [True]
    # A substring, not a bag of words: the words in another order are not the keyword.
    assert metrics.keywords_found(["marco de número"], shown) == [False]
    assert metrics.keywords_found(["Número de página"], shown) == [False]
    # Each text on its own: a keyword is not made of one sentence's end and the next's start.
    apart = ["Programa principal", "procedimientos"]
    assert metrics.keywords_found(["principal procedimientos"], apart) == [False]


class _Sample:
    """The fields ``keyword_scores`` reads."""

    def __init__(self, keywords: list[str]) -> None:
        self.keywords = keywords


def test_keyword_hit_needs_every_keyword_recall_counts_them() -> None:
    evidence = ["El Programa principal llama a los procedimientos  de SERVICIO."]
    answer = "Son el programa principal, los procedimientos de servicio y las utilerias [1]."
    sample: Any = _Sample(KEYWORDS)
    assert keyword_scores(sample, [*evidence, answer]) == {
        "keyword_hit": 1.0,
        "keyword_recall": 1.0,
    }
    missing = keyword_scores(sample, evidence)  # "utilería" is only in the answer
    assert missing["keyword_hit"] == 0.0
    assert missing["keyword_recall"] == pytest.approx(2 / 3)
    no_keywords: Any = _Sample([])
    assert keyword_scores(no_keywords, [answer]) == {}


def test_score_sample_reads_evidence_and_answer(tmp_path: Path) -> None:
    qa = tmp_path / "qa.jsonl"
    rows = [
        {"question": "¿Qué tres procesos?", "keywords": KEYWORDS, "type": "list"},
        {"question": "¿Capital de Mongolia?", "unanswerable": True, "type": "unanswerable"},
    ]
    qa.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    listed, unanswerable = load_qa(qa)
    embeddings = BagOfWordsEmbeddings()
    answer = "Las utilerías [1]."
    evidence = ["El programa principal y los procedimientos de servicio."]

    both = score_sample(listed, answer, [], [], embeddings, evidence=evidence)["scores"]
    assert both["keyword_hit"] == 1.0 and both["keyword_recall"] == 1.0
    alone = score_sample(listed, answer, [], [], embeddings)["scores"]
    assert alone["keyword_hit"] == 0.0 and alone["keyword_recall"] == pytest.approx(1 / 3)
    # Retrieval only (nothing shown to the user) and a question without keywords: empty.
    assert score_sample(listed, None, [], [], embeddings)["scores"]["keyword_hit"] is None
    none = score_sample(unanswerable, "No lo sé.", [], [], embeddings)["scores"]
    assert none["keyword_hit"] is None and none["keyword_recall"] is None


def test_pipeline_rows_look_for_keywords_in_the_quoted_evidence(tmp_path: Path) -> None:
    """`rag eval` on a stub service: the evidence the answer quotes counts, with its text."""
    qa = tmp_path / "qa.jsonl"
    qa.write_text(json.dumps({"question": "¿Procesos?", "keywords": KEYWORDS}) + "\n", "utf-8")
    quoted = Evidence("Programa principal, procedimientos de servicio y utilería.", 1, "so.pdf",
                      13, 0.9)  # fmt: skip
    reply = Answer("¿Procesos?", "Tres procesos [1].", [], "es", mode="both", evidence=[quoted])
    service: Any = SimpleNamespace(
        settings=SimpleNamespace(answer=SimpleNamespace(mode="both")),
        forget_generations=lambda: None,
        ask=lambda *args, **kwargs: reply,
        embeddings=BagOfWordsEmbeddings(),
        tuned=lambda: SimpleNamespace(cosine_floor=0.0),
    )
    (row,) = run_pipeline(service, load_qa(qa), ["hybrid"])
    assert row["scores"]["keyword_hit"] == 1.0 and row["keywords"] == KEYWORDS
    reply.evidence = []  # the answer alone lacks all three
    (row,) = run_pipeline(service, load_qa(qa), ["hybrid"])
    assert row["scores"]["keyword_hit"] == 0.0 and row["scores"]["keyword_recall"] == 0.0


# -- per type ---------------------------------------------------------------------------------
def _row(
    strategy: str, kind: str | None, hit: float | None, abstained: bool | None, fallback: str = ""
) -> EvalRow:
    row: EvalRow = {
        "strategy": strategy,
        "id": f"{strategy}-{kind}-{hit}-{abstained}",
        "question": "q",
        "reference": None,
        "reference_contexts": [],
        "source": None,
        "page": None,
        "unanswerable": kind == "unanswerable",
        "keywords": [] if hit is None else ["k"],
        "type": kind,
        "response": "",
        "contexts": [],
        "scores": {"keyword_hit": hit, "keyword_recall": hit},
        "abstained": abstained,
        "judge_calls": 0,
        "judge_unparseable": 0,
    }
    if fallback:
        row["fallback"] = fallback
    return row


ROWS = [
    _row("hybrid", "list", 1.0, False),
    _row("hybrid", "list", 0.0, False),
    _row("hybrid", "definition", 1.0, False),
    _row("hybrid", "list", 1.0, True),
    _row("hybrid", "unanswerable", None, True),
    _row("hybrid", "unanswerable", None, False, "uncertain"),  # shown, labelled uncertain
    _row("hybrid", None, 0.0, False),
    _row("bm25", "list", 0.0, False),
]


def test_by_type_counts_hits_and_abstentions_per_strategy() -> None:
    result = by_type(ROWS)
    assert list(result) == ["hybrid", "bm25"]
    assert list(result["hybrid"]) == ["list", "definition", "unanswerable", NO_TYPE]
    assert result["hybrid"]["list"] == {
        "questions": 3,
        "keyword_hit": {"mean": 0.6667, "n": 3},
        "keyword_recall": {"mean": 0.6667, "n": 3},
        "abstained": {"mean": 0.3333, "n": 3},
        "uncertain": {"mean": 0.0, "n": 3},
    }
    unanswerable = result["hybrid"]["unanswerable"]
    assert unanswerable["questions"] == 2
    assert unanswerable["keyword_hit"] == {"mean": None, "n": 0}  # no keywords: no rate
    assert unanswerable["abstained"] == {"mean": 0.5, "n": 2}
    assert unanswerable["uncertain"] == {"mean": 0.5, "n": 2}  # the other one: not confident
    assert result["hybrid"][NO_TYPE]["keyword_hit"] == {"mean": 0.0, "n": 1}
    assert result["bm25"] == {
        "list": {
            "questions": 1,
            "keyword_hit": {"mean": 0.0, "n": 1},
            "keyword_recall": {"mean": 0.0, "n": 1},
            "abstained": {"mean": 0.0, "n": 1},
            "uncertain": {"mean": 0.0, "n": 1},
        }
    }
    # Retrieval only: nothing answered, so no abstention share.
    assert by_type([_row("x", "list", None, None)])["x"]["list"]["abstained"]["n"] == 0
    # A QA set without types has no breakdown.
    assert by_type([_row("hybrid", None, 1.0, False)]) == {}


def test_report_json_markdown_and_terminal_show_the_types(tmp_path: Path) -> None:
    report = build_report(
        ROWS,
        mode="pipeline",
        qa_file=tmp_path / "qa.jsonl",
        settings={},
        models={"embedder": "e"},
        k=4,
        judge_name=None,
        started=datetime(2026, 1, 2, tzinfo=UTC),
    )
    assert report["by_type"] == by_type(ROWS)
    assert report["aggregate"]["hybrid"]["keyword_hit"] == {"mean": 0.6, "n": 5}
    assert "keyword_hit" in report["methods"] and "keyword_recall" in report["methods"]
    assert json.loads(json.dumps(report))["by_type"]["hybrid"]["unanswerable"]["questions"] == 2

    cells = type_rows(report)
    assert cells[0] == ["hybrid", "list", "3", "0.667", "0.667", "0.333", "0.000"]
    assert ["hybrid", "unanswerable", "2", "-", "-", "0.500", "0.500"] in cells
    assert cells[-1] == ["bm25", "list", "1", "0.000", "0.000", "0.000", "0.000"]

    text = markdown(report)
    assert "## Per question type" in text and "| " + " | ".join(TYPE_COLUMNS) + " |" in text
    assert "| hybrid | unanswerable | 2 | - | - | 0.500 | 0.500 |" in text
    assert "keyword_hit" in text.split("## Per question type")[0]  # overall, in the main table

    console = Console(record=True, width=120)
    console.print(type_table(report))
    printed = console.export_text()
    assert "per question type" in printed and "unanswerable" in printed and "0.667" in printed

    untyped: Any = dict(report, by_type={})
    assert type_rows(untyped) == [] and "Per question type" not in markdown(untyped)
