"""`rag models ...`: the GGUF chat models on this machine, and switching to one.

A thin client of ``rag_app.model_catalog``; the UI's model panel calls the same functions.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table
from rich.text import Text

from rag_app.cli.console import err, out
from rag_app.models.catalog import ModelEntry, find_models, use_model

models_app = typer.Typer(
    help="GGUF chat models found on this machine (LM Studio, GPT4All, Hugging Face, Ollama, "
    "llm.model_dirs); switch to one with `rag models use NAME`. Rerankers: `rag models "
    "rerankers`, `rag models rerank NAME|llm|none`.",
    invoke_without_command=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


def _settings() -> Any:
    from rag_app.cli.context import service_of

    return service_of().settings


def _config_file() -> Path | None:
    from rag_app.cli.context import State

    return State.config


@models_app.callback()
def models(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON list.")] = False,
) -> None:
    """List the models found: name, origin, size, quantisation, context, which is in use."""
    if ctx.invoked_subcommand is not None:
        return
    settings = _settings()
    entries = find_models(settings)
    if as_json:
        out.print_json(data=[entry.to_dict() for entry in entries])
        return
    for folder in settings.llm.model_dirs:
        if not Path(folder).expanduser().is_dir():
            err.print(f"note: llm.model_dirs: {folder} is not a folder", markup=False)
    usable = [entry for entry in entries if entry.usable]
    if usable:
        out.print(_table(usable))
        out.print("Switch with `rag models use NAME` (* = in use).", markup=False, style="dim")
    else:
        out.print("No usable GGUF model found; add folders to llm.model_dirs.", markup=False)
    for entry in entries:
        if not entry.usable:
            out.print(f"unusable: {entry.name} ({entry.path}): {entry.error}", markup=False)
    _rerankers_line(settings)


def _rerankers_line(settings: Any) -> None:
    """One line under the chat models: the reranker in use, and how many were found."""
    from rag_app.models.rerankers import find_rerankers

    found = find_rerankers(settings)
    out.print(
        f"Reranker in use: {settings.retrieval.rerank}; {len(found)} found on this machine "
        "(`rag models rerankers`).",
        markup=False,
        style="dim",
    )


def _table(entries: list[ModelEntry]) -> Table:
    """Names never wrap: they are what `rag models use` is given, so they must copy whole."""
    table = Table("")
    longest = max(len(entry.name) for entry in entries)
    table.add_column("name", no_wrap=True, min_width=longest)
    table.add_column("origin", no_wrap=True)
    for header in ("MB", "quant", "context"):
        table.add_column(header, justify="left" if header == "quant" else "right")
    for entry in entries:
        table.add_row(
            "*" if entry.in_use else "",
            Text(entry.name),
            entry.origin,
            f"{entry.size_mb:,.0f}",
            entry.quantisation or "",
            str(entry.context_length or ""),
        )
    return table


@models_app.command("use")
def use(
    name: Annotated[str, typer.Argument(help="A name from `rag models` (or the file's path).")],
) -> None:
    """Switch to a model: saves llm.model_path in the settings file (--config/RAG_CONFIG, else
    <data_dir>/settings.toml)."""
    choice = use_model(name, _settings(), _config_file())
    entry = choice.entry
    out.print(f"Saved llm.model_path in {choice.settings_file}.", markup=False)
    if choice.overridden_by:
        err.print(f"note: not in use yet: {choice.overridden_by}", markup=False)
        return
    details = ", ".join(
        part
        for part in (
            entry.quantisation,
            f"{entry.context_length} context" if entry.context_length else "",
            f"{entry.size_mb:,.0f} MB",
        )
        if part
    )
    out.print(f"Now in use: {entry.name} ({details}), {entry.path}", markup=False)


@models_app.command("rerankers")
def rerankers(
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON list.")] = False,
) -> None:
    """List the rerankers found: cross-encoders in the Hugging Face cache, and GGUF files with
    rank pooling where `rag models` looks for GGUF files. Nothing is downloaded."""
    from rag_app.models.rerankers import find_rerankers

    settings = _settings()
    entries = find_rerankers(settings)
    if as_json:
        out.print_json(data=[entry.to_dict() for entry in entries])
        return
    if entries:
        table = Table("")
        table.add_column("name", no_wrap=True, min_width=max(len(e.name) for e in entries))
        for header in ("kind", "origin", "MB", "architecture"):
            table.add_column(header, justify="right" if header == "MB" else "left")
        for entry in entries:
            table.add_row(
                "*" if entry.in_use else "",
                Text(entry.name),
                entry.kind,
                entry.origin,
                f"{entry.size_mb:,.0f}",
                entry.architecture or "",
            )
        out.print(table)
    else:
        out.print(
            "No reranker found (a cross-encoder in the Hugging Face cache, or a GGUF reranker).",
            markup=False,
        )
    out.print(
        f"In use: {settings.retrieval.rerank}. Switch with `rag models rerank NAME`, or "
        "`llm` (the chat model judges) or `none`.",
        markup=False,
        style="dim",
    )


@models_app.command("rerank")
def rerank(
    name: Annotated[
        str, typer.Argument(help="A name from `rag models rerankers`, a path, llm or none.")
    ],
) -> None:
    """Choose the reranker: saves retrieval.rerank in the settings file (--config/RAG_CONFIG,
    else <data_dir>/settings.toml)."""
    from rag_app.models.rerankers import use_reranker

    choice = use_reranker(name, _settings(), _config_file())
    out.print(f"Saved retrieval.rerank = {choice.setting} in {choice.settings_file}.", markup=False)
    if choice.overridden_by:
        err.print(f"note: not in use yet: {choice.overridden_by}", markup=False)
