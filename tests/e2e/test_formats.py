"""Formats besides PDF end to end through the `rag` command (real embedder, real Chroma):
ingested, asked and cited by section."""

from __future__ import annotations

import json
from pathlib import Path

from ingest.formats import load_document
from ingest.loaders import LoadOptions
from tests.support import documents
from tests.support.cli import assert_one_line_error, rag

TOP = "Tema 2: Transformadores"


def sections(path: Path, options: LoadOptions | None = None) -> dict[str, str]:
    return {p.section: p.text for p in load_document(path, options).pages}


def test_every_format_is_ingested_asked_and_cited_by_section(
    env: dict[str, str],
    tmp_path: Path,
) -> None:
    folder = tmp_path / "course"
    documents.write_markdown(folder / "notas.md")
    documents.write_html(folder / "slides.html")
    documents.write_docx(folder / "assignment.docx")
    documents.write_text(folder / "reading.txt")
    documents.write_jsonl(folder / "glossary.jsonl")
    bad = folder / "apuntes.txt"
    bad.write_bytes("año".encode("latin-1"))

    ingested = rag("ingest", str(folder), "--json", env=env)
    assert ingested.returncode == 3, ingested.stderr  # one file failed, the batch went on
    report = json.loads(ingested.stdout)
    assert sorted(d["source"] for d in report["ingested"]) == [
        "assignment.docx",
        "glossary.jsonl",
        "notas.md",
        "reading.txt",
        "slides.html",
    ]
    assert any(f.startswith("apuntes.txt: not UTF-8 text") for f in report["failed"])

    def evidence(question: str) -> dict[str, object]:
        asked = rag("ask", question, "--mode", "evidence", "--json", env=env)
        assert asked.returncode == 0, asked.stderr
        return json.loads(asked.stdout)["evidence"][0]

    heads = evidence("¿Cuántas cabezas usa la atención multi-cabeza del modelo base?")
    assert (heads["source"], heads["section"]) == ("notas.md", f"{TOP} › Atención › Multi-head")
    bm25 = evidence("What value of k1 does the lab use for BM25?")
    assert (bm25["source"], bm25["section"]) == ("slides.html", "Unit 4: Retrieval › BM25")
    due = evidence("When is the report of assignment 3 due?")
    assert (due["source"], due["section"]) == ("assignment.docx", "Assignment 3 › Deadline")
    room = evidence("In which room is the seminar?")
    assert (room["source"], room["section"]) == ("reading.txt", "")

    printed = rag("ask", "What does perplexity measure?", "--mode", "evidence", env=env)
    assert printed.returncode == 0, printed.stderr
    assert "glossary.jsonl, Perplexity" in printed.stdout
    assert "page" not in printed.stdout.split("Sources")[-1].split("glossary.jsonl")[1][:20]

    # --doc (repeatable) limits the search to those documents, inside the strategy.
    limited = rag(
        "ask", "When is the report of assignment 3 due?", "--mode", "evidence", "--json",
        "--doc", "reading.txt", "--doc", "notas.md", env=env,
    )  # fmt: skip
    assert limited.returncode == 0, limited.stderr
    assert {s["source"] for s in json.loads(limited.stdout)["sources"]} <= {
        "reading.txt",
        "notas.md",
    }
    unknown = rag("ask", "When is it due?", "--doc", "nothing.md", env=env)
    assert_one_line_error(unknown, "document 'nothing.md': not in the store")

    # Unchanged files are not read again; a deleted one goes with its chunks.
    again = json.loads(rag("ingest", str(folder), "--json", env=env).stdout)
    assert len(again["unchanged"]) == 5
    assert rag("docs", "delete", "slides.html", env=env).returncode == 0
    listed = {d["source"] for d in json.loads(rag("docs", "--json", env=env).stdout)}
    assert "slides.html" not in listed and len(listed) == 4
