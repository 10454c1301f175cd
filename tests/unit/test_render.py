"""Page images with the evidence marked, on real PDFs rendered by pypdfium2."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest.render import PAD_PX, render_page, text_rects
from tests.support.images import yellow_pixels
from tests.support.pdfs import COURSE_PAGES, make_pdf

WIDTH = 900
# Long enough that make_pdf wraps it over two lines.
WRAPPED = (
    "The Lumora Observatory was founded in 1887 by the astronomer Elena Vasquez in the "
    "mountain town of Brindlemoor, after a decade of surveys of the clearest skies around."
)
PAGES = [*COURSE_PAGES, f"History, again. {WRAPPED} She directed it for thirty years."]


@pytest.fixture
def pdf(tmp_path: Path) -> Path:
    return make_pdf(tmp_path / "astronomy.pdf", PAGES)


def sentence_box(pdf: Path, page: int, text: str) -> tuple[int, int, int, int]:
    """Where the sentence is in the image, in pixels (from pdfium's own text layer)."""
    import pypdfium2 as pdfium

    document = pdfium.PdfDocument(str(pdf))
    try:
        sheet = document[page - 1]
        scale = WIDTH / sheet.get_width()
        height = sheet.get_height()
        rects = text_rects(sheet, [text])
    finally:
        document.close()
    assert rects, "the sentence should be on the page"
    left = min(r[0] for r in rects)
    bottom = min(r[1] for r in rects)
    right = max(r[2] for r in rects)
    top = max(r[3] for r in rects)
    return (
        int(left * scale),
        int((height - top) * scale),
        int(right * scale) + 1,
        int((height - bottom) * scale) + 1,
    )


def test_no_highlight_has_no_yellow(pdf: Path) -> None:
    image = render_page(pdf, 2, WIDTH)
    assert image.width == WIDTH
    assert yellow_pixels(image) == 0


def test_the_sentence_is_marked_where_it_is(pdf: Path) -> None:
    sentence = "The Lumora Observatory was founded in 1887 by the astronomer Elena Vasquez"
    image = render_page(pdf, 2, WIDTH, highlight=[sentence])
    box = sentence_box(pdf, 2, sentence)
    inside = yellow_pixels(image, box)
    area = (box[2] - box[0]) * (box[3] - box[1])
    assert inside > 0.5 * area, (inside, area)
    # Nothing else on the page is marked: all the yellow is in the sentence's box and the
    # padding drawn around it.
    margin = PAD_PX + 2
    padded = (box[0] - margin, box[1] - margin, box[2] + margin, box[3] + margin)
    assert yellow_pixels(image) == yellow_pixels(image, padded)


def test_a_sentence_wrapped_over_lines_is_marked_on_each(pdf: Path) -> None:
    image = render_page(pdf, 4, WIDTH, highlight=[WRAPPED])
    first, second = (
        sentence_box(pdf, 4, "The Lumora Observatory was founded"),
        sentence_box(pdf, 4, "clearest skies around."),
    )
    assert first[1] < second[1]  # on different lines
    assert yellow_pixels(image, first) > 0 and yellow_pixels(image, second) > 0


def test_a_sentence_with_a_different_word_is_marked_in_pieces(pdf: Path) -> None:
    # As if the ingested text had read one word differently from pdfium's text layer.
    altered = WRAPPED.replace("Brindlemoor", "Brindlemore")
    image = render_page(pdf, 4, WIDTH, highlight=[altered])
    start = sentence_box(pdf, 4, "The Lumora Observatory was founded")
    assert yellow_pixels(image, start) > 0


def test_text_not_on_the_page_draws_nothing(pdf: Path) -> None:
    from PIL import ImageChops

    plain = render_page(pdf, 2, WIDTH)
    marked = render_page(
        pdf,
        2,
        WIDTH,
        highlight=["The mirror weighs twelve tonnes and was cast in Glasgow.", "", "   "],
    )
    assert ImageChops.difference(plain.convert("RGB"), marked.convert("RGB")).getbbox() is None


def test_missing_file_or_page_gives_none(pdf: Path, tmp_path: Path) -> None:
    assert render_page(tmp_path / "gone.pdf", 1, highlight=["anything"]) is None
    assert render_page(pdf, 99, highlight=["anything"]) is None
