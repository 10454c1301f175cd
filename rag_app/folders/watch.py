"""`rag sync --watch`: keep knowledge bases in step with their folders as files come and go.

Change events (inotify and the like, through ``watchfiles``) start a sync of the knowledge base
whose folder they touch; where events do not arrive (a network or FUSE file system, or when
``ingest.sync_force_polling`` says so) the folders are looked at every ``ingest.sync_poll_s``
seconds instead. Besides: a knowledge base with files still being written is synced again a
settle period later, each is synced every ``RESYNC_S`` seconds anyway (a missed event, a grace
period that ran out), and a folder that is unplugged is waited for, then followed again.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from rag_app.errors import RagError
from rag_app.folders.links import NotLinkedError, folder_links
from rag_app.folders.scan import ignored, needs_polling
from rag_app.folders.sync import FolderSync, SyncSummary

RESYNC_S = 600.0
# Syncs a round: it is given the knowledge base's sync and returns what it did (the caller
# runs it with its own progress display and prints the summary).
Round = Callable[[FolderSync], SyncSummary]


@dataclass
class Followed:
    sync: FolderSync
    folder: Path | None  # None: not linked (its next round says so, and it is dropped)
    due: bool = True  # sync at the next chance
    last: float = 0.0  # time.monotonic() of its last sync


def polling(folders: Sequence[Path], forced: bool) -> str:
    """Why the watch looks at the folders on a timer ("" when events are trusted)."""
    if forced:
        return "ingest.sync_force_polling is set"
    remote = [(folder, kind) for folder in folders if (kind := needs_polling(folder))]
    return ", ".join(f"{folder} is on {kind}" for folder, kind in remote)


def relevant(roots: Sequence[Path]) -> Callable[[object, str], bool]:
    """A ``watchfiles`` filter: anything outside hidden files and folders (an editor's swap
    files, `.git`). Not only documents: a folder moved away sends one event, for itself."""

    def keep(change: object, path: str) -> bool:
        where = Path(path)
        root = next((r for r in roots if where.is_relative_to(r)), None)
        parts = where.relative_to(root).parts if root else (where.name,)
        return not any(ignored(part) for part in parts)

    return keep


def watch(
    syncs: Sequence[FolderSync],
    run_round: Round,
    stop: threading.Event,
    on_error: Callable[[FolderSync, str], None],
    on_watch: Callable[[list[Path], str, float], None],
    *,
    force_polling: bool = False,
    poll_s: float = 5.0,
    settle_s: float = 2.0,
) -> None:
    """Until ``stop`` is set (or no knowledge base is linked any more). ``on_watch`` is told
    the folders each time they start being watched, and why by polling ("" for events)."""
    import watchfiles

    followed = [Followed(sync, _folder(sync)) for sync in syncs]
    tick_ms = int(max(settle_s, 0.5) * 1000)
    while followed and not stop.is_set():
        for item in followed:  # catch up with what changed while not watching
            item.due = True
        present = _present(followed)
        if not present:  # every folder unplugged: say so, and look again later
            _sync_due(followed, run_round, on_error, stop)
            stop.wait(poll_s)
            continue
        why = polling(present, force_polling)
        on_watch(present, why, poll_s)
        # The watcher is armed before the catch-up sync (its first round, one tick in), so a
        # file dropped while that sync runs is not missed.
        for changes in watchfiles.watch(
            *present,
            watch_filter=relevant(present),
            debounce=tick_ms,
            rust_timeout=tick_ms,
            yield_on_timeout=True,
            stop_event=stop,
            force_polling=bool(why),
            poll_delay_ms=int(poll_s * 1000),
            raise_interrupt=False,
        ):
            now = time.monotonic()
            for item in followed:
                folder = item.folder
                touched = folder is not None and any(
                    Path(p).is_relative_to(folder) for _, p in changes
                )
                item.due = item.due or touched or now - item.last >= RESYNC_S
            _sync_due(followed, run_round, on_error, stop)
            if _present(followed) != present:
                break  # unplugged, back, or linked to another folder: watch anew


def _folder(sync: FolderSync) -> Path | None:
    """The folder the knowledge base follows now."""
    settings = sync.service.settings
    link = folder_links(settings).get(settings.collection)
    return Path(link.folder) if link else None


def _present(followed: list[Followed]) -> list[Path]:
    return [item.folder for item in followed if item.folder and item.folder.is_dir()]


def _sync_due(
    followed: list[Followed],
    run_round: Round,
    on_error: Callable[[FolderSync, str], None],
    stop: threading.Event,
) -> None:
    """Sync each knowledge base that is due; one no longer linked is followed no more."""
    for item in list(followed):
        if stop.is_set() or not item.due:
            continue
        try:
            summary = run_round(item.sync)
        except NotLinkedError as exc:
            on_error(item.sync, str(exc))
            followed.remove(item)
            continue
        except RagError as exc:  # the ingest lock held too long, a folder lost its rights...
            on_error(item.sync, str(exc))
            summary = None
        item.last = time.monotonic()
        item.due = bool(summary and summary.still_writing)  # look again a settle period later
        item.folder = Path(summary.folder) if summary else _folder(item.sync)
