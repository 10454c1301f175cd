"""BM25 keyword search over the same chunks as Chroma.

Tokens are stored in SQLite (plain text, no pickle) beside the Chroma data and changed in the
same operations as the chunks (see ``DocumentStore``); the BM25 matrices (``bm25s``) are built in
memory from them on first search and rebuilt when the stored generation changes.

Two indexes are built from the same tokens: one over chunks, and one over pages (all the chunks
of a page as one text; a section in formats without pages), the page one on the first page
search, so an embedder whose calibration never searches pages never builds it. A page-level
score finds the page whose words are spread over several chunks (a title in the first chunk,
the claim in the third), which chunk-level BM25 misses: docs/RETRIEVAL.md measures what it
adds to hybrid.

Tokenization works for Spanish and English: words of two or more letters, lower-cased, without
the stopwords of either language, stemmed with the Snowball stemmer of the chunk's language, and
finally stripped of accents so "fotosíntesis" and "fotosintesis" meet. Queries, too short to
tell their language, are stemmed both ways.
"""

from __future__ import annotations

import math
import sqlite3
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from langchain_core.documents import Document

from rag_app.text import query_tokens, tokenize


@dataclass(frozen=True)
class _Built:
    """The in-memory BM25 model of one stored generation, over chunks or over pages."""

    generation: int
    model: Any  # bm25s.BM25
    owners: list[str]  # the document id of each unit (a chunk or a page)
    chunks: list[list[str]]  # the chunk ids of each unit, in order (one for a chunk)


def _bm25(corpus: list[list[str]]) -> Any:
    import bm25s

    model = bm25s.BM25()
    if corpus:
        model.index(corpus, show_progress=False)
    return model


def _retrieve(
    model: Any, query: str, owners: Sequence[str], k: int, excluded: Sequence[str], only: Any
) -> list[tuple[int, float]]:
    """(position, score) of the best k units of a model whose owner is neither ``excluded``
    nor, when ``only`` is given, outside it (masked before the top k)."""
    import numpy as np

    vocabulary = getattr(model, "vocab_dict", None) or {}
    terms = [t for t in query_tokens(query) if t in vocabulary]
    if not owners or not terms or k <= 0:
        return []
    banned, allowed = set(excluded), None if only is None else set(only)
    mask = (
        np.fromiter(
            (o not in banned and (allowed is None or o in allowed) for o in owners),
            dtype=np.float32,
            count=len(owners),
        )
        if banned or allowed is not None
        else None
    )
    if mask is not None and not mask.any():
        return []
    found, scores = model.retrieve(
        [terms], k=min(k, len(owners)), show_progress=False, weight_mask=mask, n_threads=1
    )
    return [(int(i), float(s)) for i, s in zip(found[0], scores[0], strict=True) if s > 0]


class KeywordIndex:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False, timeout=60)
        with self._db:
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS chunks "
                "(id TEXT PRIMARY KEY, doc_id TEXT NOT NULL, tokens TEXT NOT NULL, page INTEGER)"
            )
            columns = {row[1] for row in self._db.execute("PRAGMA table_info(chunks)")}
            if "page" not in columns:  # an index from before page search: rows get NULL
                self._db.execute("ALTER TABLE chunks ADD COLUMN page INTEGER")
            self._db.execute("CREATE INDEX IF NOT EXISTS chunks_doc ON chunks(doc_id)")
            self._db.execute("CREATE TABLE IF NOT EXISTS meta (generation INTEGER NOT NULL)")
            if self._db.execute("SELECT COUNT(*) FROM meta").fetchone()[0] == 0:
                self._db.execute("INSERT INTO meta VALUES (0)")
            self._db.execute("CREATE TABLE IF NOT EXISTS registry_meta (version INTEGER NOT NULL)")
            if self._db.execute("SELECT COUNT(*) FROM registry_meta").fetchone()[0] == 0:
                self._db.execute("INSERT INTO registry_meta VALUES (0)")
        self._built: dict[bool, _Built] = {}  # by whether it is over pages

    # -- writing --------------------------------------------------------------------------
    def add(self, chunks: Sequence[Document]) -> None:
        rows = [
            (
                str(c.id),
                str(c.metadata["doc_id"]),
                " ".join(tokenize(c.page_content)),
                int(c.metadata.get("page") or 0),
            )
            for c in chunks
        ]
        with self._lock, self._db:
            self._db.executemany(
                "INSERT OR REPLACE INTO chunks (id, doc_id, tokens, page) VALUES (?, ?, ?, ?)",
                rows,
            )
            self._db.execute("UPDATE meta SET generation = generation + 1")

    def delete_document(self, doc_id: str) -> None:
        with self._lock, self._db:
            self._db.execute("DELETE FROM chunks WHERE doc_id = ?", (doc_id,))
            self._db.execute("UPDATE meta SET generation = generation + 1")

    def replace_all(self, chunks: Iterable[Document]) -> None:
        """Rebuild from scratch (the index was missing or out of step with Chroma)."""
        with self._lock, self._db:
            self._db.execute("DELETE FROM chunks")
        batch: list[Document] = []
        for chunk in chunks:
            batch.append(chunk)
            if len(batch) == 1000:
                self.add(batch)
                batch = []
        self.add(batch)

    # -- the store's change counter ---------------------------------------------------------
    def registry_version(self) -> int:
        """A counter bumped after every change to the document registry, by any process.

        Reading the registry from Chroma costs as much as a query (about 10 ms at 30k
        documents); this local SQLite read costs microseconds, so the store re-reads the
        registry only when the counter moved (docs/BENCHMARKS.md).
        """
        return int(self._db.execute("SELECT version FROM registry_meta").fetchone()[0])

    def bump_registry_version(self) -> None:
        with self._lock, self._db:
            self._db.execute("UPDATE registry_meta SET version = version + 1")

    # -- reading --------------------------------------------------------------------------
    def count(self) -> int:
        return int(self._db.execute("SELECT COUNT(*) FROM chunks").fetchone()[0])

    def lacks_pages(self) -> bool:
        """Rows written before page search (no page number): the index needs a rebuild."""
        return bool(self._db.execute("SELECT 1 FROM chunks WHERE page IS NULL LIMIT 1").fetchone())

    def owners(self) -> dict[str, str]:
        """Every chunk id with the id of its document."""
        return dict(self._db.execute("SELECT id, doc_id FROM chunks").fetchall())

    def _generation(self) -> int:
        return int(self._db.execute("SELECT generation FROM meta").fetchone()[0])

    def _model(self, pages: bool = False) -> _Built:
        """The BM25 model over chunks, or over pages (all the chunks of a page as one text),
        built on first use after each change. The page model is built only when pages are
        searched (hybrid with a calibration that reads pages, the evidence confidence)."""
        with self._lock:
            generation = self._generation()
            built = self._built.get(pages)
            if built is None or built.generation != generation:
                rows = self._db.execute("SELECT id, doc_id, tokens, page FROM chunks").fetchall()
                units: dict[Any, list[tuple[str, str, str, int | None]]] = {}
                for row in rows:
                    units.setdefault((row[1], row[3] or 0) if pages else row[0], []).append(row)
                built = _Built(
                    generation,
                    _bm25([[t for row in unit for t in row[2].split()] for unit in units.values()]),
                    [unit[0][1] for unit in units.values()],
                    [[row[0] for row in unit] for unit in units.values()],
                )
                self._built[pages] = built
            return built

    def search(
        self,
        query: str,
        k: int,
        excluded: Sequence[str] = (),
        only: Sequence[str] | None = None,
    ) -> list[tuple[str, float]]:
        """(chunk id, BM25 score) of the best k chunks outside the documents ``excluded`` and,
        when ``only`` is given, inside those documents (masked before the top k)."""
        built = self._model()
        found = _retrieve(built.model, query, built.owners, k, excluded, only)
        return [(built.chunks[i][0], score) for i, score in found]

    def search_pages(
        self,
        query: str,
        k: int,
        excluded: Sequence[str] = (),
        only: Sequence[str] | None = None,
    ) -> list[tuple[list[str], float]]:
        """The best k pages as (their chunk ids, the page's BM25 score); documents ``excluded``
        and ``only`` as in ``search``."""
        built = self._model(pages=True)
        found = _retrieve(built.model, query, built.owners, k, excluded, only)
        return [(built.chunks[i], score) for i, score in found]

    def page_match(
        self, query: str, excluded: Sequence[str] = (), only: Sequence[str] | None = None
    ) -> float:
        """How strongly the best page matches the query's words: its BM25 score over
        log(1 + pages), the most a word found on a single page weighs, so the number means
        about the same in a small and a large collection (0 when no page has a query word).
        The evidence confidence reads it: a question on a topic the documents lack matches
        only common words (``evidence.confidence``)."""
        built = self._model(pages=True)
        found = _retrieve(built.model, query, built.owners, 1, excluded, only)
        return found[0][1] / math.log1p(len(built.owners)) if found else 0.0

    def close(self) -> None:
        self._db.close()
