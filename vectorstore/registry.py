"""The document registry: one record per ingested document, kept in Chroma beside the chunks.

Living in the same Chroma as the chunks (embedded or, later, a server) means one place of truth
to back up or share. A record is written as ``pending`` before its chunks go in and turned
``ready`` after the last one: queries only see chunks of ready documents, and a run interrupted
part-way leaves a pending record that the next run uses to remove the partial chunks.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, fields
from typing import Any, Literal

from chromadb.api import ClientAPI

# pending: being written (never searched); ready: searchable; missing: its file is gone from
# a linked folder (not searched, kept for a grace period in case it comes back).
Status = Literal["pending", "ready", "missing"]
# Chroma needs a vector per record; the registry is looked up by id and metadata only.
_NO_VECTOR: list[Sequence[float]] = [[0.0]]


@dataclass(frozen=True)
class DocumentRecord:
    doc_id: str
    source: str  # the file name, the document's identity for users
    sha256: str
    size: int
    pages: int
    chunks: int
    ingested_at: str  # ISO 8601, UTC
    status: Status = "ready"
    path: str = ""  # where the file was read from, to show its pages later
    missing_since: str = ""  # ISO 8601, UTC: when a sync found its file gone

    def to_dict(self) -> dict[str, str | int]:
        """A document as users see it (`rag docs --json`, the API's /documents): the same
        fields in both."""
        return {
            "source": self.source,
            "pages": self.pages,
            "chunks": self.chunks,
            "ingested_at": self.ingested_at,
            "sha256": self.sha256,
            "size": self.size,
        }


class Registry:
    def __init__(self, client: ClientAPI, name: str) -> None:
        self.collection = client.get_or_create_collection(name=name, embedding_function=None)

    def put(self, *records: DocumentRecord) -> None:
        if records:
            self.collection.upsert(
                ids=[r.doc_id for r in records],
                embeddings=_NO_VECTOR * len(records),
                metadatas=[asdict(r) for r in records],
            )

    def remove(self, doc_id: str) -> None:
        self.collection.delete(ids=[doc_id])

    def all(self, status: Status | None = None) -> list[DocumentRecord]:
        where: Any = {"status": status} if status else None
        records = self._records(where)
        return sorted(records, key=lambda r: (r.source.lower(), r.ingested_at))

    def by_source(self, source: str) -> list[DocumentRecord]:
        return self._records({"source": source})

    def _records(self, where: Any) -> list[DocumentRecord]:
        got = self.collection.get(where=where, include=["metadatas"])
        return [_record(dict(meta)) for meta in got["metadatas"] or []]

    def count(self) -> int:
        return int(self.collection.count())

    def ids(self, status: Status, limit: int | None = None) -> list[str]:
        return list(self.collection.get(where={"status": status}, include=[], limit=limit)["ids"])


_FIELDS = {f.name for f in fields(DocumentRecord)}


def _record(meta: dict[str, Any]) -> DocumentRecord:
    """Tolerates keys written by newer versions; missing optional ones take their defaults."""
    return DocumentRecord(**{k: v for k, v in meta.items() if k in _FIELDS})
