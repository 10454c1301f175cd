"""Embedding throughput levers on the same chunks: batch size, call size, int8 weights.

    .venv/bin/python -m bench.perf.embed_levers            # chunks of 40 pages, 3 rounds
    .venv/bin/python -m bench.perf.embed_levers --quick    # 10 pages, 2 rounds

The chunks are the app's own (SciFact PDFs made at run time, split as `rag ingest` does). Each
round runs every variant once, in a rotated order; chunks/s medians over rounds, and each
variant's ratio to the default (one ``encode`` call of all chunks, batch 32), taken per round.
- ``batch N``: ``SentenceTransformer.encode(all, batch_size=N)``;
- ``calls of N``: ``encode`` called on slices of N chunks (sentence-transformers sorts texts by
  length only inside one call, so small calls pad more);
- ``int8``: the same model with its Linear layers quantized to int8 by
  ``torch.ao.quantization.quantize_dynamic`` (no new package, no download).
"""

from __future__ import annotations

import argparse
import copy
import shutil
import statistics
import tempfile
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from bench.lib import (
    make_pdfs,
    print_table,
    ratio,
    rotated,
    sentence_transformer,
    timed,
    write_results,
)
from ingest.loaders import load_pdf
from ingest.splitter import split_document
from rag_app.models import loading as models
from rag_app.settings import load_settings


def int8_copy(model: Any) -> Any:
    quantized = copy.deepcopy(model)
    models.quantize_int8(quantized)  # what RAG_EMBEDDING__PRECISION=int8 does
    return quantized


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=40)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    if args.quick:
        args.pages, args.rounds = 10, 2
    work = Path(tempfile.mkdtemp(prefix="rag-bench-levers-"))
    try:
        files = make_pdfs(work, args.pages)
        settings = load_settings(data_dir=work / "unused")
        texts = [c.page_content for f in files for c in split_document(load_pdf(f), 800, 120)]
        model = sentence_transformer(models.build_embeddings(settings.embedding))
        small = int8_copy(model)

        def sliced(size: int) -> Callable[[], Any]:
            return lambda: [
                model.encode(texts[i : i + size], batch_size=size, normalize_embeddings=True)
                for i in range(0, len(texts), size)
            ]

        variants: dict[str, Callable[[], Any]] = {
            f"batch {b}": partial(model.encode, texts, batch_size=b, normalize_embeddings=True)
            for b in (16, 32, 64, 128)
        }
        variants |= {"calls of 32": sliced(32), "calls of 256": sliced(256)}
        variants["int8 batch 32"] = lambda: small.encode(
            texts, batch_size=32, normalize_embeddings=True
        )
        model.encode(texts[:32]), small.encode(texts[:32])  # warm-up
        names = list(variants)
        rounds: list[dict[str, float]] = []
        for r in range(args.rounds):
            row = {}
            for name in rotated(names, r):
                seconds, _ = timed(variants[name])
                row[name] = round(len(texts) / seconds, 2)
            print(f"round {r + 1}: {row}")
            rounds.append(row)
        table = [
            {
                "variant": name,
                "chunks/s (median)": round(statistics.median(r[name] for r in rounds), 2),
                "ratio to batch 32 (median of rounds)": statistics.median(
                    ratio(r[name], r["batch 32"]) or 0 for r in rounds
                ),
            }
            for name in names
        ]
        print(f"{len(texts)} chunks")
        print_table(table)
        write_results(
            "embed-levers",
            {"args": vars(args), "chunks": len(texts), "rounds": rounds, "table": table},
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
