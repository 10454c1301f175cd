"""A PDF page as an image, to show a cited passage in place, its evidence sentences marked."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

# A sentence the page's text layer does not hold whole (a hyphenated line break, a ligature
# read differently at ingest) is looked for in pieces of this many words, in order.
PIECE_WORDS = 6
MIN_PIECE_WORDS = 3  # shorter pieces ("of the") would match anywhere on the page
HIGHLIGHT = (255, 214, 0, 96)  # translucent yellow: the text under it stays readable
PAD_PX = 2


def render_page(path: Path, page: int, width: int = 900, highlight: Sequence[str] = ()) -> Any:
    """Page ``page`` (1-based) of the PDF at ``path`` as a PIL image ``width`` pixels wide, with
    each text of ``highlight`` found on the page marked in yellow (texts not found mark nothing).

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
        bitmap = sheet.render(scale=scale)
        image = bitmap.to_pil()
        texts = [t for t in (" ".join(h.split()) for h in highlight) if t]
        if texts:
            try:
                to_bitmap = bitmap.get_posconv(sheet).to_bitmap
                boxes = [_pixel_box(rect, to_bitmap) for rect in text_rects(sheet, texts)]
            except pdfium.PdfiumError:  # a broken text layer: the page without marks
                boxes = []
            _draw_boxes(image, boxes)
        return image
    finally:
        pdf.close()


def text_rects(sheet: Any, texts: Sequence[str]) -> list[tuple[float, float, float, float]]:
    """The page-space rectangles (left, bottom, right, top; one per line) covering each text.

    pdfium's search matches a space in the text against a line break on the page, so a
    sentence wrapped over lines is usually found whole; what is not is looked for in pieces.
    """
    textpage = sheet.get_textpage()
    rects: list[tuple[float, float, float, float]] = []
    for text in texts:
        for index, count in _occurrence(textpage, text):
            for i in range(textpage.count_rects(index, count)):
                rects.append(textpage.get_rect(i))
    return rects


def _occurrence(textpage: Any, text: str) -> Iterator[tuple[int, int]]:
    """(first char, char count) of the text's first occurrence; else of its pieces, each searched
    after the previous one found, so that a common phrase is not marked elsewhere on the page."""
    found = _search(textpage, text, 0)
    if found:
        yield found
        return
    start = 0
    for piece in _pieces(text.split()):
        found = _search(textpage, piece, start)
        if found:
            yield found
            start = found[0] + found[1]


def _pieces(words: Sequence[str]) -> list[str]:
    """Runs of ``PIECE_WORDS`` words; a short tail joins the run before it. A text too short to
    cut gives nothing (it was searched whole already)."""
    if len(words) < 2 * MIN_PIECE_WORDS:
        return []
    runs = [list(words[i : i + PIECE_WORDS]) for i in range(0, len(words), PIECE_WORDS)]
    if len(runs) > 1 and len(runs[-1]) < MIN_PIECE_WORDS:
        runs[-2].extend(runs.pop())
    return [" ".join(run) for run in runs]


def _search(textpage: Any, text: str, start: int) -> tuple[int, int] | None:
    found = textpage.search(text, index=start, match_case=False).get_next()
    return (int(found[0]), int(found[1])) if found else None


def _pixel_box(
    rect: tuple[float, float, float, float], to_bitmap: Any
) -> tuple[int, int, int, int]:
    """A page-space rectangle in image pixels. The page's y axis points up, the image's down;
    the rendering's own converter also accounts for the page's rotation and crop box."""
    left, bottom, right, top = rect
    x0, y0 = to_bitmap(left, bottom)
    x1, y1 = to_bitmap(right, top)
    return (
        min(x0, x1) - PAD_PX,
        min(y0, y1) - PAD_PX,
        max(x0, x1) + PAD_PX,
        max(y0, y1) + PAD_PX,
    )


def _draw_boxes(image: Any, boxes: Sequence[tuple[int, int, int, int]]) -> None:
    from PIL import ImageDraw

    draw = ImageDraw.Draw(image, "RGBA")  # blends the fill's alpha over the page
    for box in boxes:
        draw.rectangle(box, fill=HIGHLIGHT)
