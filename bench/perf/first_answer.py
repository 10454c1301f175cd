"""From adding a PDF to its first answer: the whole index first (before progressive indexing)
against keywords first with the vectors in the background (now); and the time to the full index.

    .venv/bin/python -m bench.perf.first_answer            # so.pdf (172 pages), 2 rounds
    .venv/bin/python -m bench.perf.first_answer --quick    # 1 round

The file is ../shared/data/course-notes/so.pdf (or ``--pdf``), the question one it answers.
Models are loaded before any clock, as in the UI or the API, where they are loaded once per
process. Each round, on a fresh data dir each, in a rotated order:

- whole first: ``RagService.ingest`` (read, stage, embed every chunk), then the question;
- keywords first: ``RagService.ingest(background=True)`` (read and stage: searchable by
  keywords), the question at once while this process embeds in its background thread, then
  the wait until the meaning index is complete;
- raw encode: the embedder's own library on every chunk of the file (the floor of a full index).

Reported per arm: seconds to the first answer (it must cite the file), seconds to the full
index; ratios: keywords-first over whole-first for both, and the full index over the raw encode.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.lib import (
    SHARED_DATA,
    median_over_rounds,
    median_ratios,
    print_table,
    ratio,
    raw_encoder,
    rotated,
    timed,
    write_results,
)
from ingest.formats import load_document
from ingest.loaders import LoadOptions
from ingest.splitter import split_document
from rag_app.models import loading as models
from rag_app.service import RagService
from rag_app.settings import load_settings

QUESTION = "¿Qué ocurre con un proceso zombie si su padre no hace wait?"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pdf", type=Path, default=SHARED_DATA / "course-notes" / "so.pdf")
    parser.add_argument("--question", default=QUESTION)
    parser.add_argument("--mode", default="evidence", help="answer mode of the question")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--quick", action="store_true", help="1 round")
    args = parser.parse_args()
    if args.quick:
        args.rounds = 1
    if not args.pdf.is_file():
        raise SystemExit(f"{args.pdf}: not found; pass --pdf FILE (a PDF of many pages)")

    work = Path(tempfile.mkdtemp(prefix="rag-bench-first-answer-"))
    try:
        base = load_settings(data_dir=work / "warm")
        embeddings = models.build_embeddings(base.embedding)
        chat = models.build_chat_model(base.llm) if args.mode != "evidence" else None
        encode = raw_encoder(embeddings, base.embedding.batch_size)
        size, overlap = base.chunking.chunk_size, base.chunking.chunk_overlap
        document = load_document(args.pdf, LoadOptions())
        texts = [c.page_content for c in split_document(document, size, overlap)]
        encode(texts[:32])  # warm-up
        embeddings.embed_query("warm-up")

        def service(name: str) -> RagService:
            settings = load_settings(data_dir=work / name, embedding=base.embedding)
            return RagService(settings, embeddings=embeddings, chat_model=chat)

        def answered(app: RagService) -> None:
            answer = app.ask(args.question, mode=args.mode)
            cited = {s.source for s in answer.sources}
            assert args.pdf.name in cited, f"the first answer cites {cited or 'nothing'}"

        def whole_first(n: int) -> dict[str, float]:
            app = service(f"whole-{n}")
            start = time.perf_counter()
            app.ingest([args.pdf])
            indexed = time.perf_counter() - start
            answered(app)
            return {"first_answer_s": time.perf_counter() - start, "full_index_s": indexed}

        def keywords_first(n: int) -> dict[str, float]:
            app = service(f"keywords-{n}")
            start = time.perf_counter()
            report = app.ingest([args.pdf], background=True)
            answered(app)
            first = time.perf_counter() - start
            assert report.waiting > 0, "the file was embedded before the question"
            while not app.indexing().done:
                assert app.background_error() is None, app.background_error()
                time.sleep(0.05)
            return {"first_answer_s": first, "full_index_s": time.perf_counter() - start}

        def raw(n: int) -> dict[str, float]:
            seconds, _ = timed(lambda: encode(texts))
            return {"full_index_s": seconds}

        runners = {"whole_first": whole_first, "keywords_first": keywords_first, "raw_encode": raw}
        rounds: list[dict[str, float]] = []
        for n in range(args.rounds):
            row: dict[str, float] = {}
            for name in rotated(list(runners), n):
                for measure, value in runners[name](n).items():
                    row[f"{name}.{measure}"] = round(value, 3)
            print(f"round {n + 1}: {row}")
            rounds.append(row)
        per_round: list[dict[str, Any]] = [
            {
                "keywords_first/whole_first first answer": ratio(
                    r["keywords_first.first_answer_s"], r["whole_first.first_answer_s"]
                ),
                "keywords_first/whole_first full index": ratio(
                    r["keywords_first.full_index_s"], r["whole_first.full_index_s"]
                ),
                "keywords_first full index/raw encode": ratio(
                    r["keywords_first.full_index_s"], r["raw_encode.full_index_s"]
                ),
                "whole_first full index/raw encode": ratio(
                    r["whole_first.full_index_s"], r["raw_encode.full_index_s"]
                ),
            }
            for r in rounds
        ]
        medians = {key: round(median_over_rounds(rounds, key), 3) for key in rounds[0]}
        ratios = median_ratios(per_round)
        print_table(
            [{"measure": key, "s (median)": value} for key, value in medians.items()]
            + [{"measure": key, "s (median)": value} for key, value in ratios.items()]
        )
        write_results(
            "first_answer",
            {
                "args": {k: str(v) for k, v in vars(args).items()},
                "pages": document.page_count,
                "chunks": len(texts),
                "embedder": base.embedding.model,
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
