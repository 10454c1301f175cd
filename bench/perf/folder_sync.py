"""Syncing a linked folder after a week of edits: only what changed is embedded.

    .venv/bin/python -m bench.perf.folder_sync            # 1,000 files, 3 rounds
    .venv/bin/python -m bench.perf.folder_sync --quick    # 200 files, 2 rounds

A folder of Markdown notes (a SciFact abstract each, in three paragraphs: distinct, real prose)
is linked to a knowledge base and synced once (timed: the first sync of a folder). Then each
round, on a copy of that data dir (copied outside the clock) and the folder as it was: 10 files
get a new section, 2 are renamed, 1 is deleted, their times set a minute back (edits made
earlier, so the settle wait for files being written does not count), and a second sync is
timed. The embedder is wrapped to count the passages it is given: the count must equal the
edited files' new chunks (asserted: renamed files keep their vectors, the deleted one is only
marked missing). In the same round, in a rotated order, the embedder's own library
(``bench.lib.raw_encoder``) encodes exactly those new chunk texts; the ratio is sync / encode.
Peak RSS (``resource.getrusage``) covers the whole run.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.lib import (
    median_over_rounds,
    median_ratios,
    print_table,
    ratio,
    raw_encoder,
    rotated,
    scifact_abstracts,
    timed,
    write_results,
)
from ingest.formats import load_document
from ingest.splitter import split_document
from rag_app.folders import FolderSync, link_folder
from rag_app.models import loading as models
from rag_app.service import RagService
from rag_app.settings import Settings, load_settings
from tests.support.embeddings import Counting

CHANGED, RENAMED, DELETED = 10, 2, 1


def write_notes(folder: Path, count: int, abstracts: list[str]) -> list[Path]:
    """One note per abstract: a title and its sentences in three paragraphs."""
    folder.mkdir(parents=True)
    notes = []
    for i, text in zip(range(count), abstracts, strict=False):
        sentences = text.split(". ")
        third = max(1, len(sentences) // 3)
        paragraphs = [
            ". ".join(sentences[at : at + third]) for at in range(0, len(sentences), third)
        ]
        path = folder / f"week{i % 12 + 1:02d}" / f"note-{i:04d}.md"
        path.parent.mkdir(exist_ok=True)
        path.write_text(f"# Note {i}\n\n" + "\n\n".join(paragraphs) + "\n", encoding="utf-8")
        notes.append(path)
    return notes


def chunk_texts(path: Path, settings: Settings) -> set[str]:
    chunking = settings.chunking
    chunks = split_document(load_document(path), chunking.chunk_size, chunking.chunk_overlap)
    return {c.page_content for c in chunks}


def edit(notes: list[Path], extra: list[str], settings: Settings) -> list[str]:
    """The week's edits; returns the new chunk texts (what a sync must embed)."""
    fresh: set[str] = set()
    for path, text in zip(notes[:CHANGED], extra, strict=True):
        before = chunk_texts(path, settings)
        with path.open("a", encoding="utf-8") as handle:
            handle.write(f"\n## Added this week\n\n{text}\n")
        fresh |= chunk_texts(path, settings) - before
    moved = [p.rename(p.with_name(f"renamed-{p.name}")) for p in notes[CHANGED : CHANGED + RENAMED]]
    for path in notes[CHANGED + RENAMED : CHANGED + RENAMED + DELETED]:
        path.unlink()
    minute_ago = time.time() - 60
    for path in [*notes[:CHANGED], *moved]:
        os.utime(path, (minute_ago, minute_ago))
    return sorted(fresh)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="200 files, 2 rounds")
    args = parser.parse_args()
    if args.quick:
        args.files, args.rounds = 200, 2

    work = Path(tempfile.mkdtemp(prefix="rag-bench-folder-sync-"))
    try:
        abstracts = [a for a in scifact_abstracts() if len(a) > 400][: args.files + CHANGED]
        pristine = work / "pristine"
        write_notes(pristine, args.files, abstracts)
        folder = work / "notes"
        shutil.copytree(pristine, folder)
        base = load_settings(data_dir=work / "base")
        embeddings = Counting(models.build_embeddings(base.embedding))
        encode = raw_encoder(embeddings.inner, base.embedding.batch_size)
        encode(abstracts[:32])  # warm-up
        link_folder(base, folder)
        first_s, first = timed(lambda: FolderSync(RagService(base, embeddings=embeddings)).run())
        assert len(first.added) == args.files and not first.failed, first.failed
        first_chunks = embeddings.embedded
        print(f"first sync: {args.files} files, {first_chunks} chunks in {first_s:.1f} s")

        scratch = work / "scratch"  # the edits once, for the new chunk texts every round has
        shutil.copytree(pristine, scratch)
        texts = edit(sorted(scratch.rglob("*.md")), abstracts[args.files :], base)

        def app_run(n: int) -> float:
            shutil.rmtree(folder)
            shutil.copytree(pristine, folder)  # the folder as the first sync read it
            copy = work / f"round-{n}"
            shutil.copytree(base.data_dir, copy)
            settings = load_settings(data_dir=copy, embedding=base.embedding)
            assert edit(sorted(folder.rglob("*.md")), abstracts[args.files :], settings) == texts
            embeddings.embedded = 0
            service = RagService(settings, embeddings=embeddings)
            seconds, summary = timed(lambda: FolderSync(service).run())
            assert (len(summary.changed), len(summary.renamed), len(summary.missing)) == (
                CHANGED, RENAMED, DELETED), summary.to_dict()["counts"]  # fmt: skip
            assert embeddings.embedded == len(texts), (embeddings.embedded, len(texts))
            return seconds

        runners: dict[str, Callable[[int], float]] = {
            "second_sync": app_run,
            "raw_encode_new_chunks": lambda n: timed(lambda: encode(texts))[0],
        }
        names = list(runners)
        rounds: list[dict[str, float]] = []
        for n in range(args.rounds):
            row = {name: round(runners[name](n), 3) for name in rotated(names, n)}
            print(f"round {n + 1}: {row}")
            rounds.append(row)
        per_round: list[dict[str, Any]] = [
            {"second_sync/raw_encode time": ratio(r["second_sync"], r["raw_encode_new_chunks"])}
            for r in rounds
        ]
        medians = {name: round(median_over_rounds(rounds, name), 3) for name in names}
        peak_mb = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
        print(f"second sync: {len(texts)} new chunks to embed")
        print_table(
            [
                {"run": f"first sync ({args.files} files, {first_chunks} chunks)", "s": round(first_s, 3)},
                *({"run": f"{name} (median)", "s": medians[name]} for name in names),
                *({"run": f"{k} (median of rounds)", "s": v} for k, v in median_ratios(per_round).items()),
                {"run": "peak RSS, MB", "s": peak_mb},
            ]
        )  # fmt: skip
        write_results(
            "folder-sync",
            {
                "args": vars(args),
                "embedder": models.embedder_name(base.embedding),
                "first_sync_s": round(first_s, 3),
                "first_sync_chunks": first_chunks,
                "edits": {"changed": CHANGED, "renamed": RENAMED, "deleted": DELETED},
                "new_chunks": len(texts),
                "rounds": rounds,
                "median_s": medians,
                "ratios_per_round": per_round,
                "ratios_median": median_ratios(per_round),
                "peak_rss_mb": peak_mb,
            },
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
