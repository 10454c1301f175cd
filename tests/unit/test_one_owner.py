"""Rules with one owner each: the model pool, the document JSON, the fallback names, the
calibration lookup, the LRU cache."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from rag_app import components
from rag_app.answering.fallback import CHECK_FALLBACKS, Fallback
from rag_app.api.app import create_app
from rag_app.cli import app as cli_app
from rag_app.lru import LruCache
from rag_app.models import loading
from rag_app.retrieval.calibration import E5_CALIBRATION, MINILM_CALIBRATION
from rag_app.service import RagService
from rag_app.settings import E5_SMALL, MINILM, EmbeddingSettings, LLMSettings, Settings
from tests.support.embeddings import BagOfWordsEmbeddings


class Built:
    """Counts what the pool builds, in place of loading real models."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.embedders: list[str] = []
        self.chat_models: list[str] = []
        monkeypatch.setattr(components, "build_embeddings", self._embeddings)
        monkeypatch.setattr(components, "build_chat_model", self._chat_model)

    def _embeddings(self, settings: EmbeddingSettings) -> BagOfWordsEmbeddings:
        self.embedders.append(settings.model)
        return BagOfWordsEmbeddings()

    def _chat_model(self, settings: LLMSettings) -> object:
        self.chat_models.append(settings.model_path)
        return object()


def test_a_pool_builds_each_model_once_for_every_service(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    built = Built(monkeypatch)
    pool = components.ModelPool()
    chosen = settings.model_copy(update={"embedding": EmbeddingSettings(model=E5_SMALL)})
    one = RagService(chosen, pool=pool)
    other = RagService(chosen.model_copy(update={"collection": "other"}), pool=pool)
    assert one.embeddings is other.embeddings
    assert built.embedders == [E5_SMALL] and built.chat_models == []  # never asked for
    assert one.chat_model is other.chat_model
    assert len(built.chat_models) == 1


def test_a_pool_keeps_a_model_per_settings_and_forgets_chat_models(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    built = Built(monkeypatch)
    pool = components.ModelPool()
    e5, minilm = EmbeddingSettings(model=E5_SMALL), EmbeddingSettings(model=MINILM)
    assert pool.embeddings(e5) is not pool.embeddings(minilm)
    assert pool.embeddings(e5) is pool.embeddings(EmbeddingSettings(model=E5_SMALL))
    first = pool.chat_model(LLMSettings())
    pool.forget_chat_models()
    assert pool.chat_model(LLMSettings()) is not first
    assert built.embedders == [E5_SMALL, MINILM] and len(built.chat_models) == 2


def test_the_cli_and_the_api_give_the_same_document_json(tmp_path: Path) -> None:
    data = tmp_path / "data"
    settings = Settings(data_dir=data)
    service = RagService(settings, embeddings=BagOfWordsEmbeddings())
    report = service.ingest_texts([("notes.md", ["Photosynthesis makes sugar from light."])])
    printed = CliRunner().invoke(cli_app, ["--data-dir", str(data), "docs", "--json"])
    assert printed.exit_code == 0, printed.output
    served = TestClient(create_app(settings)).get("/documents")
    assert served.status_code == 200
    expected = [{**report.ingested[0].to_dict(), "waiting_vectors": 0}]
    assert json.loads(printed.stdout) == served.json() == expected
    assert set(served.json()[0]) == {
        "source", "pages", "chunks", "ingested_at", "sha256", "size", "waiting_vectors"
    }  # fmt: skip


def test_fallbacks_are_their_names_in_json() -> None:
    assert json.dumps({"fallback": Fallback.UNCERTAIN}) == '{"fallback": "uncertain"}'
    assert Fallback.ABSTAINED == "abstained"
    assert Fallback.ABSTAINED not in CHECK_FALLBACKS  # no model text was replaced


@pytest.mark.parametrize("precision", ["float32", "int8"])
def test_every_bundled_embedder_has_its_measured_values(precision: str) -> None:
    assert loading.measured(EmbeddingSettings(model=E5_SMALL)) is E5_CALIBRATION
    minilm = EmbeddingSettings(model=MINILM, precision=precision)
    assert loading.measured(minilm) is MINILM_CALIBRATION
    assert set(loading.MEASURED) == set(loading.BUNDLED_EMBEDDERS)


def test_the_lru_cache_forgets_the_least_recently_used() -> None:
    cache: LruCache[str, int] = LruCache(2)
    cache.put("a", 1)
    cache.put("b", 2)
    assert cache.get("a") == 1  # "b" is now the oldest
    cache.put("c", 3)
    assert cache.get("b") is None and cache.get("a") == 1 and cache.get("c") == 3
    assert len(cache) == 2
    cache.clear()
    assert cache.get("a") is None


def test_describing_a_service_can_leave_its_chat_model_unloaded(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    built = Built(monkeypatch)
    service = RagService(settings, embeddings=BagOfWordsEmbeddings(), pool=components.ModelPool())
    info = service.describe(load_chat_model=False)
    assert built.chat_models == [] and not service.chat_model_loaded
    assert "not loaded yet" in info["gpu"] and info["gpu_offload_active"] is None
    assert info["chat_model"].endswith(".gguf")  # still named, from the settings
    _ = service.chat_model
    assert service.chat_model_loaded and len(built.chat_models) == 1
