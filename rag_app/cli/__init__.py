"""`rag`: the command line, a thin client of ``RagService``; one module per command group.

Every failure a user can cause ends as one line on stderr and a non-zero exit code, never a
traceback (set RAG_DEBUG=1 to see one).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from rag_app.cli.ask import ask
from rag_app.cli.bench import bench_app
from rag_app.cli.console import err
from rag_app.cli.context import EXIT_ERROR, State
from rag_app.cli.documents import docs_app, ingest
from rag_app.cli.evaluate import eval_app
from rag_app.cli.kb import kb_app
from rag_app.cli.models import models_app
from rag_app.cli.serve import doctor, serve, ui
from rag_app.cli.sync import sync
from rag_app.errors import RagError, first_line

app = typer.Typer(
    help="Ask questions about your documents, answered by a local model with cited pages.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.add_typer(docs_app, name="docs")
app.add_typer(kb_app, name="kb")
app.add_typer(bench_app, name="bench")
app.add_typer(eval_app, name="eval")
app.add_typer(models_app, name="models")
for command in (ingest, ask, sync, doctor, serve, ui):
    app.command()(command)


@app.callback()
def _options(
    config: Annotated[
        Path | None, typer.Option(help="TOML settings file (also RAG_CONFIG).")
    ] = None,
    data_dir: Annotated[
        Path | None, typer.Option(help="Where the store lives (also RAG_DATA_DIR).")
    ] = None,
    kb: Annotated[
        str | None,
        typer.Option(help="Knowledge base to use (`rag kb` lists them; default: 'default')."),
    ] = None,
) -> None:
    State.config, State.data_dir, State.kb = config, data_dir, kb


def _quiet_libraries() -> None:
    for name, value in {
        "TOKENIZERS_PARALLELISM": "false",
        "TRANSFORMERS_VERBOSITY": "error",
        "ANONYMIZED_TELEMETRY": "False",
        "HF_HUB_DISABLE_TELEMETRY": "1",
        "HF_HUB_DISABLE_PROGRESS_BARS": "1",
    }.items():
        os.environ.setdefault(name, value)


def main() -> None:
    _quiet_libraries()
    try:
        app()
    except RagError as exc:
        err.print(f"error: {exc}", markup=False, highlight=False)
        sys.exit(EXIT_ERROR)
    except KeyboardInterrupt:
        err.print("interrupted", markup=False)
        sys.exit(130)
    except Exception as exc:
        if os.environ.get("RAG_DEBUG"):
            raise
        detail = first_line(exc)
        err.print(
            f"error: unexpected {type(exc).__name__}: {detail} "
            "(run again with RAG_DEBUG=1 for the details, and report it)",
            markup=False,
        )
        sys.exit(EXIT_ERROR)
