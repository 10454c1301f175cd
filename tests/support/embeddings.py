"""A real, tiny embedder for the fast tests (no model is loaded), and a wrapper that counts
what another embedder is given (tests and benchmarks that prove nothing is embedded twice)."""

from __future__ import annotations

import hashlib
import math
import re

from langchain_core.embeddings import Embeddings


class BagOfWordsEmbeddings(Embeddings):
    """A real, tiny embedder for unit tests: hashed word counts, L2-normalised (64 dims)."""

    dims = 64

    def _embed(self, text: str) -> list[float]:
        vector = [0.0] * self.dims
        for word in re.findall(r"\w+", text.lower()):
            vector[int(hashlib.md5(word.encode()).hexdigest(), 16) % self.dims] += 1.0
        norm = math.sqrt(sum(v * v for v in vector)) or 1.0
        return [v / norm for v in vector]

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return [self._embed(t) for t in texts]

    def embed_query(self, text: str) -> list[float]:
        return self._embed(text)


class Counting(Embeddings):
    """Another embedder, counting the passages it is given to embed."""

    def __init__(self, inner: Embeddings) -> None:
        self.inner, self.embedded = inner, 0

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        self.embedded += len(texts)
        return self.inner.embed_documents(texts)

    def embed_query(self, text: str) -> list[float]:
        return self.inner.embed_query(text)
