"""`rag`: the command line, a thin client of ``RagService``.

Every failure a user can cause ends as one line on stderr and a non-zero exit code, never a
traceback (set RAG_DEBUG=1 to see one).
"""

from __future__ import annotations

import os
import socket
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table
from rich.text import Text

from rag_app.bench_cli import bench_app
from rag_app.console import err, out
from rag_app.errors import RagError
from rag_app.eval_cli import eval_app
from rag_app.injection import describe
from rag_app.models_cli import models_app
from rag_app.progress import progress_display
from rag_app.retrieval import STRATEGIES

EXIT_ERROR = 1
EXIT_PARTIAL = 3  # `rag ingest`: some files failed, the others went in
EXIT_INCONSISTENT = 4  # `rag docs check`: the stores disagree (and were not repaired)

app = typer.Typer(
    help="Ask questions about your PDFs, answered by a local model with cited pages.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
docs_app = typer.Typer(
    help="List ingested documents, delete one, or check the store.", invoke_without_command=True
)
kb_app = typer.Typer(
    help="Knowledge bases: separate sets of documents. `--kb NAME` before any command uses one.",
    invoke_without_command=True,
)
app.add_typer(docs_app, name="docs")
app.add_typer(kb_app, name="kb")
app.add_typer(bench_app, name="bench")
app.add_typer(eval_app, name="eval")
app.add_typer(models_app, name="models")


class State:
    config: Path | None = None
    data_dir: Path | None = None
    kb: str | None = None


def _settings(knowledge_base: bool = True) -> Any:
    """The settings of the global options; those of the ``--kb`` knowledge base unless
    ``knowledge_base`` is False."""
    from rag_app.service import with_knowledge_base
    from rag_app.settings import load_settings

    overrides: dict[str, Any] = {}
    if State.data_dir is not None:
        overrides["data_dir"] = State.data_dir
    settings = load_settings(State.config, **overrides)
    return with_knowledge_base(settings, State.kb) if knowledge_base else settings


def _service() -> Any:
    from rag_app.service import RagService

    return RagService(_settings())


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


def place(source: str, where: str) -> str:
    """ "file, page 3" / "file, Tema 2 › Atención" / "file" (a text file without headings)."""
    return f"{source}, {where}" if where else source


@app.command()
def ingest(
    paths: Annotated[list[Path], typer.Argument(help="PDF files or folders of PDFs.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
) -> None:
    """Add PDFs to the store; unchanged files are skipped, changed ones replaced."""
    service = _service()
    labels = {"parse": "Reading", "embed": "Embedding"}
    with progress_display(err, labels, enabled=not as_json) as progress:
        report = service.ingest(paths, progress)

    if as_json:
        out.print_json(
            data={
                "ingested": [
                    {"source": r.source, "pages": r.pages, "chunks": r.chunks}
                    for r in report.ingested
                ],
                "unchanged": report.unchanged,
                "reused_vectors": report.reused,
                "failed": report.failed,
                "notes": report.notes,
            }
        )
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


FALLBACK_NOTES = {
    "language": "the model answered in another language than the question",
    "unsupported": "nothing the model wrote is in the sources",
    "unanswered": "the model did not state the number, date or name the evidence gives",
}


@app.command()
def ask(
    question: Annotated[str, typer.Argument(help="Your question, in any language.")],
    k: Annotated[int | None, typer.Option("--k", min=1, max=50, help="Passages to use.")] = None,
    strategy: Annotated[
        str | None,
        typer.Option(help=f"Retrieval strategy: {', '.join(STRATEGIES)} (default from settings)."),
    ] = None,
    mode: Annotated[
        str | None,
        typer.Option(
            help="evidence (quotes only, no LLM), generate, or both (default from settings)."
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    doc: Annotated[
        list[str] | None,
        typer.Option(
            "--doc",
            help="Only this document (its name as `rag docs` lists it); repeat for several.",
        ),
    ] = None,
) -> None:
    """Answer a question from the ingested documents: evidence quoted first, then the model's
    wording checked against the sources."""
    stream = _service().stream(question, k, strategy=strategy, mode=mode, documents=doc or ())
    if as_json:
        out.print_json(data=stream.consume().to_dict())
        return
    if stream.evidence:
        out.print(
            "Evidence (it may not answer your question: the closest the documents come):"
            if stream.uncertain
            else "Evidence (quoted from the sources):",
            style="bold",
        )
        for e in stream.evidence:
            quote = "\n      ".join(e.text.splitlines())  # a list: its lead-in, then its items
            out.print(
                f"  [{e.number}] {place(e.source, e.location)}: \u201c{quote}\u201d", markup=False
            )
        if stream.mode != "evidence" and not stream.uncertain:
            out.print("\nAnswer (the model's wording, checked against the sources):", style="bold")
    if (stream.mode != "evidence" and not stream.uncertain) or not stream.evidence:
        for text in stream:
            out.file.write(text)
            out.file.flush()
        out.print()
    answer = stream.consume()
    if answer.unsupported and answer.generated not in (None, answer.answer):  # dropped
        out.print(
            f"note: {len(answer.unsupported)} sentence(s) of the model's answer were left out: "
            "not found in the sources",
            markup=False,
        )
    else:
        for sentence in answer.unsupported:
            out.print(f"  ! not found in the sources: {sentence}", markup=False)
    if answer.fallback in FALLBACK_NOTES:
        out.print(
            f"note: {FALLBACK_NOTES[answer.fallback]}; the evidence above is the answer.",
            markup=False,
        )
    _print_sources(answer)


def _print_sources(answer: Any) -> None:
    if not answer.sources:
        return
    cited = set(answer.cited)
    out.print("\nSources (* = the answer draws on it):", style="bold")
    for s in answer.sources:
        snippet = " ".join(s.text.split())
        snippet = snippet[:160] + ("\u2026" if len(snippet) > 160 else "")
        mark = "*" if s.number in cited else " "
        line = f"{mark}[{s.number}] {place(s.source, s.location)} (score {s.score:.2f})"
        out.print(line, markup=False)
        out.print(f"    {snippet}", markup=False, style="dim")
        if s.flags:
            out.print(f"    ! flagged: {describe(list(s.flags))}", markup=False)


def _print_documents(as_json: bool) -> None:
    records = _service().documents()
    if as_json:
        out.print_json(
            data=[
                {
                    "source": r.source,
                    "pages": r.pages,
                    "chunks": r.chunks,
                    "ingested_at": r.ingested_at,
                    "sha256": r.sha256,
                    "size": r.size,
                }
                for r in records
            ]
        )
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
    removed = _service().delete(name)
    out.print(f"Deleted {name} ({removed} chunks).", markup=False)


@docs_app.command("check")
def docs_check(
    repair: Annotated[bool, typer.Option("--repair", help="Fix what is found.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Verify that the registry, the vector store and the keyword index agree."""
    report = _service().check(repair)
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


@app.command()
def doctor(
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Load the models once and report what is in use: files, sizes, devices, GPU offload."""
    service = _service()
    report = service.describe()
    report["documents"] = len(service.documents())
    if as_json:
        out.print_json(data=report)
        return
    for key, value in report.items():
        out.print(f"{key:<24} {value}", markup=False)


@app.command()
def serve(
    port: Annotated[int | None, typer.Option(help="Port (also RAG_API__PORT).")] = None,
    host: Annotated[
        str | None, typer.Option(help="Address to listen on (also RAG_API__HOST).")
    ] = None,
) -> None:
    """Serve the HTTP API (OpenAI-compatible chat, documents, ask) on 127.0.0.1 unless told
    otherwise; docs at /docs."""
    import uvicorn

    from rag_app.api import check_bind, create_app

    settings = _settings(knowledge_base=False)
    address, number = host or settings.api.host, port or settings.api.port
    check_bind(address, settings.api.keys)
    _check_port(address, number, "RAG_API__PORT")
    err.print(f"rag-app API on http://{address}:{number} (docs: /docs)")
    uvicorn.run(create_app(settings), host=address, port=number, log_level="warning")


def _check_port(address: str, number: int, setting: str) -> None:
    with socket.socket() as probe:
        # As the servers bind (uvicorn, tornado): a port whose last server was just killed,
        # its connections still in TIME_WAIT, is free; one another program listens on is not.
        if os.name == "posix":
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((address, number))
        except OSError as exc:
            raise RagError(
                f"cannot listen on {address}:{number} ({exc.strerror}); another app may use the "
                f"port: pass --port or set {setting}"
            ) from None


@app.command()
def ui(
    port: Annotated[int | None, typer.Option(help="Port (also RAG_UI__PORT).")] = None,
    host: Annotated[
        str | None, typer.Option(help="Address to listen on (also RAG_UI__HOST).")
    ] = None,
) -> None:
    """Start the web UI (Streamlit) on 127.0.0.1 unless told otherwise."""
    from importlib.util import find_spec

    service = _service()
    settings = service.settings.ui
    spec = find_spec("ui.app")
    if spec is None or spec.origin is None:
        raise RagError("the UI package is not installed; reinstall rag-app (make install)")
    address, number = host or settings.host, port or settings.port
    _check_port(address, number, "RAG_UI__PORT")
    if address not in ("127.0.0.1", "localhost", "::1"):
        err.print(f"note: listening on {address}: other machines on the network can reach the UI")
    env = dict(os.environ)
    if State.data_dir is not None:
        env["RAG_DATA_DIR"] = str(State.data_dir)
    if State.config is not None:
        env["RAG_CONFIG"] = str(State.config)
    command = [
        sys.executable, "-m", "streamlit", "run", spec.origin,
        "--server.address", address,
        "--server.port", str(number),
        "--server.headless", "true",
        "--server.maxUploadSize", str(settings.max_upload_mb),
        "--browser.gatherUsageStats", "false",
        "--client.showErrorDetails", "none",
        "--client.toolbarMode", "minimal",
    ]  # fmt: skip
    err.print(f"rag-app UI on http://{address}:{number}")
    sys.stderr.flush()
    # Become the server (no child left behind when this process is stopped).
    os.execve(sys.executable, command, env)


def _quiet_libraries() -> None:
    for name, value in {
        "TOKENIZERS_PARALLELISM": "false",
        "TRANSFORMERS_VERBOSITY": "error",
        "ANONYMIZED_TELEMETRY": "False",
        "HF_HUB_DISABLE_TELEMETRY": "1",
        "HF_HUB_DISABLE_PROGRESS_BARS": "1",
    }.items():
        os.environ.setdefault(name, value)


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
    from rag_app.service import RagService, knowledge_bases

    settings = _settings(knowledge_base=False)
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
    from rag_app.service import knowledge_bases

    created = knowledge_bases(_settings(knowledge_base=False)).create(name)
    out.print(f"Created knowledge base {created.name!r}. Add documents with: "
              f"rag --kb {created.name!r} ingest FILES", markup=False)  # fmt: skip


@kb_app.command("rename")
def kb_rename(
    old: Annotated[str, typer.Argument(help="Its name now.")],
    new: Annotated[str, typer.Argument(help="Its new name.")],
) -> None:
    """Rename a knowledge base (its documents stay as they are)."""
    from rag_app.service import knowledge_bases

    renamed = knowledge_bases(_settings(knowledge_base=False)).rename(old, new)
    out.print(f"Renamed knowledge base {old!r} to {renamed.name!r}.", markup=False)


def _confirmed(question: str) -> bool:
    """A yes/no answer from the terminal; no (not an error) when there is no one to ask."""
    try:
        return bool(typer.confirm(question, err=True))
    except typer.Abort:
        return False


@kb_app.command("delete")
def kb_delete(
    name: Annotated[str, typer.Argument(help="The knowledge base to delete.")],
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
) -> None:
    """Delete a knowledge base and all its documents (other knowledge bases are untouched)."""
    from rag_app.service import delete_knowledge_base, knowledge_bases

    settings = _settings(knowledge_base=False)
    found = knowledge_bases(settings).find(name)
    if not yes and not _confirmed(f"Delete knowledge base {found.name!r} and all its documents?"):
        err.print("Nothing deleted (confirm, or add --yes).", markup=False)
        raise typer.Exit(1)
    base, chunks = delete_knowledge_base(settings, found.name)
    out.print(f"Deleted knowledge base {base.name!r} ({chunks} chunks).", markup=False)


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
        detail = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        err.print(
            f"error: unexpected {type(exc).__name__}: {detail} "
            "(run again with RAG_DEBUG=1 for the details, and report it)",
            markup=False,
        )
        sys.exit(EXIT_ERROR)
