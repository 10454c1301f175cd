"""Knowledge bases that follow a folder: one link per knowledge base (its folder, when it was
linked, its last sync and what that sync did), in a small Chroma collection beside the
knowledge bases' list.

In Chroma rather than in the data dir, so every replica sharing a Chroma server follows the
same folder (each one reading it from where it is mounted on its machine).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from chromadb.api import ClientAPI

from vectorstore.chroma import ChromaServer, persistent_client, server_client

LINK_COLLECTION = "rag_folder_links"
_NO_VECTOR: list[Sequence[float]] = [[0.0]]  # the links are looked up by id, never by vector


@dataclass(frozen=True)
class FolderLink:
    collection: str  # the knowledge base's collection: its id here
    folder: str  # absolute path
    linked_at: str  # ISO 8601, UTC
    last_sync: str = ""  # ISO 8601, UTC; "" before the first sync
    counts: dict[str, int] = field(default_factory=dict)  # the last sync's summary counts


class FolderLinks:
    """The folder links of one Chroma client (embedded or server)."""

    def __init__(self, client: ClientAPI) -> None:
        self.links = client.get_or_create_collection(LINK_COLLECTION, embedding_function=None)

    def get(self, collection: str) -> FolderLink | None:
        got = self.links.get(ids=[collection], include=["metadatas"])
        metas = got["metadatas"] or []
        return _link(collection, metas[0]) if metas and metas[0] else None

    def all(self) -> list[FolderLink]:
        got = self.links.get(include=["metadatas"])
        pairs = zip(got["ids"], got["metadatas"] or [], strict=True)
        return [_link(collection, meta) for collection, meta in pairs if meta]

    def link(self, collection: str, folder: str) -> FolderLink:
        """Follow ``folder`` (a new link, or another folder instead of the one linked)."""
        made = FolderLink(collection, folder, datetime.now(UTC).isoformat(timespec="seconds"))
        self._put(made)
        return made

    def unlink(self, collection: str) -> FolderLink | None:
        found = self.get(collection)
        if found is not None:
            self.links.delete(ids=[collection])
        return found

    def record_sync(self, collection: str, when: str, counts: Mapping[str, int]) -> None:
        """A sync's time and counts; nothing when the link went meanwhile (unlinked)."""
        found = self.get(collection)
        if found is not None:
            self._put(FolderLink(found.collection, found.folder, found.linked_at, when, {**counts}))

    def _put(self, link: FolderLink) -> None:
        self.links.upsert(
            ids=[link.collection],
            documents=[link.folder],
            metadatas=[
                {
                    "folder": link.folder,
                    "linked_at": link.linked_at,
                    "last_sync": link.last_sync,
                    # Chroma metadata holds scalars only.
                    "counts": json.dumps(link.counts, sort_keys=True),
                }
            ],
            embeddings=_NO_VECTOR,
        )


def _link(collection: str, meta: Mapping[str, Any]) -> FolderLink:
    counts = json.loads(str(meta.get("counts") or "{}"))
    return FolderLink(
        collection,
        str(meta["folder"]),
        str(meta.get("linked_at", "")),
        str(meta.get("last_sync", "")),
        {str(k): int(v) for k, v in counts.items()},
    )


def folder_links(path: Path, server: ChromaServer | None = None) -> FolderLinks:
    """The links of the embedded Chroma at ``path``, or of ``server`` (as
    ``vectorstore.knowledge_bases`` opens its client)."""
    if server is None:
        return FolderLinks(persistent_client(path))
    path.mkdir(parents=True, exist_ok=True)
    return FolderLinks(server_client(server))
