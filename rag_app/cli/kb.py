"""`rag kb`: knowledge bases, separate sets of documents."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from rag_app.cli.console import err, out
from rag_app.cli.context import (
    confirmed,
    settings_of,
)

kb_app = typer.Typer(
    help="Knowledge bases: separate sets of documents. `--kb NAME` before any command uses one.",
    invoke_without_command=True,
)


@kb_app.callback()
def kb(ctx: typer.Context) -> None:
    """List knowledge bases with their documents and chunks (`rag kb` alone)."""
    if ctx.invoked_subcommand is None:
        kb_list(as_json=False)


@kb_app.command("list")
def kb_list(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List knowledge bases with their documents and chunks."""
    from rag_app.knowledge import knowledge_bases
    from rag_app.service import RagService

    settings = settings_of(knowledge_base=False)
    rows = []
    for base in knowledge_bases(settings).all():
        docs = RagService(settings.model_copy(update={"collection": base.collection})).documents()
        rows.append(
            {"name": base.name, "documents": len(docs), "chunks": sum(d.chunks for d in docs)}
        )
    if as_json:
        out.print_json(data=rows)
        return
    table = Table("knowledge base", "documents", "chunks")
    for row in rows:
        table.add_row(Text(str(row["name"])), str(row["documents"]), str(row["chunks"]))
    out.print(table)


@kb_app.command("create")
def kb_create(name: Annotated[str, typer.Argument(help="Its name, e.g. 'Papers'.")]) -> None:
    """Create an empty knowledge base."""
    from rag_app.knowledge import knowledge_bases

    created = knowledge_bases(settings_of(knowledge_base=False)).create(name)
    out.print(f"Created knowledge base {created.name!r}. Add documents with: "
              f"rag --kb {created.name!r} ingest FILES", markup=False)  # fmt: skip


@kb_app.command("rename")
def kb_rename(
    old: Annotated[str, typer.Argument(help="Its name now.")],
    new: Annotated[str, typer.Argument(help="Its new name.")],
) -> None:
    """Rename a knowledge base (its documents stay as they are)."""
    from rag_app.knowledge import knowledge_bases

    renamed = knowledge_bases(settings_of(knowledge_base=False)).rename(old, new)
    out.print(f"Renamed knowledge base {old!r} to {renamed.name!r}.", markup=False)


@kb_app.command("delete")
def kb_delete(
    name: Annotated[str, typer.Argument(help="The knowledge base to delete.")],
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
) -> None:
    """Delete a knowledge base and all its documents (other knowledge bases are untouched)."""
    from rag_app.knowledge import delete_knowledge_base, knowledge_bases

    settings = settings_of(knowledge_base=False)
    found = knowledge_bases(settings).find(name)
    if not yes and not confirmed(f"Delete knowledge base {found.name!r} and all its documents?"):
        err.print("Nothing deleted (confirm, or add --yes).", markup=False)
        raise typer.Exit(1)
    base, chunks = delete_knowledge_base(settings, found.name)
    out.print(f"Deleted knowledge base {base.name!r} ({chunks} chunks).", markup=False)
