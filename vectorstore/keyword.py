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
tell their language, are stemmed both ways. Those rules are the app's (``rag_app.text``): the
index is given them as a ``Tokenizer`` and keeps no copy.

Each language's units (by their document's language) get a BM25 model of their own, so a
word's weight is counted among the pages of its language: in a collection of a few Spanish
notes beside many English papers, every Spanish word would otherwise look rare (its document
frequency counted against all pages) and the keyword match of a Spanish question would read
higher than in a Spanish-only collection, which the evidence confidence's bar cannot allow
(docs/EVALUATION.md). Scores are BM25 over log(1 + units in that language), the most a word
found in a single unit weighs, so the two languages' lists merge on one scale.
"""

from __future__ import annotations

import math
import sqlite3
import threading
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from langchain_core.documents import Document


class Tokenizer(Protocol):
    """The text rules the index stores and searches by (``rag_app.text.language.SEARCH``)."""

    def language(self, text: str) -> str:
        """'es' or 'en': the stemmer a chunk's words get, and the BM25 model it joins."""
        ...

    def tokens(self, text: str, language: str) -> list[str]:
        """A chunk's search tokens."""
        ...

    def query(self, text: str) -> list[str]:
        """A query's search tokens (its language is a guess: both stemmers)."""
        ...


@dataclass(frozen=True)
class _Part:
    """The BM25 model of one language's units (chunks or pages)."""

    model: Any  # bm25s.BM25
    owners: list[str]  # the document id of each unit
    chunks: list[list[str]]  # the chunk ids of each unit, in order (one for a chunk)

    def top(
        self, terms: Sequence[str], k: int, excluded: set[str], only: set[str] | None
    ) -> list[tuple[list[str], float]]:
        """(chunk ids, score over log(1 + units)) of the best k units whose owner is neither
        ``excluded`` nor, when ``only`` is given, outside it (masked before the top k)."""
        import numpy as np

        vocabulary = getattr(self.model, "vocab_dict", None) or {}
        known = [t for t in terms if t in vocabulary]
        if not self.owners or not known or k <= 0:
            return []
        mask = (
            np.fromiter(
                (o not in excluded and (only is None or o in only) for o in self.owners),
                dtype=np.float32,
                count=len(self.owners),
            )
            if excluded or only is not None
            else None
        )
        if mask is not None and not mask.any():
            return []
        found, scores = self.model.retrieve(
            [known], k=min(k, len(self.owners)), show_progress=False, weight_mask=mask, n_threads=1
        )
        scale = math.log1p(len(self.owners))
        return [
            (self.chunks[int(i)], float(s) / scale)
            for i, s in zip(found[0], scores[0], strict=True)
            if s > 0
        ]


@dataclass(frozen=True)
class _Built:
    """The in-memory BM25 models of one stored generation, over chunks or over pages: one
    per language."""

    generation: int
    parts: list[_Part]

    def top(
        self, terms: list[str], k: int, excluded: Sequence[str], only: Sequence[str] | None
    ) -> list[tuple[list[str], float]]:
        """The best k units of all languages, by score (``_Part.top``)."""
        banned, allowed = set(excluded), None if only is None else set(only)
        found = [hit for part in self.parts for hit in part.top(terms, k, banned, allowed)]
        return sorted(found, key=lambda hit: -hit[1])[:k]


def _bm25(corpus: list[list[str]]) -> Any:
    import bm25s

    model = bm25s.BM25()
    model.index(corpus, show_progress=False)
    return model


Row = tuple[str, str, str, int | None, str | None]  # id, doc_id, tokens, page, language


def _parts(rows: Sequence[Row], pages: bool) -> list[_Part]:
    """One BM25 model per language over the rows' chunks, or over their pages. A unit's
    language is its document's (what most of its chunks are in), so a chunk that reads like
    the other language (a table, a list of references) stays with its document."""
    votes: dict[str, Counter[str]] = {}
    for row in rows:
        votes.setdefault(row[1], Counter())[row[4] or ""] += 1
    language = {doc_id: count.most_common(1)[0][0] for doc_id, count in votes.items()}
    units: dict[Any, list[Row]] = {}
    for row in rows:
        units.setdefault((row[1], row[3] or 0) if pages else row[0], []).append(row)
    by_language: dict[str, list[list[Row]]] = {}
    for unit in units.values():
        by_language.setdefault(language[unit[0][1]], []).append(unit)
    return [
        _Part(
            _bm25([[t for row in unit for t in row[2].split()] for unit in group]),
            [unit[0][1] for unit in group],
            [[row[0] for row in unit] for unit in group],
        )
        for group in by_language.values()
    ]


class KeywordIndex:
    def __init__(self, path: Path, tokenizer: Tokenizer) -> None:
        self.path, self.tokenizer = path, tokenizer
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
            if "language" not in columns:  # from before per-language weights: NULL
                self._db.execute("ALTER TABLE chunks ADD COLUMN language TEXT")
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
        rows = []
        for c in chunks:
            language = self.tokenizer.language(c.page_content)
            tokens = " ".join(self.tokenizer.tokens(c.page_content, language))
            rows.append(
                (
                    str(c.id),
                    str(c.metadata["doc_id"]),
                    tokens,
                    int(c.metadata.get("page") or 0),
                    language,
                )
            )
        with self._lock, self._db:
            self._db.executemany(
                "INSERT OR REPLACE INTO chunks (id, doc_id, tokens, page, language) "
                "VALUES (?, ?, ?, ?, ?)",
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

    def outdated(self) -> str | None:
        """What rows written by an earlier version lack (the index needs a rebuild), or None."""
        for column, what in (("page", "page search"), ("language", "per-language weights")):
            if self._db.execute(f"SELECT 1 FROM chunks WHERE {column} IS NULL LIMIT 1").fetchone():
                return what
        return None

    def owners(self) -> dict[str, str]:
        """Every chunk id with the id of its document."""
        return dict(self._db.execute("SELECT id, doc_id FROM chunks").fetchall())

    def _generation(self) -> int:
        return int(self._db.execute("SELECT generation FROM meta").fetchone()[0])

    def _model(self, pages: bool = False) -> _Built:
        """The BM25 models over chunks, or over pages (all the chunks of a page as one text),
        built on first use after each change. The page models are built only when pages are
        searched (hybrid with a calibration that reads pages, the evidence confidence)."""
        with self._lock:
            generation = self._generation()
            built = self._built.get(pages)
            if built is None or built.generation != generation:
                rows = self._db.execute(
                    "SELECT id, doc_id, tokens, page, language FROM chunks"
                ).fetchall()
                built = _Built(generation, _parts(rows, pages))
                self._built[pages] = built
            return built

    def search(
        self,
        query: str,
        k: int,
        excluded: Sequence[str] = (),
        only: Sequence[str] | None = None,
    ) -> list[tuple[str, float]]:
        """(chunk id, score) of the best k chunks outside the documents ``excluded`` and, when
        ``only`` is given, inside those documents (masked before the top k). The score is
        BM25 over log(1 + chunks of that language)."""
        return [
            (chunks[0], score)
            for chunks, score in self._model().top(self.tokenizer.query(query), k, excluded, only)
        ]

    def search_pages(
        self,
        query: str,
        k: int,
        excluded: Sequence[str] = (),
        only: Sequence[str] | None = None,
    ) -> list[tuple[list[str], float]]:
        """The best k pages as (their chunk ids, the page's score); documents ``excluded``
        and ``only`` as in ``search``."""
        return self._model(pages=True).top(self.tokenizer.query(query), k, excluded, only)

    def page_match(
        self, query: str, excluded: Sequence[str] = (), only: Sequence[str] | None = None
    ) -> float:
        """How strongly the best page matches the query's words: its BM25 score over
        log(1 + pages of its language), the most a word found on a single page weighs, so the
        number means about the same in a small and a large collection, and in one language or
        two (0 when no page has a query word). The evidence confidence reads it: a question on
        a topic the documents lack matches only common words (``evidence.confidence``)."""
        found = self.search_pages(query, 1, excluded, only)
        return found[0][1] if found else 0.0

    def close(self) -> None:
        self._db.close()
