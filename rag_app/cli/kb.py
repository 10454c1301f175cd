"""`rag kb`: knowledge bases, separate sets of documents."""

from __future__ import annotations

from pathlib import Path
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
    """List knowledge bases with their documents, chunks and the folder each follows."""
    from rag_app.folders.links import folder_links
    from rag_app.knowledge import knowledge_bases
    from rag_app.service import RagService

    settings = settings_of(knowledge_base=False)
    links = {link.collection: link for link in folder_links(settings).all()}
    rows = []
    for base in knowledge_bases(settings).all():
        docs = RagService(settings.model_copy(update={"collection": base.collection})).documents()
        link = links.get(base.collection)
        rows.append(
            {
                "name": base.name,
                "documents": len(docs),
                "chunks": sum(d.chunks for d in docs),
                "folder": link.folder if link else None,
                "last_sync": (link.last_sync or None) if link else None,
            }
        )
    if as_json:
        out.print_json(data=rows)
        return
    table = Table("knowledge base", "documents", "chunks", "folder", "last sync (UTC)")
    for row in rows:
        synced = str(row["last_sync"] or ("never" if row["folder"] else ""))
        table.add_row(
            Text(str(row["name"])),
            str(row["documents"]),
            str(row["chunks"]),
            Text(str(row["folder"] or "")),
            synced.replace("T", " ")[:19],
        )
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


@kb_app.command("link")
def kb_link(
    name: Annotated[str, typer.Argument(help="The knowledge base ('default' too).")],
    folder: Annotated[Path, typer.Argument(help="The folder it follows from now on.")],
) -> None:
    """Make a knowledge base follow a folder: `rag sync` brings it in step (new, changed,
    renamed and gone files); `rag sync --watch` keeps it so."""
    from rag_app.folders import folder_link, link_folder
    from rag_app.folders.links import base_name
    from rag_app.knowledge import with_knowledge_base

    settings = with_knowledge_base(settings_of(knowledge_base=False), name)
    before = folder_link(settings)
    made = link_folder(settings, folder)
    base = base_name(settings)
    if before is not None and before.folder != made.folder:
        err.print(
            f"note: it followed {before.folder}; the documents read from there stay, and no "
            "sync touches them",
            markup=False,
        )
    out.print(
        f"Linked knowledge base {base!r} to {made.folder}. Sync it with: "
        f"rag --kb {base!r} sync (or keep it in step: rag --kb {base!r} sync --watch)",
        markup=False,
    )


@kb_app.command("unlink")
def kb_unlink(name: Annotated[str, typer.Argument(help="The knowledge base.")]) -> None:
    """Stop following the folder; the documents read from it stay."""
    from rag_app.folders import unlink_folder
    from rag_app.knowledge import with_knowledge_base

    gone = unlink_folder(with_knowledge_base(settings_of(knowledge_base=False), name))
    out.print(
        f"Knowledge base {name!r} no longer follows {gone.folder}; its documents stay.",
        markup=False,
    )
