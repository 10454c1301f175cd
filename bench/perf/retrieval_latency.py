"""Retrieval latency per strategy at 10k and 100k chunks vs a raw chromadb query.

    .venv/bin/python -m bench.perf.retrieval_latency              # 10k and 100k, 100 queries, 3 rounds
    .venv/bin/python -m bench.perf.retrieval_latency --quick      # 10k, 20 queries, 2 rounds

Stores are built from the SciFact index that `rag bench retrieval --beir .../scifact --split
train` caches with the default embedder (17,338 real chunks with their vectors), copied first,
never written to:
- 10k: the first documents of it, whole, up to 10,000 chunks, vectors as they are.
- 100k: all of it replicated 6 times (the copies under new document and chunk ids, the same
  texts), the copies' vectors perturbed with Gaussian noise (sigma 0.02 per dimension) and
  re-normalised, then cut to 100,000 chunks. Everything goes through the app's own write path
  (``DocumentStore.begin/add/commit``: Chroma chunks, BM25 tokens, registry records), so the
  registry holds a document per copy (~30k) as a real store of that size would.
Built stores are kept in the temp dir (``--stores``) and reused by later runs. ``--source NAME``
cuts them from another cached corpus instead (its name in complete.json), e.g.
``xquad.es.dev+scifact1000``, which ``bench.studies.abstention_study --sets es --mix-scifact 1000``
caches: a store in two languages.

Every question is embedded once before the clocks start and both sides get that same vector
(the app through an embedder that answers from the precomputed table): timings exclude the
~10 ms query embedding, which costs the same on both sides (reported separately). For each
question and strategy the app (``RagService.retrieve``, k=4) and the raw
``collection.query(query_embeddings=[v], n_results=4)`` on the same collection run back to back,
the first of the two alternating. Rounds repeat the whole set; medians of per-round p50/p95.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import statistics
import tempfile
from collections import defaultdict
from functools import partial
from pathlib import Path
from typing import Any

from langchain_core.documents import Document
from langchain_core.embeddings import Embeddings

from bench.lib import SHARED_DATA, latency_summary, print_table, ratio, timed, write_results
from ingest.splitter import chunk_id
from rag_app.evaluation.benchmark import default_cache_root
from rag_app.models import loading as models
from rag_app.service import RagService
from rag_app.settings import Settings, load_settings
from rag_app.text.language import SEARCH
from vectorstore import open_store
from vectorstore.registry import DocumentRecord

STRATEGIES = ("similarity", "bm25", "mmr", "hybrid")
K = 4
REPLICAS = 6
NOISE = 0.02


class PrecomputedQueries(Embeddings):
    """Answers ``embed_query`` from vectors computed before timing (falls back to the model)."""

    def __init__(self, model: Embeddings, vectors: dict[str, list[float]]) -> None:
        self.model, self.vectors = model, vectors

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.model.embed_documents(texts)

    def embed_query(self, text: str) -> list[float]:
        return self.vectors.get(text) or self.model.embed_query(text)


def cached_index(corpus: str = "scifact-train") -> Path:
    """The Chroma folder of a corpus that ``rag bench retrieval`` (or a study) has cached."""
    for folder in (default_cache_root() / "bench").glob("*/"):
        marker = folder / "complete.json"
        if marker.is_file() and json.loads(marker.read_text()).get("corpus") == corpus:
            return folder / "chroma"
    raise SystemExit(
        f"no cached index of {corpus}: for SciFact run `rag bench retrieval --beir "
        "../shared/data/scifact --split train --strategies similarity` once first"
    )


def read_source(work: Path, corpus: str) -> dict[str, Any]:
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    copy = work / f"{corpus}-copy"
    if not copy.exists():
        shutil.copytree(cached_index(corpus), copy)
    client = chromadb.PersistentClient(str(copy), ChromaSettings(anonymized_telemetry=False))
    found = client.get_collection("documents").get(include=["documents", "metadatas", "embeddings"])
    return dict(found)


def build_store(
    where: Path, source: dict[str, Any], size: int, settings: Settings, embeddings: Embeddings
) -> None:
    """Write ``size`` chunks through the app's own store API (see the module docstring)."""
    import numpy as np

    if (where / "complete").is_file():
        return
    shutil.rmtree(where, ignore_errors=True)
    by_doc: dict[str, list[int]] = defaultdict(list)
    for i, meta in enumerate(source["metadatas"]):
        by_doc[str(meta["doc_id"])].append(i)
    for rows in by_doc.values():
        rows.sort(key=lambda i: int(source["metadatas"][i]["chunk"]))
    store = open_store(
        where / "chroma",
        settings.collection,
        embeddings,
        models.embedder_name(settings.embedding),
        SEARCH,
    )
    rng = np.random.default_rng(0)
    written = 0
    pending: list[tuple[DocumentRecord, list[Document], list[list[float]]]] = []

    def flush() -> None:
        store.begin(*(r for r, _, _ in pending))
        store.add([c for _, cs, _ in pending for c in cs], [v for _, _, vs in pending for v in vs])
        store.commit(*(r for r, _, _ in pending), previous={})
        pending.clear()

    for replica in range(REPLICAS):
        for doc_id, rows in by_doc.items():
            if written >= size:
                break
            rows = rows[: size - written]
            new_id = doc_id if replica == 0 else f"{doc_id[:12]}r{replica:03d}"
            name = str(source["metadatas"][rows[0]]["source"])
            vectors = np.array([source["embeddings"][i] for i in rows], dtype=np.float32)
            if replica:
                vectors = vectors + rng.normal(0, NOISE, vectors.shape).astype(np.float32)
                vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
            chunks = [
                Document(
                    id=chunk_id(new_id, n),
                    page_content=source["documents"][i],
                    metadata={
                        **source["metadatas"][i],
                        "doc_id": new_id,
                        "source": f"{name}#{replica}",
                    },
                )
                for n, i in enumerate(rows)
            ]
            record = DocumentRecord(
                doc_id=new_id,
                source=f"{name}#{replica}",
                sha256=new_id,
                size=0,
                pages=1,
                chunks=len(chunks),
                ingested_at="2026-01-01T00:00:00+00:00",
            )
            pending.append((record, chunks, vectors.tolist()))
            written += len(chunks)
            if sum(len(c) for _, c, _ in pending) >= 2000:
                flush()
    if pending:
        flush()
    store.keyword.close()
    (where / "complete").write_text(str(written))


def queries(n: int) -> list[str]:
    path = SHARED_DATA / "scifact" / "queries_train.jsonl"
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line)["text"] for line in handle][:n]


def measure(service: RagService, texts: list[str], rounds: int) -> dict[str, Any]:
    collection = service.store.chunks.collection
    embeddings = service.embeddings
    assert isinstance(embeddings, PrecomputedQueries)
    vectors = embeddings.vectors
    for strategy in STRATEGIES:  # warm-up: BM25 matrices, HNSW pages, caches
        for text in texts[:3]:
            service.retrieve(text, K, strategy)
    per_round: list[dict[str, dict[str, float]]] = []
    for r in range(rounds):
        samples: dict[str, list[float]] = defaultdict(list)
        order = list(range(len(texts)))
        random.Random(r).shuffle(order)
        for n, q in enumerate(order):
            text = texts[q]
            for strategy in STRATEGIES:
                app = lambda text=text, strategy=strategy: service.retrieve(text, K, strategy)
                raw = lambda text=text: collection.query(
                    query_embeddings=[vectors[text]],
                    n_results=K,
                    include=["documents", "metadatas", "distances"],
                )
                pair = [("app", app), ("raw", raw)] if n % 2 else [("raw", raw), ("app", app)]
                for side, run in pair:
                    seconds, _ = timed(run)
                    samples[f"{strategy}:{side}" if side == "app" else f"{strategy}:raw"].append(
                        seconds
                    )
            seconds, _ = timed(lambda: service.store.registry.ids("pending"))
            samples["pending_ids_read:app"].append(seconds)
        per_round.append({key: latency_summary(values) for key, values in samples.items()})
    return {"rounds": per_round}


def summarize(result: dict[str, Any]) -> list[dict[str, Any]]:
    rounds = result["rounds"]

    def med(key: str, stat: str) -> float:
        return round(statistics.median(r[key][stat] for r in rounds), 2)

    rows = []
    for strategy in STRATEGIES:
        app50, raw50 = med(f"{strategy}:app", "p50_ms"), med(f"{strategy}:raw", "p50_ms")
        app95, raw95 = med(f"{strategy}:app", "p95_ms"), med(f"{strategy}:raw", "p95_ms")
        rows.append(
            {
                "strategy": strategy,
                "app p50 ms": app50,
                "app p95 ms": app95,
                "raw p50 ms": raw50,
                "raw p95 ms": raw95,
                "p50 ratio": ratio(app50, raw50),
                "p95 ratio": ratio(app95, raw95),
            }
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--queries", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--stores", type=Path, default=Path(tempfile.gettempdir()) / "rag-bench-stores"
    )
    parser.add_argument("--label", default="", help="tag for the result file (before/after)")
    parser.add_argument(
        "--source",
        default="scifact-train",
        help="the cached corpus the stores are cut from (its name in complete.json)",
    )
    parser.add_argument("--quick", action="store_true", help="10k chunks, 20 queries, 2 rounds")
    args = parser.parse_args()
    if args.quick:
        args.sizes, args.queries, args.rounds = "10000", 20, 2
    sizes = [int(s) for s in args.sizes.split(",")]

    args.stores.mkdir(parents=True, exist_ok=True)
    base = load_settings(data_dir=args.stores / "unused")
    model = models.build_embeddings(base.embedding)
    texts = queries(args.queries)
    embed_s = [timed(partial(model.embed_query, t))[0] for t in texts]
    vectors = {t: model.embed_query(t) for t in texts}
    source: dict[str, Any] | None = None
    results: dict[str, Any] = {}
    for size in sizes:
        where = args.stores / f"{args.source}-{size}"
        if not (where / "complete").is_file():
            source = source or read_source(args.stores, args.source)
            seconds, _ = timed(partial(build_store, where, source, size, base, model))
            print(f"built {size} chunks in {seconds:.0f} s")
        service = RagService(
            load_settings(data_dir=where, embedding=base.embedding),
            embeddings=PrecomputedQueries(model, vectors),
        )
        chunks = service.store.chunks.count()
        result = measure(service, texts, args.rounds)
        result["chunks"] = chunks
        result["documents"] = len(service.store.registry.ids("ready"))
        result["table"] = summarize(result)
        results[str(size)] = result
        print(f"\n{chunks} chunks, {result['documents']} documents")
        print_table(result["table"])
        pend = statistics.median(r["pending_ids_read:app"]["p50_ms"] for r in result["rounds"])
        print(f"pending-ids registry read p50: {pend:.2f} ms")
    write_results(
        f"retrieval-latency{'-' + args.label if args.label else ''}",
        {
            "args": {**vars(args), "stores": str(args.stores)},
            "query_embedding": latency_summary(embed_s),
            "sizes": results,
        },
    )


if __name__ == "__main__":
    main()
