"""`rag eval` end to end: real processes, a reportlab PDF, the bundled models."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from rag_app.evaluation.dataset import load_qa
from tests.support.cli import RAG, assert_one_line_error, rag
from tests.support.pdfs import COURSE_PAGES

QA = [
    {"question": "Who founded the Lumora Observatory?", "answer": "Elena Vasquez",
     "source": "astronomy.pdf", "page": 2},
    {"question": "What is the capital of Mongolia?", "unanswerable": True},
]  # fmt: skip


def slow_rag(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """`rag` with room for several generations on a busy 2-core machine."""
    return subprocess.run(
        [RAG, *args], capture_output=True, text=True, env=env, timeout=1200, check=False
    )


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def reports(folder: Path) -> dict[str, Path]:
    found = {p.suffix: p for p in folder.glob("eval-*")}
    assert set(found) == {".json", ".md", ".html"}, found
    return found


@pytest.mark.slow
def test_eval_runs_the_pipeline_and_writes_reports(
    env: dict[str, str],
    course_pdf: Path,
    tmp_path: Path,
) -> None:
    qa = write_jsonl(tmp_path / "qa.jsonl", QA)
    env = {**env, "RAG_LLM__MAX_TOKENS": "24"}
    out = tmp_path / "out"
    args = ["eval", "--qa", str(qa), "--docs", str(course_pdf), "--strategies", "hybrid,bm25"]
    result = slow_rag(*args, "--out", str(out), env=env)
    assert result.returncode == 0, result.stderr
    assert "faithfulness" in result.stdout and "hybrid" in result.stdout  # the summary table

    files = reports(out)
    report = json.loads(files[".json"].read_text(encoding="utf-8"))
    assert report["strategies"] == ["hybrid", "bm25"] and report["questions"] == 2
    assert len(report["rows"]) == 4
    assert {r["strategy"] for r in report["rows"]} == {"hybrid", "bm25"}
    for row in report["rows"]:
        assert row["response"] and row["timings"]["total_s"] > 0
        assert set(row["scores"]) >= {"faithfulness", "context_recall", "hit@k", "total_s"}
    for strategy in ("hybrid", "bm25"):
        means = report["aggregate"][strategy]
        assert means["hit@k"]["mean"] == 1.0 and means["hit@k"]["n"] == 1
        assert means["correct_abstention"]["n"] == 1
    assert all(
        report["methods"][m] for m in report["aggregate"]["hybrid"] if m in report["methods"]
    )

    markdown = files[".md"].read_text(encoding="utf-8")
    assert "| hybrid |" in markdown and "Who founded the Lumora Observatory?" in markdown
    page = files[".html"].read_text(encoding="utf-8")
    assert page.count("<svg") >= 2 and "What is the capital of Mongolia?" in page
    assert "http" not in page and "src=" not in page  # self-contained: nothing to fetch


@pytest.mark.slow
def test_eval_scored_dataset_needs_no_pipeline(
    env: dict[str, str],
    tmp_path: Path,
) -> None:
    rows = [
        {"user_input": "How wide is the mirror?", "reference": "2.4 metres",
         "response": "The mirror is 2.4 metres wide.", "retrieved_contexts": [COURSE_PAGES[2]],
         "retrieved_sources": [{"source": "astronomy.pdf", "page": 3}],
         "source": "astronomy.pdf", "page": 3},
        {"user_input": "Who founded it?", "reference": "Elena Vasquez",
         "response": "Bananas grow in warm places.", "retrieved_contexts": [COURSE_PAGES[0]]},
    ]  # fmt: skip
    scored = write_jsonl(tmp_path / "scored.jsonl", rows)
    out = tmp_path / "out"
    result = rag("eval", "--scored", str(scored), "--out", str(out), env=env)
    assert result.returncode == 0, result.stderr
    report = json.loads(reports(out)[".json"].read_text(encoding="utf-8"))
    assert report["mode"] == "scored" and "chat_model" not in report["models"]
    good, bad = report["rows"]
    assert good["scores"]["faithfulness"] == 1.0 and good["scores"]["mrr"] == 1.0
    assert bad["scores"]["faithfulness"] == 0.0 and bad["scores"]["answer_f1"] == 0.0
    assert not (Path(env["RAG_DATA_DIR"]) / "chroma").exists()  # the store was never opened

    # Without --out, the reports go under the data dir, never into the working folder.
    default = rag("eval", "--scored", str(scored), env=env)
    assert default.returncode == 0, default.stderr
    assert reports(Path(env["RAG_DATA_DIR"]) / "eval-results")[".json"].is_file()


def test_eval_malformed_line_is_one_line_error(
    env: dict[str, str],
    tmp_path: Path,
) -> None:
    qa = tmp_path / "qa.jsonl"
    qa.write_text('{"question": "ok?"}\n{"question": 3.5e}\n', encoding="utf-8")
    assert_one_line_error(rag("eval", "--qa", str(qa), env=env), "qa.jsonl, line 2: not valid")
    both = rag("eval", "--qa", str(qa), "--scored", str(qa), env=env)
    assert_one_line_error(both, "pass exactly one of --qa FILE or --scored FILE")
    good = write_jsonl(tmp_path / "good.jsonl", QA)
    wrong = rag("eval", "--qa", str(good), "--strategies", "hybrid,nope", env=env)
    assert_one_line_error(wrong, "--strategies nope: unknown")


@pytest.mark.slow
def test_generate_writes_a_loadable_qa_set(
    env: dict[str, str],
    course_pdf: Path,
    tmp_path: Path,
) -> None:
    target = tmp_path / "generated.jsonl"
    result = rag(
        "eval", "generate", "--docs", str(course_pdf), "--n", "2", "--out", str(target), env=env
    )
    assert result.returncode == 0, result.stderr
    samples = load_qa(target)
    assert 1 <= len(samples) <= 2, result.stderr
    text = " ".join(" ".join(p.split()) for p in COURSE_PAGES)
    for sample in samples:
        assert sample.question.endswith("?")
        assert sample.reference and sample.reference in text  # a sentence of the PDF
        assert sample.source == "astronomy.pdf"
        assert sample.page is not None and sample.reference in " ".join(
            COURSE_PAGES[sample.page - 1].split()
        )
