"""`rag bench ...`: benchmarks, a thin client of ``rag_app.evaluation.benchmark``.

Errors are raised as ``RagError``; ``rag_app.cli.main`` prints them as one line. The benchmark
never touches the user's store: each corpus gets its own data dir under the cache dir.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from rag_app.cli.console import err, out
from rag_app.cli.progress import progress_display
from rag_app.errors import RagError

METRICS = ("ndcg@10", "recall@5", "recall@10", "mrr@10", "s_per_query")  # table columns

bench_app = typer.Typer(
    help="Measure retrieval on public corpora (BEIR, SQuAD) with the app's own ingest and search.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)

STAGE_LABELS = {"index": "Indexing", "embed": "Embedding", "query": "Querying"}


@bench_app.callback()
def _bench() -> None:
    """Benchmarks (a callback keeps `retrieval` a subcommand even while it is the only one)."""


@bench_app.command()
def retrieval(
    beir: Annotated[
        Path | None, typer.Option(help="BEIR folder: corpus.jsonl, queries, qrels/<split>.tsv.")
    ] = None,
    squad: Annotated[Path | None, typer.Option(help="SQuAD v1.1 JSON file.")] = None,
    split: Annotated[str, typer.Option(help="BEIR split: test, train or dev.")] = "test",
    strategies: Annotated[
        str, typer.Option(help="Comma-separated retrieval strategies.")
    ] = "similarity",
    limit: Annotated[int | None, typer.Option(min=1, help="Only the first N queries.")] = None,
    k: Annotated[int, typer.Option("--k", min=1, max=100, help="Chunks per query.")] = 10,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result JSON.")] = False,
    out_dir: Annotated[
        Path | None,
        typer.Option(
            "--out",
            help="Folder for the .json and .md results (default: <data dir>/bench-results, "
            "e.g. ~/.local/share/rag-app/bench-results).",
        ),
    ] = None,
    cache_dir: Annotated[
        Path | None,
        typer.Option(help="Where cached indexes live (default: the user cache dir)."),
    ] = None,
    config: Annotated[
        Path | None, typer.Option(help="TOML settings file (also RAG_CONFIG).")
    ] = None,
) -> None:
    """nDCG@10, recall@5/10, MRR@10 and seconds per query for each strategy."""
    from rag_app.evaluation import benchmark, corpora

    names = list(dict.fromkeys(s.strip() for s in strategies.split(",") if s.strip()))
    if not names:
        raise RagError("--strategies is empty; name at least one, e.g. similarity")
    if beir is not None and squad is None:
        corpus = corpora.load_beir(beir, split)
    elif squad is not None and beir is None:
        corpus = corpora.load_squad(squad)
    else:
        raise RagError("rag bench retrieval: pass exactly one of --beir DIR or --squad FILE")
    if not corpus.queries:
        raise RagError(f"benchmark corpus {corpus.name}: no judged queries; check the qrels")

    def per_strategy(stage: str, name: str) -> str:
        return f"{stage}:{name}" if stage == "query" else stage

    config_file = config or _global_config()
    if out_dir is None:
        out_dir = benchmark.default_out_dir(config_file, _global_data_dir())
    with progress_display(err, STAGE_LABELS, task_key=per_strategy) as progress:
        result = benchmark.run_benchmark(
            corpus,
            names,
            k=k,
            limit=limit,
            out_dir=out_dir,
            cache_root=cache_dir,
            config_file=config_file,
            progress=progress,
            notify=lambda message: err.print(message, markup=False),
        )

    if as_json:
        out.file.write(json.dumps(result.report, indent=2, ensure_ascii=False) + "\n")
    else:
        out.print(result_table(result.report))
    err.print(f"results: {result.json_path} and {result.markdown_path}", markup=False)


def _global_config() -> Path | None:
    """`rag --config FILE bench ...`: the global option, when the command's own is not given."""
    from rag_app.cli.context import State

    return State.config


def _global_data_dir() -> Path | None:
    """`rag --data-dir DIR bench ...`: where the results go by default."""
    from rag_app.cli.context import State

    return State.data_dir


def result_table(report: dict[str, Any]) -> Table:
    counts = report["counts"]
    title = (
        f"{report['corpus']}: {counts['queries']} queries, {counts['documents']} documents, "
        f"{counts['chunks']} chunks, {report['embedder']}"
    )
    table = Table("strategy", "nDCG@10", "R@5", "R@10", "MRR@10", "s/query", title=title)
    for name, m in report["strategies"].items():
        table.add_row(name, *(f"{m[key]:.3f}" for key in METRICS))
    return table
