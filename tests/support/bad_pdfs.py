"""Generators of the awkward inputs a real folder of PDFs holds: broken, encrypted, scanned,
enormous, odd text, and text hidden from the reader (instructions aimed at the model)."""

from __future__ import annotations

import io
import textwrap
import zlib
from pathlib import Path

import pytest
from pypdf import PdfReader, PdfWriter
from reportlab.lib.pagesizes import A4
from reportlab.lib.utils import ImageReader
from reportlab.pdfgen import canvas

from tests.support.pdfs import COURSE_PAGES, make_pdf

DEJAVU = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")


def truncated(path: Path) -> Path:
    data = make_pdf(path, COURSE_PAGES).read_bytes()
    path.write_bytes(data[: len(data) // 2])
    return path


def corrupt_xref(path: Path) -> Path:
    """Every offset in the cross-reference table wrong (as after a bad text-mode transfer)."""
    data = make_pdf(path, COURSE_PAGES).read_bytes()
    head, sep, tail = data.rpartition(b"\nxref\n")
    table, trailer, rest = tail.partition(b"trailer")
    broken = b"\n".join(
        b"0000000999" + line[10:] if line[:10].isdigit() else line for line in table.split(b"\n")
    )
    path.write_bytes(head + sep + broken + trailer + rest)
    return path


def not_a_pdf(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"PK\x03\x04 a zip file (e.g. a .docx) renamed to .pdf" + bytes(200))
    return path


def empty(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"")
    return path


def no_pages(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as handle:
        PdfWriter().write(handle)
    return path


def encrypted(path: Path, user_password: str, pages: list[str]) -> Path:
    """AES-256 (the modern default; needs `cryptography` to open)."""
    plain = make_pdf(path.with_suffix(".plain.pdf"), pages)
    writer = PdfWriter(clone_from=PdfReader(plain))
    writer.encrypt(user_password=user_password, owner_password="owner-pw", algorithm="AES-256")
    with path.open("wb") as handle:
        writer.write(handle)
    plain.unlink()
    return path


def _raw_pdf(path: Path, objects: list[bytes]) -> Path:
    """A PDF file of these objects (object 1 the catalog), with a correct cross-reference table."""
    out = bytearray(b"%PDF-1.7\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(bytes(out))
    return path


def huge_array(path: Path, pages: list[str], elements: int = 100_001) -> Path:
    """Pages of plain text whose page dictionaries also hold an array of ``elements`` numbers:
    over pypdf's limit of 100,000 (as in real quarterly filings), nothing to a PDF viewer."""
    count = len(pages)
    font = 3 + 2 * count
    kids = b" ".join(b"%d 0 R" % (3 + 2 * i) for i in range(count))
    junk = b"[" + b" 0" * elements + b" ]"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [%s] /Count %d >>" % (kids, count),
    ]
    for i, text in enumerate(pages):
        lines = textwrap.wrap(text, 80)
        shown = b" ".join(
            b"(%s) Tj 0 -14 Td" % line.encode("latin-1").replace(b"(", b"\\(").replace(b")", b"\\)")
            for line in lines
        )
        content = b"BT /F1 11 Tf 72 770 Td " + shown + b" ET"
        objects.append(
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents %d 0 R "
            b"/Resources << /Font << /F1 %d 0 R >> >> /PieceInfo << /Data %s >> >>"
            % (4 + 2 * i, font, junk)
        )
        objects.append(b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream")
    objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    return _raw_pdf(path, objects)


def decompression_bomb(path: Path) -> Path:
    """A page whose content stream inflates to 120 MB: over pypdf's own output limit."""
    content = zlib.compress(b" " * 120_000_000, 9)
    return _raw_pdf(
        path,
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] /Contents 4 0 R >>",
            b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(content)
            + content
            + b"\nendstream",
        ],
    )


def text_image(lines: list[str], width: int = 1240, size: int = 34) -> object:
    """Lines of text as a white PIL image (what a scanner would produce), no text layer."""
    from PIL import Image, ImageDraw, ImageFont

    font = ImageFont.truetype(str(DEJAVU), size)
    image = Image.new("L", (width, 120 + len(lines) * int(size * 1.6)), 255)
    draw = ImageDraw.Draw(image)
    for i, line in enumerate(lines):
        draw.text((60, 60 + i * int(size * 1.6)), line, fill=0, font=font)
    return image


def scanned(path: Path, pages: list[list[str] | str]) -> Path:
    """A page per item: a list of lines is drawn as an image only (a scan), a string as text."""
    path.parent.mkdir(parents=True, exist_ok=True)
    pdf = canvas.Canvas(str(path), pagesize=A4)
    width, height = A4
    for page in pages:
        if isinstance(page, str):
            pdf.setFont("Helvetica", 11)
            pdf.drawString(72, height - 72, page)
        else:
            image = text_image(page)
            buffer = io.BytesIO()
            image.save(buffer, format="PNG")  # type: ignore[attr-defined]
            buffer.seek(0)
            shown = width - 72
            tall = shown * image.height / image.width  # type: ignore[attr-defined]
            pdf.drawImage(ImageReader(buffer), 36, height - 36 - tall, shown, tall)
        pdf.showPage()
    pdf.save()
    return path


def long_line(path: Path, words: int = 6000) -> Path:
    """One page holding a single line of ~40,000 characters (no line breaks at all)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    pdf = canvas.Canvas(str(path), pagesize=(200_000, 200), pageCompression=1)
    pdf.setFont("Helvetica", 10)
    pdf.drawString(10, 100, " ".join(f"lumora{i % 97}" for i in range(words)))
    pdf.showPage()
    pdf.save()
    return path


def unicode_pdf(path: Path, lines: list[str]) -> Path:
    """Text in a Unicode TrueType font (DejaVu): right-to-left scripts, combining marks..."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    pdfmetrics.registerFont(TTFont("DejaVu", str(DEJAVU)))
    path.parent.mkdir(parents=True, exist_ok=True)
    pdf = canvas.Canvas(str(path), pagesize=A4)
    pdf.setFont("DejaVu", 12)
    for i, line in enumerate(lines):
        pdf.drawString(72, 760 - 20 * i, line)
    pdf.showPage()
    pdf.save()
    return path


def with_hidden_text(path: Path, visible: str, hidden: str, how: str) -> Path:
    """A page of ordinary text plus ``hidden`` drawn in white ("white"), at 1 pt ("tiny"), or
    plainly ("visible"), on its own line below it (tests of injection flags, and
    bench.studies.injection_study)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    pdf = canvas.Canvas(str(path), pagesize=A4)
    pdf.setFont("Helvetica", 11)
    pdf.drawString(72, 760, visible)
    if how == "white":
        pdf.setFillColorRGB(1, 1, 1)
    pdf.setFont("Helvetica", 1 if how == "tiny" else 11)
    pdf.drawString(72, 740, hidden)
    pdf.setFillColorRGB(0, 0, 0)
    pdf.setFont("Helvetica", 11)
    pdf.drawString(72, 720, "End of the notice.")
    pdf.showPage()
    pdf.save()
    return path


needs_dejavu = pytest.mark.skipif(
    not DEJAVU.is_file(), reason="DejaVu fonts not installed (Debian fonts-dejavu-core)"
)


# Each case: a generator, the problem the line must name, and the remedy it must suggest.
FAILING = {
    "truncated.pdf": (truncated, "damaged or truncated", "re-export or re-download"),
    "renamed-zip.pdf": (not_a_pdf, "not a PDF", "convert it to PDF"),
    "empty.pdf": (empty, "empty (0 bytes)", "re-export or re-download"),
    "no-pages.pdf": (no_pages, "has no pages", "re-export"),
    "locked.pdf": (
        lambda p: encrypted(p, "s3cret", ["Secret plans."]),
        "password-protected",
        "unprotected copy",
    ),
    "bomb.pdf": (decompression_bomb, "safety limits", "re-export"),
}
