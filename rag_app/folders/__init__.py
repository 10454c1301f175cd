"""Knowledge bases that follow a folder (`rag kb link`, `rag sync`, the UI's folder panel).

``links``: which folder a knowledge base follows; ``scan``: what the folder holds and which
files have stopped changing; ``sync``: one sync; ``watch``: syncs as files come and go. It sits
above ``service`` (a sync is a client of ``RagService``, as the commands are), beside
``evaluation``.
"""

from rag_app.folders.links import (
    NotLinkedError,
    folder_link,
    link_folder,
    linked_bases,
    unlink_folder,
)
from rag_app.folders.sync import FolderSync, SyncSummary

__all__ = [
    "FolderSync",
    "NotLinkedError",
    "SyncSummary",
    "folder_link",
    "link_folder",
    "linked_bases",
    "unlink_folder",
]
