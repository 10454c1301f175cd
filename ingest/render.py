"""A PDF page as an image, to show a cited passage in place."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def render_page(path: Path, page: int, width: int = 900) -> Any:
    """Page ``page`` (1-based) of the PDF at ``path`` as a PIL image ``width`` pixels wide.

    Returns None when the file is gone or unreadable: the picture is a convenience, never a
    reason for an answer to fail.
    """
    import pypdfium2 as pdfium

    try:
        pdf = pdfium.PdfDocument(str(path))
    except (OSError, pdfium.PdfiumError):
        return None
    try:
        if not 1 <= page <= len(pdf):
            return None
        sheet = pdf[page - 1]
        scale = width / max(sheet.get_width(), 1.0)
        return sheet.render(scale=scale).to_pil()
    finally:
        pdf.close()
