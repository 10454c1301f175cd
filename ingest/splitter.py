"""Pages (or sections) to chunks that keep their page number (and section), with ids stable
across runs."""

from __future__ import annotations

import hashlib

from langchain_core.documents import Document
from langchain_text_splitters import RecursiveCharacterTextSplitter

from ingest.loaders import Page, PdfDocument

# Paragraphs, lines, sentences (also after Spanish ¿…? / ¡…!), words, characters.
SEPARATORS = ["\n\n", "\n", ". ", "? ", "! ", "; ", ", ", " ", ""]


def document_id(name: str, sha256: str) -> str:
    """One id per (file name, content): a changed file gets a new id, an unchanged one keeps it."""
    return hashlib.sha256(f"{name}\0{sha256}".encode()).hexdigest()[:16]


def chunk_id(doc_id: str, index: int) -> str:
    return f"{doc_id}-{index:06d}"


def split_document(pdf: PdfDocument, chunk_size: int, chunk_overlap: int) -> list[Document]:
    """Split page by page, so every chunk lies on exactly one page and cites it exactly."""
    doc_id = document_id(pdf.name, pdf.sha256)
    chunks: list[Document] = []
    for page in pdf.pages:
        for text in _split_page(page, chunk_size, chunk_overlap):
            index = len(chunks)
            metadata: dict[str, str | int | bool] = {
                "source": pdf.name,
                "page": page.number,
                "chunk": index,
                "doc_id": doc_id,
                "sha256": hashlib.sha256(text.encode()).hexdigest()[:16],
            }
            if page.section:
                metadata["section"] = page.section
            if page.ocr:
                metadata["ocr"] = True
            if _holds_hidden(text, page.hidden):
                metadata["hidden_text"] = True
            chunks.append(
                Document(id=chunk_id(doc_id, index), page_content=text, metadata=metadata)
            )
    return chunks


def _splitter(chunk_size: int, chunk_overlap: int) -> RecursiveCharacterTextSplitter:
    return RecursiveCharacterTextSplitter(
        chunk_size=chunk_size,
        chunk_overlap=chunk_overlap,
        separators=SEPARATORS,
        keep_separator="end",
        strip_whitespace=True,
    )


def _split_page(page: Page, chunk_size: int, chunk_overlap: int) -> list[str]:
    """A page's chunks. A section (formats without pages) starts with its heading path: its
    body is split, and every chunk gets the path as its first line, so each one says what it
    is about ("Assignment 3 › Deadline") for retrieval and for the evidence scorer."""
    head = f"{page.section}\n"
    if not page.section or not page.text.startswith(head):
        return _splitter(chunk_size, chunk_overlap).split_text(page.text)
    room = max(chunk_size - len(head), chunk_size // 2)
    body = _splitter(room, min(chunk_overlap, room // 2)).split_text(page.text[len(head) :])
    return [head + text for text in body]


def _holds_hidden(text: str, hidden: tuple[str, ...]) -> bool:
    """Whether the chunk carries part of a run of invisibly drawn text. Compared without
    whitespace (text fragments and extracted lines space words differently), by 30-character
    windows, since the splitter may cut a run across chunks."""
    flat = "".join(text.split())
    runs = ["".join(run.split()) for run in hidden]
    return any(run[i : i + 30] in flat for run in runs for i in range(0, max(len(run) - 29, 1), 15))
