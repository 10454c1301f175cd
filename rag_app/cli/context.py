"""What every command shares: the global options (``--config``, ``--data-dir``, ``--kb``),
the settings and service they name, exit codes, and the small terminal helpers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

EXIT_ERROR = 1
EXIT_PARTIAL = 3  # `rag ingest`: some files failed, the others went in
EXIT_INCONSISTENT = 4  # `rag docs check`: the stores disagree (and were not repaired)


class State:
    config: Path | None = None
    data_dir: Path | None = None
    kb: str | None = None


def settings_of(knowledge_base: bool = True) -> Any:
    """The settings of the global options; those of the ``--kb`` knowledge base unless
    ``knowledge_base`` is False."""
    from rag_app.knowledge import with_knowledge_base
    from rag_app.settings import load_settings

    overrides: dict[str, Any] = {}
    if State.data_dir is not None:
        overrides["data_dir"] = State.data_dir
    settings = load_settings(State.config, **overrides)
    return with_knowledge_base(settings, State.kb) if knowledge_base else settings


def service_of() -> Any:
    from rag_app.service import RagService

    return RagService(settings_of())


def place(source: str, where: str) -> str:
    """ "file, page 3" / "file, Tema 2 › Atención" / "file" (a text file without headings)."""
    return f"{source}, {where}" if where else source


def confirmed(question: str) -> bool:
    """A yes/no answer from the terminal; no (not an error) when there is no one to ask."""
    try:
        return bool(typer.confirm(question, err=True))
    except typer.Abort:
        return False
