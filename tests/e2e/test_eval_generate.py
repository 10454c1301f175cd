"""`rag eval generate` as a real process, with and without the bundled model."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

from ingest.loaders import load_pdf
from rag_app.evaluation.dataset import load_qa
from rag_app.text.language import detect_language
from tests.support.cli import RAG, rag
from tests.support.pdfs import make_pdf
from tests.support.spanish_notes import KINDS, NOTES, SHORT, write_notes


@pytest.fixture
def notes(tmp_path: Path) -> Path:
    return write_notes(tmp_path / "apuntes")


def flat(text: str) -> str:
    return " ".join(text.split())


# -- the real command -----------------------------------------------------------------------
def check_rows(path: Path, folder: Path, n: int) -> list[dict]:
    """Each row: a Spanish question, answerable from the sentence that is on its page."""
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    assert len(rows) >= n and len(load_qa(path)) == len(rows)  # loadable as a QA set
    assert len({r["question"] for r in rows}) == len(rows)
    for row in rows:
        page = load_pdf(folder / row["source"]).pages[row["page"] - 1]
        assert row["answer"] in flat(page.text), row
        assert detect_language(row["question"]) == "es", row
        if row["answer_span"] is not None:
            assert row["answer_span"] in row["answer"], row
        if row["generated_by"] == "cloze":
            filled = row["question"].replace("___", row["answer_span"])
            assert f"«{row['answer']}»" in filled, row
        else:
            assert re.fullmatch(r"¿[^¿?]+\?", row["question"]), row
    return rows


def counts_line(stdout: str, target: Path, rows: list[dict]) -> str:
    made = [r["generated_by"].split(":")[0] for r in rows]
    return (
        f"Wrote {len(rows)} question(s) to {target}: {made.count('model')} reworded by the "
        f"model, {made.count('template')} template, {made.count('cloze')} cloze."
    )


def test_cli_no_model_is_deterministic(notes: Path, tmp_path: Path, env: dict[str, str]) -> None:
    first, second = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    for target in (first, second):
        args = ["eval", "generate", "--docs", str(notes), "--n", "10", "--out", str(target)]
        result = rag(*args, "--no-model", env=env)
        assert result.returncode == 0, result.stderr
    assert first.read_bytes() == second.read_bytes()
    rows = check_rows(first, notes, 10)
    assert {r["generated_by"] for r in rows} <= KINDS
    assert counts_line(result.stdout, second, rows) in result.stdout


def test_cli_says_when_there_are_too_few_sentences(tmp_path: Path, env: dict[str, str]) -> None:
    pdf = make_pdf(tmp_path / "corto.pdf", [SHORT])
    target = tmp_path / "qa.jsonl"
    result = rag("eval", "generate", "--docs", str(pdf), "--n", "5", "--out", str(target),
                 "--no-model", env=env)  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "Wrote 3 question(s)" in result.stdout
    assert result.stderr.strip().splitlines()[-1] == (
        f"note: only 3 usable sentence(s) in {pdf} for 5 questions; add documents for more"
    )


@pytest.mark.slow
def test_cli_with_the_bundled_model_writes_spanish_questions(
    notes: Path,
    tmp_path: Path,
    env: dict[str, str],
) -> None:
    target = tmp_path / "qa.jsonl"
    result = subprocess.run(
        [RAG, "eval", "generate", "--docs", str(notes), "--n", "10", "--out", str(target)],
        capture_output=True, text=True, env=env, timeout=900, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    rows = check_rows(target, notes, 10)
    assert len(rows) == 10 and {r["source"] for r in rows} == set(NOTES)
    for row in rows:
        assert row["generated_by"] in KINDS or row["generated_by"].startswith("model:"), row
    assert counts_line(result.stdout, target, rows) in result.stdout
