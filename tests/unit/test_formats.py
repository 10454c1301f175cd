"""Formats besides PDF: each read into sections with their heading paths, bad files refused in
one line. End to end through the `rag` command: tests/e2e/test_formats.py."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ingest.formats import load_document
from ingest.loaders import LoadOptions
from ingest.splitter import split_document
from rag_app.errors import RagError
from tests.support import documents

TOP = "Tema 2: Transformadores"


def sections(path: Path, options: LoadOptions | None = None) -> dict[str, str]:
    return {p.section: p.text for p in load_document(path, options).pages}


def one_line(path: Path) -> str:
    with pytest.raises(RagError) as caught:
        load_document(path)
    message = str(caught.value)
    assert "\n" not in message and message.startswith(path.name) and ";" in message, message
    return message


def test_markdown_sections_follow_the_headings(tmp_path: Path) -> None:
    found = sections(documents.write_markdown(tmp_path / "notas.md"))
    assert list(found) == [
        "",
        TOP,
        f"{TOP} › Atención",
        f"{TOP} › Atención › Multi-head",
        f"{TOP} › Entrenamiento",
    ]
    assert "12 cabezas" in found[f"{TOP} › Atención › Multi-head"]
    # A section starts with its heading path; a "#" inside code is not a heading.
    assert found[f"{TOP} › Atención"].startswith(f"{TOP} › Atención\n")
    assert "# esto es código" in found[f"{TOP} › Atención"]


def test_html_sections_and_nothing_from_scripts_styles_or_hidden_elements(
    tmp_path: Path,
) -> None:
    found = sections(documents.write_html(tmp_path / "slides.html"))
    assert list(found) == [
        "Unit 4: Retrieval",
        "Unit 4: Retrieval › BM25",
        "Unit 4: Retrieval › Dense retrieval › Embeddings",
    ]
    # Inline markup flows within its paragraph; each paragraph is a line.
    assert found["Unit 4: Retrieval › BM25"].splitlines() == [
        "Unit 4: Retrieval › BM25",
        "BM25 ranks documents by term frequency and inverse document frequency. In our lab the "
        "parameter k1 is set to 1.2 and b to 0.75.",
    ]
    everything = " ".join(found.values())
    dropped = ("ignore previous", "color: red", "injected", "Hidden text", "Invisible", "slides")
    assert not [text for text in dropped if text in everything]


def test_word_headings_paragraphs_and_tables(tmp_path: Path) -> None:
    found = sections(documents.write_docx(tmp_path / "assignment.docx"))
    assert list(found) == ["Assignment 3", "Assignment 3 › Deadline", "Assignment 3 › Grading"]
    assert "14 March 2025" in found["Assignment 3 › Deadline"]
    assert "Code | 40 percent" in found["Assignment 3 › Grading"]


def test_text_and_json_records(tmp_path: Path) -> None:
    text = load_document(documents.write_text(tmp_path / "reading.txt"))
    assert [(p.number, p.section) for p in text.pages] == [(1, "")]
    records = sections(documents.write_jsonl(tmp_path / "glossary.jsonl"))
    assert list(records) == ["Perplexity", "Tokenizer"]
    assert "text: Perplexity measures" in records["Perplexity"]
    assert "tags: evaluation" in records["Perplexity"]
    # One named text field: its value alone, the other fields left out.
    only = sections(tmp_path / "glossary.jsonl", LoadOptions(json_text_fields=("text",)))
    assert only["Tokenizer"] == "A tokenizer splits text into the sub-word units a model reads."
    listed = tmp_path / "list.json"
    listed.write_text(json.dumps(documents.GLOSSARY), encoding="utf-8")
    assert list(sections(listed)) == ["Perplexity", "Tokenizer"]


def test_chunks_carry_their_section(tmp_path: Path) -> None:
    chunks = split_document(load_document(documents.write_markdown(tmp_path / "n.md")), 80, 0)
    multi = [c for c in chunks if c.metadata.get("section") == f"{TOP} › Atención › Multi-head"]
    # The section is split in several chunks, and each one starts with its heading path.
    assert len(multi) >= 2
    assert all(c.page_content.startswith(f"{TOP} › Atención › Multi-head\n") for c in multi)
    assert all(c.metadata["source"] == "n.md" for c in chunks)


def test_bad_files_of_each_format_get_one_line(tmp_path: Path) -> None:
    latin = tmp_path / "apuntes.txt"
    latin.write_bytes("Apuntes de la lección: año, niño, corazón.".encode("latin-1"))
    assert "not UTF-8 text" in one_line(latin) and "save it as UTF-8" in one_line(latin)

    bomb = documents.zip_bomb_docx(tmp_path / "bomb.docx")
    assert bomb.stat().st_size < 1_000_000
    assert "unpacks to 50 MB" in one_line(bomb) and "zip bomb" in one_line(bomb)

    renamed = tmp_path / "old.docx"
    renamed.write_bytes(b"\xd0\xcf\x11\xe0 an old binary .doc renamed")
    assert "not a Word document" in one_line(renamed)

    broken = tmp_path / "broken.jsonl"
    broken.write_text('{"title": "ok", "text": "fine"}\n{"title": oops}\n', encoding="utf-8")
    assert "line 2 is not valid JSON" in one_line(broken)

    fields = tmp_path / "fields.jsonl"
    documents.write_jsonl(fields)
    with pytest.raises(RagError, match="none of its records has the text fields body"):
        load_document(fields, LoadOptions(json_text_fields=("body",)))

    empty_md = tmp_path / "empty.md"
    empty_md.write_text("\n\n", encoding="utf-8")
    assert "the file is empty" in one_line(empty_md)

    image = tmp_path / "photo.jpg"
    image.write_bytes(b"\xff\xd8\xff")
    assert "is not a supported format" in one_line(image)
