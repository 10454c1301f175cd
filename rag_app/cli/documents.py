"""`rag ingest` and `rag docs`: add documents, list them, delete one, check the store."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table
from rich.text import Text

from rag_app.cli.console import err, out
from rag_app.cli.context import (
    EXIT_INCONSISTENT,
    EXIT_PARTIAL,
    State,
    service_of,
)
from rag_app.cli.progress import progress_display

LABELS = {"parse": "Reading", "index": "Indexing", "embed": "Embedding"}


def ingest(
    paths: Annotated[
        list[Path],
        typer.Argument(help="Files (PDF, Markdown, HTML, Word, text, JSON) or their folders."),
    ],
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
    background: Annotated[
        bool,
        typer.Option(
            "--background",
            help="Return once the files are searchable by keywords; embed them in a "
            "background process (`rag docs` shows how far it is).",
        ),
    ] = False,
) -> None:
    """Add documents to the store; unchanged files are skipped, changed ones replaced. They
    are searchable by keywords within seconds, by meaning once embedded."""
    service = service_of()
    with progress_display(err, LABELS, enabled=not as_json) as progress:
        run = service.stage if background else service.ingest
        report = run(paths, progress)
    if background and report.waiting:
        pid, log = _embed_detached(service.settings)
        if not as_json:
            err.print(
                f"note: searchable by keywords now; {report.waiting} chunk(s) are being "
                f"embedded in the background by process {pid} (`rag docs` shows progress; "
                f"log: {log})",
                markup=False,
            )

    if as_json:
        out.print_json(data=report.to_dict())
    else:
        for note in report.notes:
            err.print(f"note: {note}", markup=False)
        out.print(
            f"Ingested {len(report.ingested)} file(s): {report.pages} pages, "
            f"{report.chunks} chunks. Unchanged, skipped: {len(report.unchanged)}. "
            f"Failed: {len(report.failed)}."
            + (
                f" Chunks kept from earlier versions (not embedded again): {report.reused}."
                if report.reused
                else ""
            )
        )
        for line in report.failed:
            err.print(f"failed: {line}", markup=False)
    if report.failed:
        raise typer.Exit(EXIT_PARTIAL)


def _embed_detached(settings: Any) -> tuple[int, Path]:
    """Start `rag docs embed` for this knowledge base as a process of its own that outlives
    this one (its own session: a Ctrl-C here does not stop it); returns its pid and log."""
    log = settings.data_dir / f"embed-{settings.collection}.log"
    args = [sys.executable, "-m", "rag_app.cli"]
    if State.config is not None:
        args += ["--config", str(State.config)]
    args += ["--data-dir", str(settings.data_dir)]
    if State.kb:
        args += ["--kb", State.kb]
    with open(log, "ab") as sink:
        child = subprocess.Popen(
            [*args, "docs", "embed"],
            stdin=subprocess.DEVNULL,
            stdout=sink,
            stderr=sink,
            start_new_session=True,
            env=os.environ.copy(),
        )
    return child.pid, log


docs_app = typer.Typer(
    help="List ingested documents, delete one, or check the store.", invoke_without_command=True
)


def _print_documents(as_json: bool) -> None:
    service = service_of()
    records = service.document_dicts()
    if as_json:
        out.print_json(data=records)
        return
    if not records:
        kb = f"--kb {State.kb!r} " if State.kb else ""
        out.print(f"No documents yet: add some with `rag {kb}ingest PATH`.", markup=False)
        return
    table = Table("document", "pages", "chunks", "ingested (UTC)", "meaning index")
    for r in records:
        when = str(r["ingested_at"]).replace("T", " ")[:19]
        built = 1 - int(r["waiting_vectors"]) / max(1, int(r["chunks"]))
        table.add_row(
            Text(str(r["source"])), str(r["pages"]), str(r["chunks"]), when, f"{built:.0%}"
        )
    out.print(table)
    indexing = service.indexing()
    if not indexing.done:
        out.print(
            f"Still indexing: {indexing.waiting} chunk(s) wait for their vectors "
            f"({indexing.share:.0%} of the meaning index built); searchable by keywords "
            "meanwhile.",
            markup=False,
        )


@docs_app.callback()
def docs(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON list.")] = False,
) -> None:
    """List ingested documents: name, pages, chunks, when."""
    if ctx.invoked_subcommand is None:
        _print_documents(as_json)


@docs_app.command("list")
def docs_list(
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON list.")] = False,
) -> None:
    """List ingested documents (same as `rag docs`)."""
    _print_documents(as_json)


@docs_app.command("delete")
def docs_delete(
    name: Annotated[str, typer.Argument(help="The document's file name, as `rag docs` shows it.")],
) -> None:
    """Remove a document and all its chunks."""
    removed = service_of().delete(name)
    out.print(f"Deleted {name} ({removed} chunks).", markup=False)


@docs_app.command("embed")
def docs_embed() -> None:
    """Give the chunks that wait for their vectors (an ingest left to the background, or one
    that was interrupted) their vectors now; waits while another process embeds."""
    with progress_display(err, LABELS) as progress:
        done = service_of().embed_waiting(progress)
    out.print(f"Embedded {done or 0} chunk(s); the meaning index is complete.", markup=False)


@docs_app.command("check")
def docs_check(
    repair: Annotated[bool, typer.Option("--repair", help="Fix what is found.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Verify that the registry, the vector store and the keyword index agree."""
    report = service_of().check(repair)
    if as_json:
        out.print_json(
            data={
                "documents": report.documents,
                "chunks": report.chunks,
                "problems": report.problems,
                "repaired": report.repaired,
            }
        )
    else:
        for line in report.repaired:
            out.print(f"repaired: {line}", markup=False)
        for line in report.problems:
            err.print(f"problem: {line}", markup=False)
        verdict = "consistent" if report.ok else "NOT consistent (run `rag docs check --repair`)"
        out.print(
            f"{report.documents} document(s), {report.chunks} chunk(s): {verdict}.", markup=False
        )
    if not report.ok:
        raise typer.Exit(EXIT_INCONSISTENT)
