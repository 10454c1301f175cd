"""Scanned pages (images only, no text layer) are OCR'd with Tesseract, Spanish and English."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest.loaders import LoadOptions, load_pdf
from ingest.ocr import ocr_engine
from rag_app.service import RagService
from rag_app.settings import Settings
from tests.support import bad_pdfs
from tests.support.embeddings import BagOfWordsEmbeddings

OCR, WHY_NOT = ocr_engine("spa+eng")
pytestmark = [
    pytest.mark.skipif(OCR is None, reason=f"no OCR here: {WHY_NOT}"),
    pytest.mark.skipif(not bad_pdfs.DEJAVU.is_file(), reason="DejaVu fonts not installed"),
]

SCANNED = [
    "Typed cover page: field notes, typed.",  # a normal text page
    ["La fotosíntesis ocurre en los", "cloroplastos de las células", "vegetales, según el tema 2."],
    ["The Lumora Observatory was", "founded in 1887 by Elena", "Vasquez in Brindlemoor."],
]


@pytest.fixture
def scan(tmp_path: Path) -> Path:
    return bad_pdfs.scanned(tmp_path / "scan.pdf", SCANNED)


def test_scanned_pages_are_read_by_ocr(scan: Path) -> None:
    pdf = load_pdf(scan, LoadOptions(ocr=OCR))
    cover, spanish, english = pdf.pages
    assert not cover.ocr and spanish.ocr and english.ocr
    assert "cloroplastos" in spanish.text and "fotosíntesis" in spanish.text
    assert "Lumora Observatory" in english.text and "1887" in english.text
    assert pdf.notes == ("scan.pdf: page(s) 2-3 had no text layer: read by OCR",)


def test_ocr_chunks_are_marked_and_found(settings: Settings, scan: Path) -> None:
    service = RagService(settings, embeddings=BagOfWordsEmbeddings())
    assert service.settings.ingest.ocr  # on by default
    report = service.ingest([scan])
    assert not report.failed and report.notes == [
        "scan.pdf: page(s) 2-3 had no text layer: read by OCR"
    ]
    hit = service.retrieve("¿Dónde ocurre la fotosíntesis?", k=1, strategy="bm25")[0]
    assert (hit.source, hit.page, hit.ocr) == ("scan.pdf", 2, True)
    cover = service.retrieve("typed cover page field notes", k=1, strategy="bm25")[0]
    assert (cover.page, cover.ocr) == (1, False)


def test_unchanged_scan_is_not_read_again(settings: Settings, scan: Path) -> None:
    """The stored hash says the file is unchanged: no second parse, so no second OCR."""
    service = RagService(settings, embeddings=BagOfWordsEmbeddings())
    service.ingest([scan])
    again = service.ingest([scan])
    assert again.unchanged == ["scan.pdf"] and not again.ingested and not again.failed
    assert not any("OCR" in note for note in again.notes), again.notes
    assert [d.source for d in service.documents()] == ["scan.pdf"]
