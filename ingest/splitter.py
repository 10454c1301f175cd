"""Pages to chunks that keep their page number, with ids stable across runs."""

from __future__ import annotations

import hashlib

from langchain_core.documents import Document
from langchain_text_splitters import RecursiveCharacterTextSplitter

from ingest.loaders import PdfDocument

# Paragraphs, lines, sentences (also after Spanish ¿…? / ¡…!), words, characters.
SEPARATORS = ["\n\n", "\n", ". ", "? ", "! ", "; ", ", ", " ", ""]


def document_id(name: str, sha256: str) -> str:
    """One id per (file name, content): a changed file gets a new id, an unchanged one keeps it."""
    return hashlib.sha256(f"{name}\0{sha256}".encode()).hexdigest()[:16]


def chunk_id(doc_id: str, index: int) -> str:
    return f"{doc_id}-{index:06d}"


def split_document(pdf: PdfDocument, chunk_size: int, chunk_overlap: int) -> list[Document]:
    """Split page by page, so every chunk lies on exactly one page and cites it exactly."""
    splitter = RecursiveCharacterTextSplitter(
        chunk_size=chunk_size,
        chunk_overlap=chunk_overlap,
        separators=SEPARATORS,
        keep_separator="end",
        strip_whitespace=True,
    )
    doc_id = document_id(pdf.name, pdf.sha256)
    chunks: list[Document] = []
    for page in pdf.pages:
        for text in splitter.split_text(page.text):
            index = len(chunks)
            metadata: dict[str, str | int | bool] = {
                "source": pdf.name,
                "page": page.number,
                "chunk": index,
                "doc_id": doc_id,
                "sha256": hashlib.sha256(text.encode()).hexdigest()[:16],
            }
            if page.ocr:
                metadata["ocr"] = True
            if _holds_hidden(text, page.hidden):
                metadata["hidden_text"] = True
            chunks.append(
                Document(id=chunk_id(doc_id, index), page_content=text, metadata=metadata)
            )
    return chunks


def _holds_hidden(text: str, hidden: tuple[str, ...]) -> bool:
    """Whether the chunk carries part of a run of invisibly drawn text. Compared without
    whitespace (text fragments and extracted lines space words differently), by 30-character
    windows, since the splitter may cut a run across chunks."""
    flat = "".join(text.split())
    runs = ["".join(run.split()) for run in hidden]
    return any(run[i : i + 30] in flat for run in runs for i in range(0, max(len(run) - 29, 1), 15))
