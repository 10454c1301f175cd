"""Which folder a knowledge base follows: linking, unlinking, and reading the link (kept in
Chroma by ``vectorstore.links``, so replicas sharing a Chroma server follow the same folder)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from rag_app import components
from rag_app.errors import RagError
from rag_app.knowledge import knowledge_bases
from rag_app.settings import Settings

if TYPE_CHECKING:
    from vectorstore import KnowledgeBase
    from vectorstore.links import FolderLink, FolderLinks


class NotLinkedError(RagError):
    """A sync asked of a knowledge base that follows no folder."""


def folder_links(settings: Settings) -> FolderLinks:
    from vectorstore.links import folder_links as opened

    return opened(*components.store_location(settings))


def base_name(settings: Settings) -> str:
    """The listed name of the settings' knowledge base; "default" for the data dir's own (the
    listing calls the settings' collection "default" too: the created ones are looked at)."""
    from vectorstore.knowledge import DEFAULT

    created = [b for b in knowledge_bases(settings).all() if b.name != DEFAULT]
    return next((b.name for b in created if b.collection == settings.collection), DEFAULT)


def usable_folder(path: str | Path, settings: Settings) -> Path:
    """``path`` as an absolute folder that can be read, or a one-line error saying why not."""
    folder = Path(path).expanduser()
    if not str(path).strip() or not folder.exists():
        raise RagError(f"folder {str(path)!r}: not found; give an existing folder")
    if not folder.is_dir():
        raise RagError(f"{folder}: not a folder; give the folder that holds your documents")
    if not os.access(folder, os.R_OK | os.X_OK):
        raise RagError(f"folder {folder}: cannot be read; fix its permissions")
    folder = folder.resolve()
    if folder.is_relative_to(settings.data_dir.expanduser().resolve()):
        raise RagError(
            f"folder {folder}: inside the app's data dir; link the folder your documents are in"
        )
    return folder


def link_folder(settings: Settings, path: str | Path) -> FolderLink:
    """The settings' knowledge base follows ``path`` from now on (another folder instead of
    the one it followed: the documents read from that one stay, and no sync touches them)."""
    return folder_links(settings).link(settings.collection, str(usable_folder(path, settings)))


def unlink_folder(settings: Settings) -> FolderLink:
    """Stop following the folder; the documents read from it stay as they are."""
    gone = folder_links(settings).unlink(settings.collection)
    if gone is None:
        raise not_linked(settings)
    return gone


def folder_link(settings: Settings) -> FolderLink | None:
    return folder_links(settings).get(settings.collection)


def linked_bases(settings: Settings) -> list[tuple[KnowledgeBase, FolderLink]]:
    """The knowledge bases that follow a folder, default first (a link left by a knowledge
    base deleted since is not listed)."""
    links = {link.collection: link for link in folder_links(settings).all()}
    return [(base, links[base.collection]) for base in knowledge_bases(settings).all()
            if base.collection in links]  # fmt: skip


def not_linked(settings: Settings) -> NotLinkedError:
    name = base_name(settings)
    return NotLinkedError(
        f"knowledge base {name!r}: not linked to a folder; link one with "
        f"`rag kb link {name!r} FOLDER`"
    )
