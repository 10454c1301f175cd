"""One sync of a knowledge base with the folder it follows: new and changed files in, a renamed
file renamed (its vectors kept), a file gone out of answers at once and out of the store after
a grace period (it may come back: a USB stick, a file moved away and back).

Only the documents read from inside the folder are a sync's business: an upload, or a file
ingested from anywhere else, is never marked or removed by one.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rag_app.errors import RagError
from rag_app.folders.links import base_name, folder_links, not_linked
from rag_app.folders.scan import Scan, Stat, scan_folder, settle
from rag_app.knowledge import ingest_lock, uploads_folder

if TYPE_CHECKING:
    from ingest.pipeline import IngestReport, ProgressFn
    from rag_app.service import RagService
    from vectorstore.registry import DocumentRecord

# A one-off sync waits at most this many settle periods for a file still being written.
SETTLE_ROUNDS = 10


@dataclass
class SyncSummary:
    knowledge_base: str
    folder: str
    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    renamed: list[tuple[str, str]] = field(default_factory=list)  # (old name, new name)
    missing: list[str] = field(default_factory=list)  # found gone by this sync
    still_missing: list[str] = field(default_factory=list)  # gone earlier, within the grace
    restored: list[str] = field(default_factory=list)  # back with the same bytes
    removed: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)  # one line each: file, problem, remedy
    still_writing: list[str] = field(default_factory=list)  # paths, left for the next sync
    notes: list[str] = field(default_factory=list)
    waiting_vectors: int = 0
    unplugged: str = ""  # the one line when the folder is not there: then nothing changed
    synced_at: str = ""

    def counts(self) -> dict[str, int]:
        """How many of each: what `rag kb list` and the UI show of the last sync."""
        lists = ("added", "changed", "unchanged", "renamed", "missing", "still_missing",
                 "restored", "removed", "failed", "still_writing")  # fmt: skip
        counted = {name: len(getattr(self, name)) for name in lists}
        return {**counted, "waiting_vectors": self.waiting_vectors}

    @property
    def notable(self) -> bool:
        """Whether anything but unchanged files: what `rag sync --watch` prints."""
        counts = self.counts()
        return bool(self.unplugged or self.notes) or any(
            counts[k] for k in counts if k not in ("unchanged", "still_missing", "waiting_vectors")
        )

    def to_dict(self) -> dict[str, Any]:
        """What `rag sync --json` prints."""
        data = asdict(self)
        data["renamed"] = [{"old": old, "new": new} for old, new in self.renamed]
        return {**data, "counts": self.counts()}


class FolderSync:
    """The syncs of one knowledge base. Kept across the rounds of `rag sync --watch`, it
    remembers each file's size, time and inode as last read, so a round reads only the files
    that changed (a one-off sync hashes each file: the ingest skips those whose bytes it has)."""

    def __init__(self, service: RagService, background: bool = False) -> None:
        self.service, self.background = service, background
        self.name = base_name(service.settings)
        self.seen: dict[Path, tuple[Stat, bool]] = {}  # path -> its stat when read, went in

    def run(
        self, progress: ProgressFn | None = None, prune: bool = False, wait: bool = True
    ) -> SyncSummary:
        """``prune``: remove the documents whose file is gone now, not after the grace period.
        ``wait``: wait up to ``SETTLE_ROUNDS`` settle periods for files still being written
        (else look once, and leave them to the next round)."""
        settings = self.service.settings
        link = folder_links(settings).get(settings.collection)
        if link is None:
            raise not_linked(settings)
        folder = Path(link.folder)
        summary = SyncSummary(self.name, link.folder, synced_at=_now())
        if not folder.exists():
            summary.unplugged = f"folder {folder} is not there (unplugged?); nothing changed"
            return summary
        _check_readable(folder)
        uploads = uploads_folder(settings).expanduser().resolve()
        scan = scan_folder(folder, skip=uploads)
        stored = {r.source: r for r in self.service.store.registry.all() if r.status != "pending"}
        ours = {
            name: r
            for name, r in stored.items()
            if _inside(r.path, folder) and not _inside(r.path, uploads)
        }
        if scan.empty and ours and not prune:
            summary.unplugged = (
                f"folder {folder} is empty while {len(ours)} document(s) came from it "
                "(unmounted?); nothing changed; if you emptied it, `rag sync --prune` removes them"
            )
            return summary
        summary.failed += scan.unreadable
        chosen = self._choose(scan, stored, folder, uploads, summary)
        settle_s = settings.ingest.sync_settle_s
        settled, moving = settle(chosen, settle_s, settle_s * (SETTLE_ROUNDS if wait else 1))
        summary.still_writing = [str(p) for p in moving]
        todo: list[tuple[Path, Stat]] = []
        for path, st in settled:
            known = self._known(path, st, stored)
            if known == "read":
                todo.append((path, st))
            elif known == "unchanged":
                summary.unchanged.append(path.name)
        report = self._ingest([p for p, _ in todo], progress)
        went_in = {r.source for r in report.ingested} | set(report.unchanged)
        for path, st in todo:
            self.seen[path] = (st, path.name in went_in)
        self._sort(report, stored, ours, set(scan.files), summary)
        self._missing(ours, set(scan.files), prune, summary)
        summary.waiting_vectors = self.service.indexing().waiting
        folder_links(settings).record_sync(settings.collection, summary.synced_at, summary.counts())
        return summary

    def _choose(
        self,
        scan: Scan,
        stored: dict[str, DocumentRecord],
        folder: Path,
        uploads: Path,
        summary: SyncSummary,
    ) -> list[Path]:
        """One file per name (documents are known by file name): the one the stored document
        was read from, else the first; and none whose name an upload or a file from elsewhere
        has (reading it would replace that document)."""
        chosen: list[Path] = []
        for name, paths in scan.files.items():
            known = stored.get(name)
            elsewhere = known is not None and not _inside(known.path, folder)
            if known is not None and elsewhere and (_inside(known.path, uploads) or not
                                                    _gone(known.path)):  # fmt: skip
                origin = "an upload" if _inside(known.path, uploads) else known.path or "text"
                summary.failed.append(
                    f"{paths[0]}: the knowledge base has a document named {name} already "
                    f"(from {origin}); rename the file (documents are known by file name)"
                )
                continue
            keep = next((p for p in paths if known and str(p.resolve()) == known.path), paths[0])
            chosen.append(keep)
            summary.failed += [
                f"{other}: another file named {name} is in this folder ({keep}); documents "
                "are known by file name, so rename one of them"
                for other in paths
                if other != keep
            ]
        return chosen

    def _known(self, path: Path, st: Stat, stored: dict[str, DocumentRecord]) -> str:
        """ "unchanged": read in an earlier round, not changed since, and still stored as read;
        "failed": it failed then and has not changed since (not read again, nor its failure
        repeated); "read": anything else."""
        seen = self.seen.get(path)
        if seen is None or seen[0] != st:
            return "read"
        if not seen[1]:
            return "failed"
        record = stored.get(path.name)
        same = record is not None and record.status == "ready" and record.path == str(path)
        return "unchanged" if same else "read"

    def _ingest(self, paths: list[Path], progress: ProgressFn | None) -> IngestReport:
        from ingest.pipeline import IngestReport

        if paths or not self.background:  # also embeds what an earlier run left waiting
            return self.service.ingest(paths, progress, background=self.background)
        if self.service.indexing().waiting:
            self.service.embed_in_background()
        return IngestReport()

    def _sort(
        self,
        report: IngestReport,
        stored: dict[str, DocumentRecord],
        ours: dict[str, DocumentRecord],
        present: set[str],
        summary: SyncSummary,
    ) -> None:
        """What the ingest did, in the sync's words: a file new by name holding the bytes of
        one of the folder's documents whose file is gone was renamed (the ingest kept its
        vectors): the old name goes."""
        for record in report.ingested:
            if record.source in stored:
                summary.changed.append(record.source)
                continue
            taken = {gone for gone, _ in summary.renamed}
            old = next(
                (r for r in ours.values() if r.sha256 == record.sha256 and r.source not in
                 present | taken and _gone(r.path)),
                None,
            )  # fmt: skip
            if old is None:
                summary.added.append(record.source)
                continue
            self.service.delete(old.source)
            summary.renamed.append((old.source, record.source))
        for name in report.unchanged:
            was = stored.get(name)
            back = was is not None and was.status == "missing"
            (summary.restored if back else summary.unchanged).append(name)
        restored = tuple(f"{name}: back," for name in summary.restored)
        summary.notes += [n for n in report.notes if not n.startswith(restored)]
        summary.failed += report.failed

    def _missing(
        self, ours: dict[str, DocumentRecord], present: set[str], prune: bool, summary: SyncSummary
    ) -> None:
        """The folder's documents whose file is gone: marked missing (out of answers, kept),
        removed once missing longer than ``ingest.missing_grace_s``, or at once with
        ``prune``. A file that cannot be looked at (a folder without permission) is not gone."""
        settings = self.service.settings
        renamed = {old for old, _ in summary.renamed}
        candidates = [r for name, r in ours.items()
                      if name not in present and name not in renamed and _gone(r.path)]  # fmt: skip
        if not candidates:
            return
        now = datetime.now(UTC)
        grace = timedelta(seconds=settings.ingest.missing_grace_s)
        doomed: list[str] = []
        with ingest_lock(settings):
            for old in candidates:  # read again: this sync's ingest may have replaced it
                record = self.service.store.find(old.source, missing=True)
                if record is None or record.doc_id != old.doc_id:
                    continue
                if prune or (record.status == "missing" and _since(record, now) >= grace):
                    doomed.append(record.source)
                elif record.status == "ready":
                    self.service.store.mark_missing(record, summary.synced_at)
                    summary.missing.append(record.source)
                else:
                    summary.still_missing.append(record.source)
        for name in doomed:  # outside the lock: delete takes it
            self.service.delete(name)
            summary.removed.append(name)


def _check_readable(folder: Path) -> None:
    if not folder.is_dir():
        raise RagError(f"{folder}: not a folder; link a folder with `rag kb link NAME FOLDER`")
    if not os.access(folder, os.R_OK | os.X_OK):
        raise RagError(f"folder {folder}: cannot be read; fix its permissions")


def _inside(path: str, folder: Path) -> bool:
    return bool(path) and Path(path).is_relative_to(folder)


def _gone(path: str) -> bool:
    """Whether nothing is at ``path`` any more (one that cannot be looked at is not gone)."""
    if not path:
        return False
    try:
        os.stat(path)
    except (FileNotFoundError, NotADirectoryError):
        return True
    except OSError:
        return False
    return False


def _since(record: DocumentRecord, now: datetime) -> timedelta:
    try:
        return now - datetime.fromisoformat(record.missing_since)
    except (ValueError, TypeError):
        return timedelta(0)  # no time recorded (or one without a zone): the grace starts now


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
