"""OCR of pages that have no text layer (scans), with Tesseract through pytesseract.

Tesseract is a system program (Debian: tesseract-ocr, tesseract-ocr-eng, tesseract-ocr-spa;
``make ocr`` installs them). Without it, ingestion still works and says which pages would need
OCR. Pages are rendered with pypdfium2, as for the page images the UI shows.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache

# OCR text of page ``index`` (0-based) of the PDF given as bytes.
OcrFn = Callable[[bytes, int], str]

OCR_DPI = 300  # Tesseract's accuracy drops markedly below ~300 dpi
INSTALL_HINT = "install Tesseract (make ocr, or apt-get install tesseract-ocr-spa) to OCR them"


@cache
def _installed_languages() -> frozenset[str] | None:
    """Tesseract's language data, or None when the program is missing."""
    import pytesseract

    try:
        return frozenset(pytesseract.get_languages(config=""))
    except (pytesseract.TesseractNotFoundError, OSError, RuntimeError):
        return None


def ocr_engine(languages: str) -> tuple[OcrFn | None, str]:
    """An OCR function for ``languages`` ('spa+eng'), or None and why not (one phrase)."""
    installed = _installed_languages()
    if installed is None:
        return None, f"Tesseract is not installed: {INSTALL_HINT}"
    wanted = [lang for lang in languages.split("+") if lang]
    missing = [lang for lang in wanted if lang not in installed]
    if missing or not wanted:
        return None, (
            f"Tesseract lacks the language data {'+'.join(missing) or '(none set)'}: install "
            f"tesseract-ocr-{(missing or ['spa'])[0]} or change RAG_INGEST__OCR_LANGUAGES"
        )

    def ocr(data: bytes, index: int) -> str:
        import pypdfium2 as pdfium
        import pytesseract

        pdf = pdfium.PdfDocument(data)
        try:
            image = pdf[index].render(scale=OCR_DPI / 72).to_pil()
        finally:
            pdf.close()
        return str(pytesseract.image_to_string(image, lang="+".join(wanted)))

    return ocr, ""
