"""Shared helpers of the performance benchmarks (bench/perf/) and the studies (bench/studies/):
statistics, result files, test PDFs, server processes.

The statistics are pure (unit-tested in tests/unit/test_bench_lib.py); the rest touches disk.
The PDF makers here are shared with the tests (tests import bench, never the other way round).
Benchmarks run from the project root as modules, e.g. ``.venv/bin/python -m bench.perf.ingest``.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import platform
import signal
import socket
import statistics
import subprocess
import textwrap
import time
import urllib.error
import urllib.request
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


def with_hidden_text(path: Path, visible: str, hidden: str, how: str) -> Path:
    """A page of ordinary text plus ``hidden`` drawn in white ("white"), at 1 pt ("tiny"), or
    plainly ("visible"), on its own line below it: bench/studies/injection_study.py and
    tests/unit/test_injection.py."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    path.parent.mkdir(parents=True, exist_ok=True)
    pdf = canvas.Canvas(str(path), pagesize=A4)
    pdf.setFont("Helvetica", 11)
    pdf.drawString(72, 760, visible)
    if how == "white":
        pdf.setFillColorRGB(1, 1, 1)
    pdf.setFont("Helvetica", 1 if how == "tiny" else 11)
    pdf.drawString(72, 740, hidden)
    pdf.setFillColorRGB(0, 0, 0)
    pdf.setFont("Helvetica", 11)
    pdf.drawString(72, 720, "End of the notice.")
    pdf.showPage()
    pdf.save()
    return path


# -- server processes (the benchmarks' and the tests') -------------------------------
def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextlib.contextmanager
def server_process(
    command: list[str],
    ready_url: str,
    log: Path,
    headers: dict[str, str] | None = None,
    timeout_s: float = 120,
    env: dict[str, str] | None = None,
) -> Iterator[subprocess.Popen[bytes]]:
    """Start ``command`` in its own process group, wait until ``ready_url`` answers 200, yield
    the process; always stop the whole group at the end, so no server outlives its user."""
    with log.open("wb") as out:
        process = subprocess.Popen(
            command, stdout=out, stderr=subprocess.STDOUT, start_new_session=True, env=env
        )
    try:
        deadline = time.monotonic() + timeout_s
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"{command[0]} exited early: {log.read_text()[-2000:]}")
            try:
                ready = urllib.request.Request(ready_url, headers=headers or {})
                with urllib.request.urlopen(ready, timeout=2) as response:
                    if response.status == 200:
                        break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"{command[0]} not ready in {timeout_s}s: {log.read_text()}")
            time.sleep(0.3)
        yield process
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=15)
