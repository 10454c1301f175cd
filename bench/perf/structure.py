"""What reading a PDF's structure costs at ingest, against pypdf's plain text extraction.

On the course-notes PDFs (``../shared/data/course-notes``, 214 pages), each round reads every
file two ways, in turns:

- raw: ``pypdf.PdfReader(...).pages[i].extract_text()`` for every page, the library alone;
- app: ``ingest.loaders.load_pdf``: the same extraction with its text runs, the structure
  read from them (``ingest/layout.py``), the tables of ruled pages (``ingest/tables.py``,
  pdfplumber) and the text repairs.

and splits both into chunks as ingest does (800/120 characters): the plain text as a text
document, the app's with its section paths. Reading is a few per cent of ingest; embedding
the chunks is the rest, and it grows with their text. So the run also times the default
embedder on a sample of the app's chunks and estimates whole-ingest time both ways as
parse time + characters / embedding rate. Reported: parse seconds (median of rounds), chunks
and characters, the estimated ingest ratio app/raw.

    .venv/bin/python -m bench.perf.structure [--rounds 3] [--sample 64]
"""

from __future__ import annotations

import argparse
import io
import statistics
import time
from pathlib import Path
from typing import Any

from pypdf import PdfReader

from bench.lib import SHARED_DATA, machine, ratio, write_results
from ingest.loaders import load_pdf, text_document
from ingest.splitter import split_document
from rag_app import components
from rag_app.settings import load_settings

CHUNK, OVERLAP = 800, 120


def raw_pages(path: Path) -> list[str]:
    reader = PdfReader(io.BytesIO(path.read_bytes()))
    return [page.extract_text() or "" for page in reader.pages]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--sample", type=int, default=64, help="chunks embedded to time e5")
    parser.add_argument("--data", type=Path, default=SHARED_DATA / "course-notes")
    args = parser.parse_args()
    files = sorted(args.data.glob("*.pdf"))
    times: dict[str, list[float]] = {"raw": [], "app": []}
    for _ in range(args.rounds):
        for way in ("raw", "app") if len(times["raw"]) % 2 == 0 else ("app", "raw"):
            start = time.perf_counter()
            read: list[Any] = [raw_pages(f) if way == "raw" else load_pdf(f) for f in files]
            times[way].append(time.perf_counter() - start)
            if way == "raw":
                raw_docs = [
                    text_document(f.name, pages) for f, pages in zip(files, read, strict=True)
                ]
            else:
                app_docs = read
    chunks = {
        "raw": [c for d in raw_docs for c in split_document(d, CHUNK, OVERLAP)],
        "app": [c for d in app_docs for c in split_document(d, CHUNK, OVERLAP)],
    }
    chars = {way: sum(len(c.page_content) for c in found) for way, found in chunks.items()}
    embedder = components.build_embeddings(components.recorded_embedding(load_settings()))
    sample = [c.page_content for c in chunks["app"][: args.sample]]
    embedder.embed_documents(sample[:4])  # loaded and warm
    start = time.perf_counter()
    embedder.embed_documents(sample)
    rate = sum(map(len, sample)) / (time.perf_counter() - start)  # characters per second
    parse = {way: statistics.median(values) for way, values in times.items()}
    ingest = {way: parse[way] + chars[way] / rate for way in parse}
    result = {
        "files": [f.name for f in files],
        "pages": sum(d.page_count for d in app_docs),
        "parse_s": {way: round(v, 2) for way, v in parse.items()},
        "parse_ratio": ratio(parse["app"], parse["raw"]),
        "chunks": {way: len(found) for way, found in chunks.items()},
        "chars": chars,
        "embed_chars_per_s": round(rate),
        "estimated_ingest_s": {way: round(v, 1) for way, v in ingest.items()},
        "estimated_ingest_ratio": ratio(ingest["app"], ingest["raw"]),
        "machine": machine(),
    }
    for key in ("parse_s", "parse_ratio", "chunks", "chars", "estimated_ingest_s"):
        print(f"{key:22} {result[key]}")
    print(f"{'estimated_ingest_ratio':22} {result['estimated_ingest_ratio']}")
    write_results("structure", result)


if __name__ == "__main__":
    main()
