"""PDF files to numbered pages of text, with one-line errors for files that cannot be read.

Other formats become the same ``LoadedDocument`` of numbered sections (``ingest/formats.py``).
"""

from __future__ import annotations

import hashlib
import io
import logging
import math
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from pypdf import PageObject, PdfReader
from pypdf.errors import DependencyError, FileNotDecryptedError, LimitReachedError

from ingest import fallback, layout, tables
from ingest.ocr import INSTALL_HINT, OcrFn
from ingest.repair import repair_glyphs, repair_text
from rag_app.errors import RagError

PDF_MAGIC = b"%PDF-"


@dataclass(frozen=True)
class Page:
    number: int  # 1-based, as a PDF viewer shows it
    text: str
    ocr: bool = False  # the text came from OCR of the page image
    hidden: tuple[str, ...] = ()  # text drawn invisibly (white or tiny): flagged in sources
    section: str = ""  # heading path ("Tema 2 › Atención") in formats without pages


@dataclass(frozen=True)
class LoadedDocument:
    """A document as numbered pages of text: read from a PDF (or numbered sections, from the
    other formats), or given as text (``path`` None)."""

    path: Path | None
    name: str
    sha256: str
    size: int
    pages: list[Page]
    notes: tuple[str, ...] = ()  # per-page problems that did not stop the file (one line each)

    @property
    def page_count(self) -> int:
        return len(self.pages)


@dataclass(frozen=True)
class LoadOptions:
    max_file_mb: float = 200
    max_pages: int = 2000
    ocr: OcrFn | None = None  # None: pages without text are reported, not OCR'd
    no_ocr_reason: str = INSTALL_HINT
    # The fallback reader (ingest/fallback.py) for files pypdf refuses: its limits per file.
    fallback_seconds: float = 120
    fallback_memory_mb: int = 2048
    json_text_fields: tuple[str, ...] = ()  # JSON records: the fields that hold text (all: ())


def file_sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def text_document(name: str, pages: list[str]) -> LoadedDocument:
    """A document given as text, one string per page (benchmark corpora, other sources)."""
    data = "\f".join(pages).encode("utf-8", "surrogatepass")
    return LoadedDocument(
        path=None,
        name=name,
        sha256=file_sha256(data),
        size=len(data),
        pages=[Page(number=i + 1, text=clean_text(text)) for i, text in enumerate(pages)],
    )


# NUL and other control characters (not tab/newline/form feed), lone surrogates, zero-width
# spaces and bidi overrides: invisible, they break storage (NUL, surrogates) or search, and
# bidi overrides can make text read differently from what is stored.
_INVISIBLE = re.compile("[\x00-\x08\x0e-\x1f\x7f\u200b\u2060\ufeff\u202a-\u202e\u2066-\u2069]")
_SURROGATE = re.compile("[\ud800-\udfff]")


def clean_text(text: str) -> str:
    """Undo the typical PDF extraction artefacts so chunks read as prose."""
    text = _SURROGATE.sub("\ufffd", _INVISIBLE.sub("", text))
    text = unicodedata.normalize("NFC", text)  # "e" + combining accent == "é" for search
    text = repair_text(text.replace("\u00ad", ""))  # soft hyphens
    text = re.sub(r"(\w)-\n(\w)", r"\1\2", text)  # words hyphenated across lines
    text = re.sub(r"[ \t\f\v\r\u00a0]+", " ", text)
    text = re.sub(r" *\n *", "\n", text)
    text = re.sub(r"\n{3,}", "\n\n", text)
    return text.strip()


def load_pdf(path: Path, options: LoadOptions | None = None) -> LoadedDocument:
    """Read a PDF into pages. Raises ``RagError`` naming the file, the problem, and the remedy."""
    options = options or LoadOptions()
    data = _read(path, options)
    # pypdf logs recoverable damage as warnings; they are noise for a user who gets our summary.
    logging.getLogger("pypdf").setLevel(logging.ERROR)
    notes: list[str] = []
    try:
        pages = _read_pages(path.name, data, options)
    except _Refused as refused:
        pages, notes = _fallback(path.name, data, options, refused)
    if not pages:
        raise RagError(f"{path.name}: the PDF has no pages; re-export it with its content")
    pages, ocr_notes = _ocr_textless(path.name, data, pages, options)
    notes += ocr_notes
    if not any(page.text for page in pages):
        raise RagError(
            f"{path.name}: no text layer on any of its {len(pages)} pages (a scan?); "
            f"{options.no_ocr_reason if options.ocr is None else 'OCR found no text either'}"
        )
    return LoadedDocument(
        path=path,
        name=path.name,
        sha256=file_sha256(data),
        size=len(data),
        pages=pages,
        notes=tuple(notes),
    )


def _structured(data: bytes, read: list[_PageRead]) -> list[Page]:
    """The pages' text with their structure (``ingest.layout``) and their tables written out
    row by row (``ingest.tables``)."""
    lines = [layout.lines_of(r.runs) for r in read]  # read once: the body's style, then each page
    body = layout.body_of(lines)
    ruled = [r.page.number for r in read if tables.might_hold_table(r.rulings)]
    found = tables.table_texts(data, ruled)
    pages = []
    for r, page_lines in zip(read, lines, strict=True):
        text = clean_text(layout.structured_text(page_lines, body)) if r.runs else r.page.text
        if r.page.number in found:
            text = f"{text}\n\n{clean_text(found[r.page.number])}".strip()
        pages.append(replace(r.page, text=text))
    return pages


class _Refused(Exception):
    """pypdf could not read the file, for a reason another reader may not share."""

    def __init__(self, problem: str, remedy: str) -> None:
        super().__init__(problem)
        self.problem, self.remedy = problem, remedy


def _read_pages(name: str, data: bytes, options: LoadOptions) -> list[Page]:
    """The pages as pypdf reads them. ``RagError`` for what no reader can help with (a
    password, too many pages), ``_Refused`` for what the fallback reader may read."""
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            raise FileNotDecryptedError
        count = len(reader.pages)
        if count > options.max_pages:
            raise RagError(
                f"{name}: {count} pages, over the limit of {options.max_pages}; split it, "
                "or raise RAG_INGEST__MAX_PAGES"
            )
        read = [_page(i + 1, page) for i, page in enumerate(reader.pages)]
        return _structured(data, read)
    except RagError:
        raise
    except FileNotDecryptedError:
        raise RagError(
            f"{name}: password-protected; save an unprotected copy and ingest that"
        ) from None
    except DependencyError as exc:
        raise RagError(
            f"{name}: cannot be decrypted ({exc}); reinstall rag-app (make install)"
        ) from None
    except LimitReachedError as exc:
        raise _Refused(
            f"exceeds the PDF reader's safety limits ({exc})",
            "re-export it (e.g. print to PDF) and ingest the copy",
        ) from None
    except Exception as exc:
        # pypdf raises many types on malformed files (NotImplementedError for unsupported
        # filters, KeyError, ValueError...): each is this one file's problem, not the batch's.
        detail = " ".join(f"{type(exc).__name__}: {exc}".split())[:200]
        raise _Refused(
            f"damaged or truncated PDF ({detail})", "re-export or re-download it"
        ) from None


def _fallback(
    name: str, data: bytes, options: LoadOptions, refused: _Refused
) -> tuple[list[Page], list[str]]:
    """The pages as the fallback reader reads them, and the note that says so; or the one-line
    error of pypdf's refusal, with why the fallback could not help."""
    try:
        texts = fallback.read_pages(
            data, options.max_pages, options.fallback_memory_mb, options.fallback_seconds
        )
        if not any(text.strip() for text in texts):
            raise RagError("the fallback reader found no text in it either")
    except RagError as exc:
        raise RagError(f"{name}: {refused.problem}, and {exc}; {refused.remedy}") from None
    pages = [Page(number, clean_text(text)) for number, text in enumerate(texts, start=1)]
    note = f"{name}: pypdf could not read it ({refused.problem}); read with the fallback reader"
    return pages, [f"{note} (PDFium), {len(pages)} pages"]


def _read(path: Path, options: LoadOptions) -> bytes:
    """The PDF's bytes, after the checks that need no parsing."""
    data = read_file(path, options)
    if PDF_MAGIC not in data[:1024]:
        raise RagError(f"{path.name}: not a PDF (no %PDF header); convert it to PDF first")
    return data


def read_file(path: Path, options: LoadOptions) -> bytes:
    """A document's bytes, after the checks every format shares: size, readable, a UTF-8 name,
    not empty."""
    try:
        size = path.stat().st_size
        if size > options.max_file_mb * 1_000_000:
            raise RagError(
                f"{path.name}: {size / 1e6:.1f} MB, over the limit of {options.max_file_mb:g} MB; "
                "split it, or raise RAG_INGEST__MAX_FILE_MB"
            )
        data = path.read_bytes()
    except FileNotFoundError:
        raise RagError(f"{path}: file not found; check the path") from None
    except IsADirectoryError:
        raise RagError(f"{path}: is a folder, not a PDF file") from None
    except OSError as exc:
        raise RagError(f"{path}: cannot be read ({exc.strerror}); check its permissions") from None
    try:
        path.name.encode("utf-8")
    except UnicodeEncodeError:
        raise RagError(
            f"{path.name!r}: the file name is not valid UTF-8; rename the file"
        ) from None
    if not data:
        raise RagError(f"{path.name}: the file is empty (0 bytes); re-export or re-download it")
    return data


def _ocr_textless(
    name: str, data: bytes, pages: list[Page], options: LoadOptions
) -> tuple[list[Page], list[str]]:
    """OCR the pages without a text layer, or say which pages would need it."""
    textless = [p.number for p in pages if not p.text]
    if not textless:
        return pages, []
    if options.ocr is None:
        if len(textless) == len(pages):
            return pages, []  # the caller refuses the whole file with the reason
        return pages, [
            f"{name}: page(s) {_ranges(textless)} have no text layer (scanned or blank) and were "
            f"skipped; {options.no_ocr_reason}"
        ]
    done: list[Page] = []
    empty: list[int] = []
    for page in pages:
        if page.text:
            done.append(page)
            continue
        text = clean_text(options.ocr(data, page.number - 1))
        done.append(replace(page, text=text, ocr=bool(text)))
        if not text:
            empty.append(page.number)
    notes = [f"{name}: page(s) {_ranges(textless)} had no text layer: read by OCR"]
    if empty:
        notes.append(f"{name}: page(s) {_ranges(empty)} are blank (OCR found no text); skipped")
    return done, notes


def _ranges(numbers: list[int]) -> str:
    """[1, 2, 3, 5] -> '1-3, 5'."""
    parts: list[str] = []
    start = prev = numbers[0]
    for n in [*numbers[1:], None]:
        if n is not None and n == prev + 1:
            prev = n
            continue
        parts.append(str(start) if start == prev else f"{start}-{prev}")
        if n is not None:
            start = prev = n
    return ", ".join(parts)


@dataclass(frozen=True)
class _PageRead:
    page: Page
    runs: list[layout.Run]  # its text runs, [] when they do not add up to its text
    rulings: int  # lines and rectangles it draws (a table's grid, or a frame)


def _page(number: int, page: PageObject) -> _PageRead:
    """A page's text, and the runs of it drawn invisibly: white fill or under 2 pt tall
    (a known trick to hide instructions for a model in a document); with the text runs that
    ``ingest.layout`` reads the page's structure from, and how many lines it draws."""
    fill_white = [False]
    rulings = [0]
    stack: list[bool] = []
    hidden: list[str] = []
    run: list[str] = []
    runs: list[layout.Run] = []

    def before(op: bytes, args: list[Any], cm: list[float], tm: list[float]) -> None:
        if op in (b"re", b"l"):
            rulings[0] += 1
        elif op == b"q":
            stack.append(fill_white[0])
        elif op == b"Q" and stack:
            fill_white[0] = stack.pop()
        elif op in (b"g", b"rg", b"k", b"sc", b"scn"):
            values = [float(a) for a in args if isinstance(a, int | float)]
            if op == b"k":
                fill_white[0] = bool(values) and all(v <= 0.05 for v in values)
            else:
                fill_white[0] = bool(values) and all(v >= 0.95 for v in values)

    def on_text(text: str, cm: list[float], tm: list[float], font: Any, size: float) -> None:
        if text:
            runs.append(layout.run_of(text, font, size, cm, tm))
        if not text.strip():
            return
        height = abs(size) * math.hypot(tm[0], tm[1]) * math.hypot(cm[0], cm[1])
        if fill_white[0] or height < 2.0:
            run.append(text)
        elif run:
            hidden.append(" ".join("".join(run).split()))
            run.clear()

    text = page.extract_text(visitor_operand_before=before, visitor_text=on_text) or ""
    if not text.strip() and (contents := page.get_contents()) is not None:
        contents.get_data()  # extract_text hides a LimitReachedError: let it name the real cause
    if run:
        hidden.append(" ".join("".join(run).split()))
    read = Page(number, clean_text(text), hidden=tuple(h for h in hidden if len(h) >= 8))
    whole = "".join(r.text for r in runs) == repair_glyphs(text)
    return _PageRead(read, runs if whole else [], rulings[0])


def find_documents(paths: list[Path], suffixes: Iterable[str]) -> tuple[list[Path], list[str]]:
    """Expand folders (recursively) to their files of the given suffixes (".pdf", ".md"...).
    Returns files and one-line errors."""
    wanted = {suffix.lower() for suffix in suffixes}
    files: list[Path] = []
    errors: list[str] = []
    for path in paths:
        if path.is_dir():
            found = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in wanted)
            if not found:
                errors.append(
                    f"{path}: folder holds no supported files ({', '.join(sorted(wanted))})"
                )
            files.extend(found)
        elif path.is_file():
            files.append(path)
        elif path.exists():
            errors.append(f"{path}: not a regular file (a pipe or device?); give a document file")
        else:
            errors.append(f"{path}: no such file or folder; check the path")
    return list(dict.fromkeys(files)), errors
