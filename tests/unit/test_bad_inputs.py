"""Every awkward input of a real folder gets one clear line (file, problem, remedy) while the
batch goes on, and nothing stored before is lost or duplicated. Real pypdf, real Chroma, the
small test embedder. The same through the `rag` command: tests/e2e/test_bad_inputs.py."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest.loaders import LoadOptions, clean_text, load_pdf
from rag_app.errors import RagError
from rag_app.service import RagService
from rag_app.settings import Settings
from tests.support import bad_pdfs
from tests.support.pdfs import COURSE_PAGES, SPANISH_PAGES, make_pdf
from tests.support.shared import no_ocr_service

needs_dejavu = bad_pdfs.needs_dejavu


@pytest.fixture
def service(settings: Settings) -> RagService:
    return no_ocr_service(settings)


def one_line_error(path: Path, options: LoadOptions | None = None) -> str:
    with pytest.raises(RagError) as caught:
        load_pdf(path, options)
    message = str(caught.value)
    assert "\n" not in message and path.name in message, message
    assert ";" in message  # the problem; then what to do
    return message


FAILING = bad_pdfs.FAILING


@pytest.mark.parametrize("name", FAILING)
def test_each_bad_file_gets_one_line(tmp_path: Path, name: str) -> None:
    make, problem, remedy = FAILING[name]
    message = one_line_error(make(tmp_path / name))
    assert problem in message and remedy in message, message


def test_corrupt_xref_is_rebuilt_by_the_reader(tmp_path: Path) -> None:
    """pypdf rebuilds a wrong cross-reference table by scanning the file: the text survives."""
    pdf = load_pdf(bad_pdfs.corrupt_xref(tmp_path / "xref.pdf"))
    assert pdf.page_count == 3 and "Elena Vasquez" in pdf.pages[1].text


def test_aes_pdf_with_empty_user_password_opens(tmp_path: Path) -> None:
    pdf = load_pdf(bad_pdfs.encrypted(tmp_path / "aes.pdf", "", ["Readable by anyone."]))
    assert pdf.pages[0].text == "Readable by anyone."


def test_size_and_page_limits(tmp_path: Path) -> None:
    three = make_pdf(tmp_path / "three.pdf", COURSE_PAGES)
    message = one_line_error(three, LoadOptions(max_pages=2))
    assert "3 pages, over the limit of 2" in message and "RAG_INGEST__MAX_PAGES" in message
    message = one_line_error(three, LoadOptions(max_file_mb=0.001))
    assert "over the limit of 0.001 MB" in message and "RAG_INGEST__MAX_FILE_MB" in message


@needs_dejavu
def test_scanned_pages_are_named_when_no_ocr(tmp_path: Path) -> None:
    no_ocr = LoadOptions(ocr=None, no_ocr_reason="install Tesseract")
    mixed = bad_pdfs.scanned(
        tmp_path / "mixed.pdf",
        ["Typed page one.", ["Scanned page two"], "Typed page three.", ["Scanned four"]],
    )
    pdf = load_pdf(mixed, no_ocr)
    assert [p.text for p in pdf.pages] == ["Typed page one.", "", "Typed page three.", ""]
    assert pdf.notes == (
        "mixed.pdf: page(s) 2, 4 have no text layer (scanned or blank) and were skipped; "
        "install Tesseract",
    )
    all_scanned = bad_pdfs.scanned(tmp_path / "scan.pdf", [["A scanned page"]])
    assert "no text layer on any of its 1 pages" in one_line_error(all_scanned, no_ocr)


def test_long_single_line_page_is_chunked(service: RagService, tmp_path: Path) -> None:
    report = service.ingest([bad_pdfs.long_line(tmp_path / "long.pdf")])
    assert not report.failed and report.chunks > 40
    size = service.settings.chunking.chunk_size
    assert all(len(c.page_content) <= size for c in service.store.chunks.all_chunks())


UNUSUAL = [
    "Hebrew: שלום עולם, Arabic: مرحبا بالعالم",
    "Combining: cafe\u0301 nin\u0303o",  # e + combining acute, n + combining tilde
    "Zero\u200bwidth and\ufeffBOM, bidi \u202eoverride\u202c here",
    "Emoji: 🚀 telescope 🔭 done",
]


def test_clean_text_handles_unusual_unicode() -> None:
    text = clean_text("NUL\x00here, lone \ud800 surrogate, bell\x07, " + " ".join(UNUSUAL))
    assert "\x00" not in text and "\x07" not in text and "\ufffd" in text
    text.encode("utf-8")  # no lone surrogate left: storable anywhere
    assert "café niño" in text  # composed (NFC), so searches match
    assert "Zerowidth andBOM, bidi override here" in text
    assert "🚀" in text and "שלום" in text


@needs_dejavu
def test_unusual_unicode_pdf_and_text_are_stored(service: RagService, tmp_path: Path) -> None:
    pdf = bad_pdfs.unicode_pdf(tmp_path / "unicode.pdf", UNUSUAL)
    report = service.ingest([pdf])
    assert not report.failed, report.failed
    stored = " ".join(c.page_content for c in service.store.chunks.all_chunks())
    assert "café" in stored and "\u200b" not in stored
    texts = service.ingest_texts([("nul-and-surrogates", ["A\x00B \ud83d lone half, ok"])])
    assert not texts.failed and texts.chunks == 1
    assert service.retrieve("lone half", k=1, strategy="bm25")[0].source == "nul-and-surrogates"


@needs_dejavu
def test_bad_batch_keeps_earlier_documents_intact(service: RagService, tmp_path: Path) -> None:
    good = [
        make_pdf(tmp_path / "good" / "astronomy.pdf", COURSE_PAGES),
        make_pdf(tmp_path / "good" / "biologia.pdf", SPANISH_PAGES),
    ]
    first = service.ingest(good)
    assert not first.failed
    before = {(d.source, d.doc_id, d.chunks) for d in service.documents()}
    chunks_before = service.store.chunks.count()

    bad = tmp_path / "bad"
    for name, (make, _, _) in FAILING.items():
        make(bad / name)
    bad_pdfs.scanned(bad / "scan.pdf", [["A scanned page"]])
    report = service.ingest([bad, *good])  # the good ones again, unchanged
    assert sorted(report.unchanged) == ["astronomy.pdf", "biologia.pdf"]
    assert not report.ingested and len(report.failed) == len(FAILING) + 1
    for name, (_, problem, _) in FAILING.items():
        assert any(line.startswith(name) and problem in line for line in report.failed), name
    assert {(d.source, d.doc_id, d.chunks) for d in service.documents()} == before
    assert service.store.chunks.count() == chunks_before
    assert service.check().ok


def test_a_pdf_pypdf_refuses_is_read_by_the_fallback_reader(tmp_path: Path) -> None:
    """An array of over 100,000 elements (real quarterly filings have them) stops pypdf;
    PDFium, in a child process, reads the text, with the page numbers a viewer shows."""
    pdf = load_pdf(bad_pdfs.huge_array(tmp_path / "filing.pdf", COURSE_PAGES))
    assert pdf.page_count == 3
    words = [" ".join(page.text.split()) for page in pdf.pages]
    assert "founded in 1887 by the astronomer Elena Vasquez" in words[1]
    assert pdf.pages[1].number == 2 and "mirror weighs twelve tonnes" in words[2]
    (note,) = pdf.notes
    assert note.startswith("filing.pdf: pypdf could not read it (exceeds the PDF reader's safety")
    assert "read with the fallback reader (PDFium), 3 pages" in note and "\n" not in note


def test_the_fallback_reader_keeps_its_limits(tmp_path: Path) -> None:
    filing = bad_pdfs.huge_array(tmp_path / "filing.pdf", COURSE_PAGES)
    message = one_line_error(filing, LoadOptions(fallback_seconds=0.01))
    assert "safety limits" in message and "fallback reader took over 0.01 s" in message
    # The fallback reader counts pages before reading them (pypdf could not count them).
    message = one_line_error(filing, LoadOptions(max_pages=2))
    assert "3 pages, over the limit of 2" in message
    # A stream that inflates to 120 MB, read under a 100 MB cap: stopped, one line.
    message = one_line_error(
        bad_pdfs.decompression_bomb(tmp_path / "bomb.pdf"), LoadOptions(fallback_memory_mb=100)
    )
    assert "safety limits" in message and "100 MB" in message and "re-export" in message
