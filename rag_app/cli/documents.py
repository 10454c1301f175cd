"""`rag ingest` and `rag docs`: add documents, list them, delete one, check the store."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

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


def ingest(
    paths: Annotated[
        list[Path],
        typer.Argument(help="Files (PDF, Markdown, HTML, Word, text, JSON) or their folders."),
    ],
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
) -> None:
    """Add documents to the store; unchanged files are skipped, changed ones replaced."""
    service = service_of()
    labels = {"parse": "Reading", "embed": "Embedding"}
    with progress_display(err, labels, enabled=not as_json) as progress:
        report = service.ingest(paths, progress)

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


docs_app = typer.Typer(
    help="List ingested documents, delete one, or check the store.", invoke_without_command=True
)


def _print_documents(as_json: bool) -> None:
    records = service_of().documents()
    if as_json:
        out.print_json(data=[r.to_dict() for r in records])
        return
    if not records:
        kb = f"--kb {State.kb!r} " if State.kb else ""
        out.print(f"No documents yet: add some with `rag {kb}ingest PATH`.", markup=False)
        return
    table = Table("document", "pages", "chunks", "ingested (UTC)")
    for r in records:
        when = r.ingested_at.replace("T", " ")[:19]
        table.add_row(Text(r.source), str(r.pages), str(r.chunks), when)
    out.print(table)


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
