"""What test modules of different tiers share: a store ready to check, a stray chunk, the
astronomy QA sample, a data dir ingested with the real embedder."""

from __future__ import annotations

from pathlib import Path

from langchain_core.documents import Document
from langchain_core.embeddings import Embeddings

from rag_app.evaluation.dataset import load_qa
from rag_app.service import RagService
from rag_app.settings import Settings, load_settings
from tests.support.embeddings import BagOfWordsEmbeddings
from tests.support.pdfs import COURSE_PAGES, make_pdf

QUESTION = "How wide is the mirror of the main telescope?"
REFERENCE = "The mirror of the main telescope is 2.4 metres wide."


def checked_service(settings: Settings, *pdfs: Path) -> RagService:
    """A store holding ``pdfs`` (the tiny embedder), consistent to begin with."""
    service = RagService(settings, embeddings=BagOfWordsEmbeddings())
    assert not service.ingest(list(pdfs)).failed
    assert service.check().ok
    return service


def no_ocr_service(settings: Settings) -> RagService:
    """OCR off, so scans fail the same way whether or not Tesseract is installed here."""
    no_ocr = settings.model_copy(
        update={"ingest": settings.ingest.model_copy(update={"ocr": False})}
    )
    return RagService(no_ocr, embeddings=BagOfWordsEmbeddings())


def stray_chunk(doc_id: str, i: int, text: str = "stray words") -> Document:
    """A chunk as the store writes them, for a document the registry may not know."""
    return Document(
        id=f"{doc_id}-{i:06d}",
        page_content=text,
        metadata={"doc_id": doc_id, "source": f"{doc_id}.pdf", "page": 1, "chunk": i},
    )


def qa_sample(tmp_path: Path) -> object:
    """QUESTION and REFERENCE as a one-line QA file would give them (page 3 of astronomy.pdf)."""
    path = tmp_path / "qa.jsonl"
    path.write_text(
        f'{{"question": "{QUESTION}", "answer": "{REFERENCE}", "source": "astronomy.pdf", '
        '"page": 3}\n',
        encoding="utf-8",
    )
    return load_qa(path)[0]


def astronomy_data_dir(folder: Path, embeddings: Embeddings) -> Path:
    """A data dir holding the course PDF, ingested with ``embeddings``."""
    pdf = make_pdf(folder / "pdfs" / "astronomy.pdf", COURSE_PAGES)
    service = RagService(load_settings(data_dir=folder / "data"), embeddings=embeddings)
    assert service.ingest([pdf]).ingested
    return folder / "data"
