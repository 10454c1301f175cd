"""`rag eval ...`: evaluation, a thin client of ``rag_app.evaluation``.

`rag eval --qa FILE` runs the QA set through the pipeline, `rag eval --scored FILE` scores
answers made elsewhere, `rag eval generate` writes a synthetic QA set from the user's PDFs.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from rag_app.cli.console import err, out
from rag_app.cli.progress import progress_display
from rag_app.errors import RagError

if TYPE_CHECKING:
    from rag_app.evaluation.schema import EvalReport
    from rag_app.service import RagService

eval_app = typer.Typer(
    help="Score the pipeline on a QA set (Ragas-style metrics), or write a synthetic QA set.",
    invoke_without_command=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
LABELS = {
    "answer": "Answering",
    "score": "Scoring",
    "generate": "Writing",
    "parse": "Reading",
    "index": "Indexing",
    "embed": "Embedding",
}


def _service() -> RagService:
    from rag_app.cli.context import service_of

    return service_of()


def _by_strategy(stage: str, name: str) -> str:
    return f"{stage}:{name}" if stage == "answer" else stage


@eval_app.callback()
def evaluate(
    ctx: typer.Context,
    qa: Annotated[
        Path | None, typer.Option(help="QA set (.jsonl, .json, .csv, or SQuAD v1.1 .json).")
    ] = None,
    scored: Annotated[
        Path | None,
        typer.Option(help="A dataset that already holds response and retrieved_contexts."),
    ] = None,
    docs: Annotated[
        Path | None, typer.Option(help="A document or folder to ingest before asking.")
    ] = None,
    strategies: Annotated[
        str | None, typer.Option(help="Comma-separated strategies (default from settings).")
    ] = None,
    modes: Annotated[
        str | None,
        typer.Option(
            help="Comma-separated answer modes to compare: evidence, generate, both "
            "(default from settings)."
        ),
    ] = None,
    k: Annotated[
        int | None, typer.Option("--k", min=1, max=50, help="Passages per answer.")
    ] = None,
    limit: Annotated[int | None, typer.Option(min=1, help="Only the first N questions.")] = None,
    sample: Annotated[
        int | None, typer.Option(min=1, help="N questions spread evenly over the file.")
    ] = None,
    judge: Annotated[
        str | None,
        typer.Option(help="llm: add LLM-judged metrics (slow); none: non-LLM only (default)."),
    ] = None,
    retrieval_only: Annotated[
        bool,
        typer.Option(
            "--retrieval-only", help="Retrieve without answering: context metrics only, fast."
        ),
    ] = False,
    out_dir: Annotated[
        Path | None,
        typer.Option(
            "--out",
            help="Folder for the .json, .md and .html reports (default: <data dir>/eval-results, "
            "e.g. ~/.local/share/rag-app/eval-results).",
        ),
    ] = None,
) -> None:
    """Run every question through the pipeline per strategy, score it, write reports."""
    if ctx.invoked_subcommand is not None:
        return
    from rag_app.evaluation import dataset, report, runner
    from rag_app.evaluation.generate import spread
    from rag_app.evaluation.schema import judge_count

    if (qa is None) == (scored is None):
        raise RagError("rag eval: pass exactly one of --qa FILE or --scored FILE")
    if judge not in (None, "llm", "none"):
        raise RagError(f"--judge {judge}: unknown; use llm or none")
    path = qa or scored
    assert path is not None
    samples = dataset.load_qa(path)[:limit]
    if sample is not None:
        samples = spread(samples, sample)[:sample]
    chosen = runner.check_strategies(strategies.split(",")) if strategies else None
    answer_modes = runner.check_modes(modes.split(",")) if modes else None
    service = _service()
    out_dir = out_dir or service.settings.data_dir / "eval-results"  # never into a checkout
    with progress_display(err, LABELS, task_key=_by_strategy) as progress:
        if docs is not None:
            ingested = service.ingest([docs], progress)
            for line in ingested.failed:
                err.print(f"failed: {line}", markup=False)
        result = runner.evaluate(
            service,
            samples,
            qa_file=path,
            strategies=chosen,
            k=k,
            judge=judge,
            scored=scored is not None,
            retrieval_only=retrieval_only,
            modes=answer_modes,
            progress=progress,
        )
    paths = report.write_reports(result, out_dir)
    out.print(summary_table(result))
    if result["by_type"]:
        out.print(type_table(result))
    unparseable = sum(judge_count(m, "judge_unparseable") for m in result["aggregate"].values())
    if unparseable:
        err.print(f"note: {unparseable} judge replies were unparseable and left out", markup=False)
    err.print(f"reports: {paths['json']}, {paths['md']}, {paths['html']}", markup=False)


def summary_table(result: EvalReport) -> Table:
    """Metrics as rows, strategies as columns: fits a terminal however many metrics apply."""
    from rag_app.evaluation.report import shown_metrics
    from rag_app.evaluation.schema import metric_mean

    aggregate = result["aggregate"]
    title = f"{result['questions']} questions, judge {result['judge']}, k={result['k']}"
    table = Table("metric", *aggregate, "method", title=title)
    for name in shown_metrics(result):
        means = [metric_mean(aggregate[s], name) for s in aggregate]
        cells = ["-" if m is None else f"{m:.3f}" for m in means]
        table.add_row(name, *cells, result["methods"].get(name, "").split(":")[0])
    unparseable = [
        f"{aggregate[s]['judge_unparseable']}/{aggregate[s]['judge_calls']}" for s in aggregate
    ]
    table.add_row("judge unparseable/calls", *unparseable, "")
    return table


def type_table(result: EvalReport) -> Table:
    """Per strategy and question type: how many, keyword hit rate and recall, abstentions."""
    from rag_app.evaluation.report import TYPE_COLUMNS, type_rows

    table = Table(*TYPE_COLUMNS, title="per question type")
    for cells in type_rows(result):
        table.add_row(*cells)
    return table


@eval_app.command()
def generate(
    docs: Annotated[Path, typer.Option(help="A document or folder to write questions from.")],
    out_file: Annotated[Path, typer.Option("--out", help="The QA set to write (.jsonl).")],
    n: Annotated[int, typer.Option("--n", min=1, max=1000, help="How many questions.")] = 20,
    no_model: Annotated[
        bool,
        typer.Option(
            "--no-model", help="Templates and cloze questions only: fast, same output every run."
        ),
    ] = False,
) -> None:
    """Write a synthetic QA set (question, reference answer, source page) from your documents."""
    from rag_app.evaluation.dataset import write_jsonl
    from rag_app.evaluation.generate import generate_qa

    chat_model, name = None, ""
    if not no_model:
        service = _service()
        chat_model, name = service.chat_model, service.chat_model_name
    with progress_display(err, LABELS) as progress:
        rows, report = generate_qa([docs], n, chat_model, name, progress)
    write_jsonl(out_file, rows)
    made = report.made
    out.print(
        f"Wrote {len(rows)} question(s) to {out_file}: {made['model']} reworded by the model, "
        f"{made['template']} template, {made['cloze']} cloze.",
        markup=False,
    )
    if len(rows) < n:
        err.print(
            f"note: only {report.usable} usable sentence(s) in {docs} for {n} questions; "
            "add documents for more",
            markup=False,
        )
