"""`rag docs check [--repair]`: registry, Chroma and keyword index compared, on stores broken
on purpose (real Chroma in a temp dir, the small test embedder)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from rag_app.service import RagService
from rag_app.settings import Settings
from tests.support.pdfs import make_pdf
from tests.support.shared import checked_service, stray_chunk


@pytest.fixture
def service(settings: Settings, course_pdf: Path, spanish_pdf: Path) -> RagService:
    return checked_service(settings, course_pdf, spanish_pdf)


chunk = stray_chunk


def break_store(service: RagService, tmp_path: Path) -> None:
    store, emb = service.store, service.embeddings
    astronomy = store.find("astronomy.pdf")
    assert astronomy is not None
    # 1. a ready document lost a chunk (e.g. a store copied half-way)
    store.chunks.collection.delete(ids=[f"{astronomy.doc_id}-000000"])
    # 2. a pending document left by a crash, with a chunk
    pending = replace(astronomy, doc_id="pending00000000", source="half.pdf")
    store.begin(pending)
    store.add([chunk("pending00000000", 0)], emb.embed_documents(["stray words"]))
    # 3. chunks of a document the registry does not know
    store.chunks.add([chunk("orphan000000000", 0)], emb.embed_documents(["stray words"]))
    # 4. keyword rows without vectors
    store.keyword.add([chunk("ghost0000000000", 0)])
    # 5. an older version of a file still registered beside the newer one
    old = make_pdf(tmp_path / "old" / "biologia.pdf", ["La versión antigua."])
    from ingest.loaders import load_pdf
    from ingest.splitter import split_document

    old_chunks = split_document(load_pdf(old), 800, 120)
    old_record = replace(
        store.find("biologia.pdf"),  # type: ignore[type-var]
        doc_id=old_chunks[0].metadata["doc_id"],
        chunks=len(old_chunks),
        ingested_at="2000-01-01T00:00:00+00:00",
    )
    store.begin(old_record)
    store.add(old_chunks, emb.embed_documents([c.page_content for c in old_chunks]))
    store.commit(old_record, previous={})


def test_check_finds_and_repairs_each_break(service: RagService, tmp_path: Path) -> None:
    break_store(service, tmp_path)
    found = service.check()
    assert not found.ok
    text = "\n".join(found.problems)
    assert "astronomy.pdf: 2 chunks stored, 3 expected" in text
    assert "half.pdf: left pending by an interrupted ingest" in text
    assert "1 chunk(s) of 1 unregistered document(s)" in text
    # the ghost row and the lost astronomy chunk's row; the orphan chunk has no row
    assert "keyword index: 2 row(s) without a vector, 1 chunk(s) missing from it" in text
    assert "biologia.pdf: an older version is still stored" in text

    repaired = service.check(repair=True)
    assert repaired.ok, repaired.problems
    course = service.settings.data_dir.parent / "pdfs" / "astronomy.pdf"
    assert (
        f"removed astronomy.pdf: 2 chunks stored, 3 expected; ingest {course} again"
        in repaired.repaired
    )
    assert [d.source for d in service.documents()] == ["biologia.pdf"]
    kept = service.documents()[0]
    assert service.store.chunks.count() == kept.chunks == service.store.keyword.count()
    assert service.retrieve("fotosíntesis cloroplastos", k=1)[0].source == "biologia.pdf"
    assert service.check().ok
