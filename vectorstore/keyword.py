"""BM25 keyword search over the same chunks as Chroma.

Tokens are stored in SQLite (plain text, no pickle) beside the Chroma data and changed in the
same operations as the chunks (see ``DocumentStore``); the BM25 matrices (``bm25s``) are built in
memory from them on first search and rebuilt when the stored generation changes.

Tokenization works for Spanish and English: words of two or more letters, lower-cased, without
the stopwords of either language, stemmed with the Snowball stemmer of the chunk's language, and
finally stripped of accents so "fotosíntesis" and "fotosintesis" meet. Queries, too short to
tell their language, are stemmed both ways.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from langchain_core.documents import Document

from rag_app.text import query_tokens, tokenize


class KeywordIndex:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False, timeout=60)
        with self._db:
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS chunks "
                "(id TEXT PRIMARY KEY, doc_id TEXT NOT NULL, tokens TEXT NOT NULL)"
            )
            self._db.execute("CREATE INDEX IF NOT EXISTS chunks_doc ON chunks(doc_id)")
            self._db.execute("CREATE TABLE IF NOT EXISTS meta (generation INTEGER NOT NULL)")
            if self._db.execute("SELECT COUNT(*) FROM meta").fetchone()[0] == 0:
                self._db.execute("INSERT INTO meta VALUES (0)")
            self._db.execute("CREATE TABLE IF NOT EXISTS registry_meta (version INTEGER NOT NULL)")
            if self._db.execute("SELECT COUNT(*) FROM registry_meta").fetchone()[0] == 0:
                self._db.execute("INSERT INTO registry_meta VALUES (0)")
        self._built: tuple[int, Any, list[str], list[str]] | None = None

    # -- writing --------------------------------------------------------------------------
    def add(self, chunks: Sequence[Document]) -> None:
        rows = [
            (str(c.id), str(c.metadata["doc_id"]), " ".join(tokenize(c.page_content)))
            for c in chunks
        ]
        with self._lock, self._db:
            self._db.executemany("INSERT OR REPLACE INTO chunks VALUES (?, ?, ?)", rows)
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

    def owners(self) -> dict[str, str]:
        """Every chunk id with the id of its document."""
        return dict(self._db.execute("SELECT id, doc_id FROM chunks").fetchall())

    def _generation(self) -> int:
        return int(self._db.execute("SELECT generation FROM meta").fetchone()[0])

    def _model(self) -> tuple[Any, list[str], list[str]]:
        import bm25s

        with self._lock:
            generation = self._generation()
            if self._built is None or self._built[0] != generation:
                rows = self._db.execute("SELECT id, doc_id, tokens FROM chunks").fetchall()
                model = bm25s.BM25()
                if rows:
                    model.index([r[2].split() for r in rows], show_progress=False)
                self._built = (generation, model, [r[0] for r in rows], [r[1] for r in rows])
            return self._built[1], self._built[2], self._built[3]

    def search(
        self,
        query: str,
        k: int,
        excluded: Sequence[str] = (),
        only: Sequence[str] | None = None,
    ) -> list[tuple[str, float]]:
        """(chunk id, BM25 score) of the best k chunks outside the documents ``excluded`` and,
        when ``only`` is given, inside those documents (masked before the top k)."""
        import numpy as np

        model, ids, owners = self._model()
        vocabulary = getattr(model, "vocab_dict", None) or {}
        terms = [t for t in query_tokens(query) if t in vocabulary]
        if not ids or not terms or k <= 0:
            return []
        banned, allowed = set(excluded), None if only is None else set(only)
        mask = (
            np.fromiter(
                (o not in banned and (allowed is None or o in allowed) for o in owners),
                dtype=np.float32,
                count=len(ids),
            )
            if banned or allowed is not None
            else None
        )
        if mask is not None and not mask.any():
            return []
        found, scores = model.retrieve(
            [terms], k=min(k, len(ids)), show_progress=False, weight_mask=mask, n_threads=1
        )
        return [(ids[int(i)], float(s)) for i, s in zip(found[0], scores[0], strict=True) if s > 0]

    def close(self) -> None:
        self._db.close()
