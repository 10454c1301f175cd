"""The int8 embedder lever (``embedding.precision``): vectors close to the float32 ones on the
real bundled embedder (retrieval quality measured in docs/BENCHMARKS.md)."""

from __future__ import annotations

import math

import pytest

from rag_app.models import loading as models
from rag_app.settings import EmbeddingSettings

MINILM = EmbeddingSettings(model=models.MINILM)


@pytest.mark.slow
def test_int8_vectors_stay_close_to_float32() -> None:
    float32 = models.build_embeddings(MINILM)
    int8 = models.build_embeddings(EmbeddingSettings(model=models.MINILM, precision="int8"))
    texts = [
        "The Lumora Observatory was founded in 1887 by the astronomer Elena Vasquez.",
        "La fotosíntesis ocurre en los cloroplastos de las plantas.",
    ]
    for a, b in zip(float32.embed_documents(texts), int8.embed_documents(texts), strict=True):
        cosine = sum(x * y for x, y in zip(a, b, strict=True))
        assert 0.9 < cosine < 0.99999  # close (0.93 seen on Spanish), and really quantized
        assert math.isclose(sum(x * x for x in b), 1.0, rel_tol=1e-3)  # still normalised
