"""Knowledge bases and what guards them: listing, choosing and deleting a knowledge base, the
folder its uploads are kept in, and the ingest lock (one writer per store, across processes
and, with a Chroma server, across machines)."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from filelock import FileLock, Timeout

from ingest.formats import FORMATS
from rag_app import components
from rag_app.errors import RagError
from rag_app.settings import Settings
from vectorstore.knowledge import is_created_base

if TYPE_CHECKING:
    from vectorstore import KnowledgeBase, KnowledgeBases

INGEST_LOCK_WAIT_S = 3600


@contextmanager
def ingest_lock(settings: Settings, wait_s: float | None = None) -> Iterator[None]:
    """One writer at a time per store (CLI and UI alike): recovery at the start of a run
    must never mistake another process's document in progress for an abandoned one."""
    wait = INGEST_LOCK_WAIT_S if wait_s is None else wait_s
    with _lock(settings, "ingest.lock", "lease", wait) as held:
        if held == "file":
            raise RagError(
                f"another ingest into {settings.data_dir} is still running after "
                f"{wait:g} s of waiting; try again when it ends"
            )
        if held == "server":
            server = components.store_location(settings)[1]
            raise RagError(
                f"another instance is writing into collection {settings.collection!r} on "
                f"{server.url if server else ''} after {wait:g} s of waiting; "
                "try again when it ends"
            )
        yield


@contextmanager
def embed_lock(settings: Settings, wait_s: float | None = None) -> Iterator[bool]:
    """One embedder at a time per knowledge base (``ingest.pipeline.Embedder``), across
    processes and, with a Chroma server, across machines: two would embed the same chunks.
    Yields whether it is held; False when another still holds it after ``wait_s`` (0: do not
    wait). The ingest lock stays free meanwhile, so documents can be added while it runs."""
    wait = INGEST_LOCK_WAIT_S if wait_s is None else wait_s
    with _lock(settings, f"embed-{settings.collection}.lock", "embed", wait) as held:
        yield held == ""


@contextmanager
def _lock(settings: Settings, file_name: str, lease_name: str, wait: float) -> Iterator[str]:
    """A file lock in the data dir and, with a Chroma server, a lease on it too (instances on
    other machines write there as well; a killed holder's lease expires after
    ``vectorstore.ingest_lease_s`` and the others go on). Yields "" when both are held, else
    which one was not ("file" or "server") after ``wait`` seconds."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    lock = FileLock(settings.data_dir / file_name)
    try:
        lock.acquire(timeout=wait)
    except Timeout:
        yield "file"
        return
    try:
        _, server = components.store_location(settings)
        if server is None:
            yield ""
            return
        from vectorstore import ingest_lease

        lease = ingest_lease(
            server, settings.collection, settings.vectorstore.ingest_lease_s, lease_name
        )
        if not lease.acquire(wait):
            yield "server"
            return
        try:
            yield ""
        finally:
            lease.release()
    finally:
        lock.release()


def uploads_folder(settings: Settings) -> Path:
    """Where the UI keeps uploaded files: one folder per knowledge base (the default one's is
    ``uploads`` itself), so two knowledge bases may each hold a file of the same name."""
    base = settings.data_dir / "uploads"
    return base / settings.collection if is_created_base(settings.collection) else base


def knowledge_bases(settings: Settings) -> KnowledgeBases:
    """The knowledge bases of this data dir (or Chroma server)."""
    from vectorstore import knowledge_bases as listed

    folder, server = components.store_location(settings)
    return listed(folder, settings.collection, server)


def with_knowledge_base(settings: Settings, name: str | None) -> Settings:
    """The settings for the knowledge base ``name`` (the settings' own when None or empty)."""
    if not name:
        return settings
    kb = knowledge_bases(settings).find(name)
    return settings.model_copy(update={"collection": kb.collection})


def delete_knowledge_base(settings: Settings, name: str) -> tuple[KnowledgeBase, int]:
    """Delete a knowledge base with its documents' chunks, registry, keyword index and
    uploaded files; the others are not touched. Returns it and how many chunks it held."""
    from vectorstore import drop_store
    from vectorstore.links import folder_links

    kbs = knowledge_bases(settings)
    kb = kbs.find(name)
    target = settings.model_copy(update={"collection": kb.collection})
    with ingest_lock(target, wait_s=5):  # not while it is being ingested into
        kbs.forget(kb.name)
        folder, server = components.store_location(settings)
        chunks = drop_store(folder, kb.collection, server)
        folder_links(folder, server).unlink(kb.collection)  # it follows no folder any more
        shutil.rmtree(uploads_folder(target), ignore_errors=True)
    return kb, chunks


def safe_upload_name(name: str) -> str:
    """A file name that stays inside the uploads folder: no folders, no odd characters."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    base = re.sub(r"[^\w.\- ()]+", "_", base).strip(" ._") or "upload"
    stem, dot, ext = base.rpartition(".")
    if not dot or f".{ext.lower()}" not in FORMATS:
        stem, ext = base, "pdf"  # unknown: read as a PDF, which says what it really is
    return f"{stem[:150]}.{ext}"
