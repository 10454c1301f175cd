"""Pages (or sections) to chunks that keep their page number (and section), with ids stable
across runs."""

from __future__ import annotations

import hashlib

from langchain_core.documents import Document
from langchain_text_splitters import RecursiveCharacterTextSplitter

from ingest.loaders import LoadedDocument, Page
from ingest.sections import HEADING_LINE, SECTION_DEPTH, Headings

# Paragraphs, lines, sentences (also after Spanish ¿…? / ¡…!), words, characters.
SEPARATORS = ["\n\n", "\n", ". ", "? ", "! ", "; ", ", ", " ", ""]


def document_id(name: str, sha256: str) -> str:
    """One id per (file name, content): a changed file gets a new id, an unchanged one keeps it."""
    return hashlib.sha256(f"{name}\0{sha256}".encode()).hexdigest()[:16]


def chunk_id(doc_id: str, index: int) -> str:
    return f"{doc_id}-{index:06d}"


def next_chunk_id(chunk: str) -> str | None:
    """The id of the chunk after ``chunk`` in its document (None for an id of another form)."""
    doc_id, _, index = chunk.rpartition("-")
    return chunk_id(doc_id, int(index) + 1) if doc_id and index.isdigit() else None


def split_document(pdf: LoadedDocument, chunk_size: int, chunk_overlap: int) -> list[Document]:
    """Split page by page, so every chunk lies on exactly one page and cites it exactly."""
    doc_id = document_id(pdf.name, pdf.sha256)
    chunks: list[Document] = []
    headings = Headings()  # a PDF's headings, read across its pages
    for page in pdf.pages:
        if page.section:
            pieces = [(page.section, t) for t in _split_page(page, chunk_size, chunk_overlap)]
        else:
            pieces = _split_pdf_page(page.text, headings, chunk_size, chunk_overlap)
        for section, text in pieces:
            index = len(chunks)
            metadata: dict[str, str | int | bool] = {
                "source": pdf.name,
                "page": page.number,
                "chunk": index,
                "doc_id": doc_id,
                "sha256": hashlib.sha256(text.encode()).hexdigest()[:16],
            }
            if section:
                metadata["section"] = section
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


MAX_OVERLAP = 400  # the most text two neighbouring chunks are looked at sharing


def continued(text: str, following: str, section: str = "") -> str:
    """A chunk's text with the next chunk's (whose heading path is ``section``) after it,
    without what both hold: the overlap, and the next chunk's first line, its path."""
    if section and following.startswith(f"{section}\n"):
        following = following[len(section) + 1 :]
    for size in range(min(len(following), len(text), MAX_OVERLAP), 0, -1):
        if text.endswith(following[:size]):
            return text + following[size:]
    return f"{text}\n{following}"


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


def _split_pdf_page(
    text: str, headings: Headings, chunk_size: int, chunk_overlap: int
) -> list[tuple[str, str]]:
    """A PDF page's chunks with the heading path in effect where each starts (headings from
    earlier pages included), the path as the chunk's first line so that its words are
    searched and scored with it, as in the formats with sections."""
    pieces: list[tuple[str, str]] = []
    done = 0  # the page's text read into ``headings`` so far
    start = 0
    for chunk in _splitter(chunk_size, chunk_overlap).split_text(text):
        at = text.find(chunk, start)
        at = at if at >= 0 else start
        first_line = chunk.split("\n", 1)[0]
        upto = at + len(first_line) if HEADING_LINE.match(first_line) else at
        if upto > done:
            headings.read(text[done:upto])
            done = upto
        start = at + 1
        path = headings.path(SECTION_DEPTH)
        pieces.append((path, f"{path}\n{chunk}" if path else chunk))
    headings.read(text[done:])
    return pieces


def _holds_hidden(text: str, hidden: tuple[str, ...]) -> bool:
    """Whether the chunk carries part of a run of invisibly drawn text. Compared without
    whitespace (text fragments and extracted lines space words differently), by 30-character
    windows, since the splitter may cut a run across chunks."""
    flat = "".join(text.split())
    runs = ["".join(run.split()) for run in hidden]
    return any(run[i : i + 30] in flat for run in runs for i in range(0, max(len(run) - 29, 1), 15))
