"""PDF files to numbered pages of text, with one-line errors for files that cannot be read."""

from __future__ import annotations

import hashlib
import io
import logging
import re
from dataclasses import dataclass
from pathlib import Path

from pypdf import PdfReader
from pypdf.errors import FileNotDecryptedError

from rag_app.errors import RagError

PDF_MAGIC = b"%PDF-"


@dataclass(frozen=True)
class Page:
    number: int  # 1-based, as a PDF viewer shows it
    text: str


@dataclass(frozen=True)
class PdfDocument:
    """A document as numbered pages of text: read from a PDF, or given as text (``path`` None)."""

    path: Path | None
    name: str
    sha256: str
    size: int
    pages: list[Page]

    @property
    def page_count(self) -> int:
        return len(self.pages)


def file_sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def text_document(name: str, pages: list[str]) -> PdfDocument:
    """A document given as text, one string per page (benchmark corpora, other sources)."""
    data = "\f".join(pages).encode("utf-8")
    return PdfDocument(
        path=None,
        name=name,
        sha256=file_sha256(data),
        size=len(data),
        pages=[Page(number=i + 1, text=clean_text(text)) for i, text in enumerate(pages)],
    )


def clean_text(text: str) -> str:
    """Undo the typical PDF extraction artefacts so chunks read as prose."""
    text = text.replace("\u00ad", "")  # soft hyphens
    text = re.sub(r"(\w)-\n(\w)", r"\1\2", text)  # words hyphenated across lines
    text = re.sub(r"[ \t\f\v\u00a0]+", " ", text)
    text = re.sub(r" *\n *", "\n", text)
    text = re.sub(r"\n{3,}", "\n\n", text)
    return text.strip()


def load_pdf(path: Path) -> PdfDocument:
    """Read a PDF into pages. Raises ``RagError`` naming the file, the problem, and the remedy."""
    try:
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
    if PDF_MAGIC not in data[:1024]:
        raise RagError(f"{path.name}: not a PDF (no %PDF header); convert it to PDF first")

    # pypdf logs recoverable damage as warnings; they are noise for a user who gets our summary.
    logging.getLogger("pypdf").setLevel(logging.ERROR)
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            raise FileNotDecryptedError
        pages = [
            Page(number=i + 1, text=clean_text(page.extract_text() or ""))
            for i, page in enumerate(reader.pages)
        ]
    except FileNotDecryptedError:
        raise RagError(
            f"{path.name}: password-protected; save an unprotected copy and ingest that"
        ) from None
    except Exception as exc:
        # pypdf raises many types on malformed files (NotImplementedError for unsupported
        # filters, KeyError, ValueError...): each is this one file's problem, not the batch's.
        raise RagError(
            f"{path.name}: damaged or truncated PDF ({type(exc).__name__}: {exc}); "
            "re-export or re-download it"
        ) from None
    if not pages:
        raise RagError(f"{path.name}: the PDF has no pages")
    if not any(page.text for page in pages):
        raise RagError(
            f"{path.name}: no text layer on any of its {len(pages)} pages (a scan?); "
            "OCR it first (e.g. ocrmypdf) and ingest the result"
        )
    return PdfDocument(
        path=path, name=path.name, sha256=file_sha256(data), size=len(data), pages=pages
    )


def find_pdfs(paths: list[Path]) -> tuple[list[Path], list[str]]:
    """Expand folders (recursively) to their PDFs. Returns files and one-line errors."""
    files: list[Path] = []
    errors: list[str] = []
    for path in paths:
        if path.is_dir():
            found = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() == ".pdf")
            if not found:
                errors.append(f"{path}: folder holds no .pdf files")
            files.extend(found)
        elif path.is_file():
            files.append(path)
        elif path.exists():
            errors.append(f"{path}: not a regular file (a pipe or device?); give a PDF file")
        else:
            errors.append(f"{path}: no such file or folder; check the path")
    return list(dict.fromkeys(files)), errors
