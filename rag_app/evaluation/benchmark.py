"""Retrieval benchmark: public corpora (BEIR, SQuAD) through the app's own ingest and retrieve.

Scores are computed on relevance units (a document for BEIR, a document page for SQuAD), not on
chunks: the ranked chunks are reduced to the first occurrence of each unit, so a long document
split in several chunks is neither rewarded twice nor penalised for it. The embedded index of a
corpus is cached under the user cache dir, keyed by embedder, chunking and corpus content.
"""

from __future__ import annotations

import hashlib
import json
import math
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import platformdirs
from langchain_core.embeddings import Embeddings

from ingest.pipeline import ProgressFn, no_progress
from rag_app.errors import RagError, first_line
from rag_app.evaluation import metrics
from rag_app.evaluation.corpora import (
    Corpus,
    Query,
    Unit,
)
from rag_app.models import loading as models
from rag_app.settings import Settings, load_settings

if TYPE_CHECKING:
    from rag_app.service import RagService

METRICS = ("ndcg@10", "recall@5", "recall@10", "mrr@10", "s_per_query")
COMPLETE_MARKER = "complete.json"
RESULTS_FOLDER = "bench-results"  # inside the data dir: the default --out, outside any checkout


@dataclass
class BenchResult:
    report: dict[str, Any]  # what the JSON file holds
    reused_cache: bool
    cache_dir: Path
    json_path: Path
    markdown_path: Path
    errors: dict[str, str] = field(default_factory=dict)  # strategy -> one-line RagError


# -- metrics ------------------------------------------------------------------------------
def first_units(units: Iterable[Unit]) -> list[Unit]:
    """Ranked units with repeats removed: a unit counts at the rank of its best chunk."""
    return list(dict.fromkeys(units))


def ndcg_at(ranked: Sequence[Unit], relevant: Mapping[Unit, float], k: int = 10) -> float:
    dcg = sum(relevant.get(u, 0.0) / math.log2(i + 2) for i, u in enumerate(ranked[:k]))
    ideal = sorted(relevant.values(), reverse=True)[:k]
    idcg = sum(g / math.log2(i + 2) for i, g in enumerate(ideal))
    return dcg / idcg if idcg > 0 else 0.0


def _ranks(ranked: Sequence[Unit], relevant: Mapping[Unit, float]) -> list[int]:
    return metrics.relevant_ranks(ranked, lambda unit: relevant.get(unit, 0.0) > 0)


def recall_at(ranked: Sequence[Unit], relevant: Mapping[Unit, float], k: int) -> float:
    if not relevant:
        return 0.0
    return sum(rank <= k for rank in _ranks(ranked, relevant)) / len(relevant)


def mrr_at(ranked: Sequence[Unit], relevant: Mapping[Unit, float], k: int = 10) -> float:
    return metrics.reciprocal_rank(_ranks(ranked, relevant), k)


def score_query(ranked: Sequence[Unit], relevant: Mapping[Unit, float]) -> dict[str, float]:
    units = first_units(ranked)
    return {
        "ndcg@10": ndcg_at(units, relevant, 10),
        "recall@5": recall_at(units, relevant, 5),
        "recall@10": recall_at(units, relevant, 10),
        "mrr@10": mrr_at(units, relevant, 10),
    }


# -- the run ------------------------------------------------------------------------------
def default_cache_root() -> Path:
    return Path(platformdirs.user_cache_dir("rag-app", appauthor=False))


def default_out_dir(config_file: Path | None = None, data_dir: Path | None = None) -> Path:
    """``<data dir>/bench-results``: the data dir of ``data_dir`` (the global --data-dir), else
    of the settings (RAG_DATA_DIR, the config file, the user data dir)."""
    folder = data_dir or load_settings(config_file).data_dir
    return folder.expanduser() / RESULTS_FOLDER


def cache_key(embedder: str, settings: Settings, documents: Iterable[tuple[str, list[str]]]) -> str:
    """Same embedder, chunking and corpus text: same index, so it can be reused."""
    digest = hashlib.sha256()
    chunking = settings.chunking
    digest.update(f"{embedder}\0{chunking.chunk_size}\0{chunking.chunk_overlap}\0".encode())
    for name, pages in documents:
        digest.update(f"{name}\0{chr(12).join(pages)}\0".encode())
    return digest.hexdigest()[:16]


def _notify_nothing(message: str) -> None:
    pass


def run_benchmark(
    corpus: Corpus,
    strategies: Sequence[str] = ("similarity",),
    *,
    k: int = 10,
    limit: int | None = None,
    out_dir: Path | None = None,
    cache_root: Path | None = None,
    config_file: Path | None = None,
    embeddings: Embeddings | None = None,
    progress: ProgressFn | None = None,
    notify: Callable[[str], None] | None = None,
) -> BenchResult:
    """Ingest ``corpus`` (or reuse its cached index), run every strategy, write JSON and Markdown
    to ``out_dir`` (default: ``<data dir>/bench-results``, see ``default_out_dir``).

    A strategy that raises ``RagError`` is reported in ``errors`` and skipped; the others run.
    ``embeddings`` replaces the configured embedder (tests); its class then names the cache key,
    so a fake never fills the cache a real embedder would reuse.
    """
    from rag_app.service import RagService

    progress, notify = progress or no_progress, notify or _notify_nothing
    started = datetime.now(UTC)
    root = (cache_root or default_cache_root()).expanduser()
    base = load_settings(config_file, data_dir=root)
    embedder = models.embedder_name(base.embedding)
    if embeddings is not None:
        embedder = f"{type(embeddings).__module__}.{type(embeddings).__qualname__}"
    cache_dir = root / "bench" / cache_key(embedder, base, corpus.documents)
    settings = load_settings(config_file, data_dir=cache_dir)
    service = RagService(settings, embeddings=embeddings)

    marker = cache_dir / COMPLETE_MARKER
    reused = marker.is_file()
    if reused:
        index = json.loads(marker.read_text(encoding="utf-8"))
        notify(f"reusing the cached index in {cache_dir} (ingestion skipped)")
    else:
        notify(f"ingesting {len(corpus.documents)} documents into {cache_dir}")
        clock = time.perf_counter()
        ingest = service.ingest_texts(corpus.documents, progress)
        if ingest.failed:
            raise RagError(f"benchmark corpus {corpus.name}: {ingest.failed[0]}")
        records = service.documents()
        index = {
            "corpus": corpus.name,
            "embedder": embedder,
            "documents": len(records),
            "chunks": sum(r.chunks for r in records),
            "ingest_s": round(time.perf_counter() - clock, 2),
            "ingested_at": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        marker.write_text(json.dumps(index, indent=2), encoding="utf-8")

    queries = corpus.queries[:limit] if limit else corpus.queries
    results: dict[str, dict[str, float]] = {}
    errors: dict[str, str] = {}
    for strategy in strategies:
        try:
            results[strategy] = _run_strategy(service, corpus, queries, strategy, k, progress)
        except RagError as exc:
            errors[strategy] = first_line(exc) or type(exc).__name__
            notify(f"strategy {strategy}: skipped ({errors[strategy]})")

    report: dict[str, Any] = {
        "corpus": corpus.name,
        "split": corpus.split,
        "unit": "page" if corpus.by_page else "document",
        "embedder": embedder,
        "chunking": settings.chunking.model_dump(),
        "k": k,
        "rerank": _rerank_label(settings),
        "counts": {
            "queries": len(queries),
            "documents": index["documents"],
            "chunks": index["chunks"],
        },
        "cache": {
            "dir": str(cache_dir),
            "reused": reused,
            "ingested_at": index["ingested_at"],
            "ingest_s": index["ingest_s"],
        },
        "started_at": started.isoformat(timespec="seconds"),
        "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "strategies": results,
        "errors": errors,
    }
    folder = out_dir if out_dir is not None else default_out_dir(config_file)
    json_path, markdown_path = write_reports(report, folder, started)
    return BenchResult(report, reused, cache_dir, json_path, markdown_path, errors)


def _rerank_label(settings: Settings) -> str:
    """What re-ranked the results (retrieval.rerank), with how many candidates it scored."""
    retrieval = settings.retrieval
    if retrieval.rerank == "none":
        return "none"
    return f"{retrieval.rerank} (of {retrieval.rerank_candidates} candidates)"


def _run_strategy(
    service: RagService,
    corpus: Corpus,
    queries: Sequence[Query],
    strategy: str,
    k: int,
    progress: ProgressFn,
) -> dict[str, float]:
    totals = dict.fromkeys(METRICS, 0.0)
    service.forget_generations()  # each strategy pays for its own LLM calls
    if queries:  # untimed: loading models and building indexes is not retrieval time
        service.retrieve(queries[0].text, k=k, strategy=strategy)
    for done, query in enumerate(queries):
        progress("query", done, len(queries), strategy)
        clock = time.perf_counter()
        sources = service.retrieve(query.text, k=k, strategy=strategy)
        totals["s_per_query"] += time.perf_counter() - clock
        ranked = [(s.source, s.page if corpus.by_page else 0) for s in sources]
        for name, value in score_query(ranked, query.relevant).items():
            totals[name] += value
    progress("query", len(queries), len(queries), strategy)
    n = max(len(queries), 1)
    return {name: round(value / n, 4) for name, value in totals.items()}


# -- reports ------------------------------------------------------------------------------
def markdown(report: Mapping[str, Any]) -> str:
    split = f", split {report['split']}" if report.get("split") else ""
    chunking = report["chunking"]
    lines = [
        f"**{report['corpus']}**{split}: {report['counts']['queries']} queries, "
        f"{report['counts']['documents']} documents ({report['counts']['chunks']} chunks of "
        f"≤{chunking['chunk_size']} chars, overlap {chunking['chunk_overlap']}), "
        f"k={report['k']}, embedder {report['embedder']}, "
        f"rerank {report.get('rerank', 'none')}, {report['started_at']}",
        "",
        "| strategy | nDCG@10 | R@5 | R@10 | MRR@10 | s/query |",
        "|---|---|---|---|---|---|",
    ]
    for name, m in report["strategies"].items():
        values = " | ".join(f"{m[key]:.3f}" for key in METRICS)
        lines.append(f"| {name} | {values} |")
    lines += [f"\n{name}: not run ({message})" for name, message in report["errors"].items()]
    return "\n".join(lines) + "\n"


def write_reports(report: Mapping[str, Any], out_dir: Path, when: datetime) -> tuple[Path, Path]:
    """<corpus>-<when>Z.json and .md, by the evaluation's own writer."""
    from rag_app.evaluation.report import write_files

    paths = write_files(report, out_dir, report["corpus"], when, {"md": markdown})
    return paths["json"], paths["md"]
