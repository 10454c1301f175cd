"""`rag sync`: bring a knowledge base in step with the folder it follows (`rag kb link`), once
or as files come and go (`--watch`)."""

from __future__ import annotations

import json
import signal
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from rag_app.cli.console import err, out
from rag_app.cli.context import EXIT_PARTIAL, State, settings_of
from rag_app.cli.progress import progress_display
from rag_app.errors import RagError

if TYPE_CHECKING:  # chromadb and the models come with these: not for `rag --help`
    from rag_app.folders import FolderSync, SyncSummary

LABELS = {"parse": "Reading", "index": "Indexing", "embed": "Embedding"}


def sync(
    name: Annotated[
        str | None,
        typer.Argument(help="The knowledge base (default: --kb, else 'default')."),
    ] = None,
    all_bases: Annotated[
        bool, typer.Option("--all", help="Every knowledge base linked to a folder.")
    ] = False,
    watch: Annotated[
        bool,
        typer.Option("--watch", help="Keep following the folder until stopped (Ctrl-C)."),
    ] = False,
    prune: Annotated[
        bool,
        typer.Option(
            "--prune",
            help="Remove the documents whose file is gone now, not after "
            "ingest.missing_grace_s (7 days).",
        ),
    ] = False,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print JSON (with --watch: one line per sync).")
    ] = False,
) -> None:
    """Sync a knowledge base with its folder: new and changed files in, renamed ones renamed
    (nothing embedded again), gone ones out of answers at once and removed after a grace
    period. Uploads and files ingested from elsewhere are never touched."""
    syncs = _syncs(name, all_bases)
    if watch:
        _watch(syncs, prune, as_json)
        return
    summaries = []
    for one in syncs:
        with progress_display(err, LABELS, enabled=not as_json) as progress:
            summaries.append(one.run(progress, prune=prune))
        if not as_json:
            print_summary(summaries[-1], one.service.settings.ingest.missing_grace_s)
    if as_json:
        data = [s.to_dict() for s in summaries]
        out.print_json(data=data if all_bases else data[0])
    if any(s.failed or s.still_writing or s.unplugged for s in summaries):
        raise typer.Exit(EXIT_PARTIAL)


def _syncs(name: str | None, all_bases: bool) -> list[FolderSync]:
    """The sync of each knowledge base asked for; their services share one copy of each model."""
    from rag_app.components import ModelPool
    from rag_app.folders import FolderSync, linked_bases
    from rag_app.knowledge import with_knowledge_base
    from rag_app.service import RagService

    if all_bases and name:
        raise RagError("give a knowledge base's name or --all, not both")
    pool = ModelPool()
    if not all_bases:
        settings = with_knowledge_base(settings_of(knowledge_base=False), name or State.kb)
        return [FolderSync(RagService(settings, pool=pool))]
    base = settings_of(knowledge_base=False)
    linked = linked_bases(base)
    if not linked:
        raise RagError(
            "no knowledge base follows a folder; link one with `rag kb link NAME FOLDER`"
        )
    return [
        FolderSync(RagService(base.model_copy(update={"collection": kb.collection}), pool=pool))
        for kb, _ in linked
    ]


def print_summary(
    summary: SyncSummary, grace_s: float, said: set[str] | None = None, counts: bool = True
) -> None:
    """One line per notable file, then the counts (unless ``counts`` is False). ``said``: the
    failures and files still being written printed by the round before (--watch): not
    printed again, and replaced by this round's."""
    said = said if said is not None else set()
    if summary.unplugged:
        line = f"{summary.knowledge_base!r}: {summary.unplugged}"
        if line not in said:
            err.print(line, markup=False)
        said.clear()
        said.add(line)
        return
    grace = f"{grace_s / 86400:.3g} day(s)"
    for line in [
        *(f"added: {n}" for n in summary.added),
        *(f"changed: {n}" for n in summary.changed),
        *(f"renamed: {old} -> {new} (nothing embedded again)" for old, new in summary.renamed),
        *(f"back: {n} (searchable again, nothing embedded again)" for n in summary.restored),
        *(
            f"missing: {n} (out of answers; removed after {grace} unless it comes back, or now "
            "with `rag sync --prune`)"
            for n in summary.missing
        ),
        *(f"removed: {n}" for n in summary.removed),
    ]:
        out.print(line, markup=False)
    repeated = [
        *(
            f"still being written, skipped: {p} (the next sync takes it)"
            for p in summary.still_writing
        ),
        *(f"failed: {line}" for line in summary.failed),
    ]
    for line in repeated:
        if line not in said:
            err.print(line, markup=False)
    said.clear()
    said.update(repeated)
    for note in summary.notes:
        err.print(f"note: {note}", markup=False)
    if counts:
        out.print(count_line(summary), markup=False)


def count_line(summary: SyncSummary) -> str:
    c = summary.counts()
    waiting = c["waiting_vectors"]
    return (
        f"Synced {summary.knowledge_base!r} with {summary.folder}: {c['added']} added, "
        f"{c['changed']} changed, {c['renamed']} renamed, {c['unchanged']} unchanged, "
        f"{c['missing'] + c['still_missing']} missing, {c['restored']} back, "
        f"{c['removed']} removed, {c['failed']} failed"
        + (f", {c['still_writing']} still being written" if c["still_writing"] else "")
        + "."
        + (f" {waiting} chunk(s) still wait for their vectors." if waiting else "")
    )


def _watch(syncs: list[FolderSync], prune: bool, as_json: bool) -> None:
    from rag_app.folders.watch import watch

    stop = threading.Event()
    busy: list[FolderSync] = []  # the knowledge base a round is syncing now

    def on_signal(signum: int, frame: object) -> None:
        """Ctrl-C or SIGTERM: between rounds, the watch ends at once; in one, the round is
        cut short as Ctrl-C cuts `rag ingest` (what it staged is searchable, its chunks wait
        for their vectors: the next sync embeds them)."""
        stop.set()
        if busy:
            raise KeyboardInterrupt

    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, on_signal)
    said: dict[str, set[str]] = {}
    first = {s.name for s in syncs}  # the catch-up sync is always shown

    def run_round(one: FolderSync) -> SyncSummary:
        # Embedded in this thread, not a background one: a stop may cut it short at once,
        # and no thread is left in the embedder's native code while the process exits.
        with progress_display(err, LABELS, enabled=not as_json) as progress:
            busy.append(one)
            try:
                summary = one.run(progress, prune=prune, wait=False)
            finally:
                busy.clear()
        shown = one.name in first or summary.notable
        first.discard(one.name)
        if as_json and shown:
            _json_line(summary.to_dict())
        elif not as_json:
            grace = one.service.settings.ingest.missing_grace_s
            print_summary(summary, grace, said.setdefault(one.name, set()), counts=shown)
        return summary

    def on_error(one: FolderSync, message: str) -> None:
        if as_json:
            _json_line({"knowledge_base": one.name, "error": message})
        else:
            err.print(f"error: {one.name!r}: {message}", markup=False)

    def on_watch(folders: list[Path], polling: str, poll_s: float) -> None:
        how = f"looking every {poll_s:g} s: {polling}" if polling else "change events"
        where = ", ".join(str(f) for f in folders)
        err.print(f"Watching {where} ({how}); Ctrl-C stops.", markup=False)

    ingest = syncs[0].service.settings.ingest
    try:
        watch(
            syncs,
            run_round,
            stop,
            on_error,
            on_watch,
            force_polling=ingest.sync_force_polling,
            poll_s=ingest.sync_poll_s,
            settle_s=ingest.sync_settle_s,
        )
    except KeyboardInterrupt:
        if not stop.is_set():
            raise  # not ours: `rag` says "interrupted"
    waiting = sum(s.service.indexing().waiting for s in syncs)
    err.print(
        "Stopped."
        + (
            f" {waiting} chunk(s) still wait for their vectors: the next sync embeds them."
            if waiting
            else ""
        ),
        markup=False,
    )


def _json_line(data: dict[str, Any]) -> None:
    """One JSON object per line, flushed: what a program reading a pipe waits for."""
    print(json.dumps(data, ensure_ascii=False), flush=True)
