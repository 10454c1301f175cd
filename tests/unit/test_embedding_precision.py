"""The int8 embedder lever (``embedding.precision``): a distinct store name and CPU only. Its
vectors against the float32 ones: tests/integration/test_embedding_precision.py."""

from __future__ import annotations

import pytest

from rag_app.errors import RagError
from rag_app.models import loading as models
from rag_app.settings import EmbeddingSettings

MINILM = EmbeddingSettings(model=models.MINILM)


def test_int8_store_records_its_own_embedder_name() -> None:
    assert models.embedder_name(MINILM) == "bundled:all-MiniLM-L6-v2"
    int8 = EmbeddingSettings(model=models.MINILM, precision="int8")
    assert models.embedder_name(int8) == "bundled:all-MiniLM-L6-v2:int8"
    with pytest.raises(ValueError):
        EmbeddingSettings(precision="int4")  # type: ignore[arg-type]


def test_int8_refuses_a_gpu_device_in_one_line() -> None:
    with pytest.raises(RagError, match="CPU only"):
        models.build_embeddings(
            EmbeddingSettings(model=models.MINILM, precision="int8", device="cuda")
        )
