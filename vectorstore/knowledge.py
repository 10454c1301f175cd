"""Knowledge bases: named sets of documents ("Sistemas Inteligentes", "Papers"), each its own
store (a chunk collection, its registry, its keyword index), listed in one small collection.

The data dir's original store is the knowledge base "default" (the ``collection`` setting), so
data dirs made before knowledge bases existed keep working unchanged. Another knowledge base
gets a collection named once, when it is created (a slug of its name and a random suffix), so
renaming it changes only its listed name.
"""

from __future__ import annotations

import re
import unicodedata
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from chromadb.api import ClientAPI

from rag_app.errors import RagError

LIST_COLLECTION = "rag_knowledge_bases"
_NO_VECTOR: list[Sequence[float]] = [[0.0]]  # the list holds names, not vectors
DEFAULT = "default"
MAX_NAME = 60


@dataclass(frozen=True)
class KnowledgeBase:
    name: str
    collection: str
    created: str  # ISO time, UTC ("" for the default one)


def clean_name(name: str) -> str:
    """A knowledge base's name as listed: spaces collapsed, 1 to 60 characters, printable."""
    cleaned = " ".join(unicodedata.normalize("NFC", name).split())
    if not cleaned or len(cleaned) > MAX_NAME or not cleaned.isprintable():
        raise RagError(f"knowledge base name {name!r}: use 1 to {MAX_NAME} printable characters")
    return cleaned


def is_created_base(collection: str) -> bool:
    """Whether a collection is a knowledge base's made by ``KnowledgeBases.create``."""
    return collection.startswith("kb-")


def _slug(name: str) -> str:
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")[:30]


class KnowledgeBases:
    """The list of knowledge bases of one Chroma client (embedded or server)."""

    def __init__(self, client: ClientAPI, default_collection: str) -> None:
        self.client, self.default_collection = client, default_collection
        self.listing = client.get_or_create_collection(LIST_COLLECTION, embedding_function=None)

    def all(self) -> list[KnowledgeBase]:
        """The default knowledge base first, then the others by name."""
        got = self.listing.get(include=["metadatas"])
        others = [
            KnowledgeBase(str(meta["name"]), collection, str(meta.get("created", "")))
            for collection, meta in zip(got["ids"], got["metadatas"] or [], strict=True)
            if meta
        ]
        default = KnowledgeBase(DEFAULT, self.default_collection, "")
        return [default, *sorted(others, key=lambda kb: kb.name.casefold())]

    def find(self, name: str) -> KnowledgeBase:
        wanted = " ".join(name.split()).casefold()
        for kb in self.all():
            if kb.name.casefold() == wanted:
                return kb
        known = ", ".join(kb.name for kb in self.all())
        raise RagError(
            f"knowledge base {name!r}: not found (knowledge bases: {known}); create it with "
            f"`rag kb create {name!r}`"
        )

    def _free(self, name: str) -> None:
        if any(kb.name.casefold() == name.casefold() for kb in self.all()):
            raise RagError(f"knowledge base {name!r}: already exists; choose another name")

    def create(self, name: str) -> KnowledgeBase:
        name = clean_name(name)
        self._free(name)
        collection = f"kb-{_slug(name) or 'base'}-{uuid.uuid4().hex[:8]}"
        created = datetime.now(UTC).isoformat(timespec="seconds")
        self.listing.upsert(
            ids=[collection],
            documents=[name],
            metadatas=[{"name": name, "created": created}],
            embeddings=_NO_VECTOR,
        )
        return KnowledgeBase(name, collection, created)

    def rename(self, old: str, new: str) -> KnowledgeBase:
        kb = self.find(old)
        if kb.name == DEFAULT:
            raise RagError("knowledge base 'default': cannot be renamed; create another one")
        new = clean_name(new)
        if new.casefold() != kb.name.casefold():
            self._free(new)
        self.listing.upsert(
            ids=[kb.collection],
            documents=[new],
            metadatas=[{"name": new, "created": kb.created}],
            embeddings=_NO_VECTOR,
        )
        return KnowledgeBase(new, kb.collection, kb.created)

    def forget(self, name: str) -> KnowledgeBase:
        """Take a knowledge base off the list (its store is deleted by the caller)."""
        kb = self.find(name)
        if kb.name == DEFAULT:
            raise RagError("knowledge base 'default': cannot be deleted; delete its documents")
        self.listing.delete(ids=[kb.collection])
        return kb
