from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from langchain_core.embeddings import Embeddings

from rag_app.settings import Settings, load_settings
from tests.pdfs import COURSE_PAGES, SPANISH_PAGES, make_pdf
from tests.servers import llama_server


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


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in list(__import__("os").environ):
        if name.startswith("RAG_"):
            monkeypatch.delenv(name)
    # The default data dir (and the settings.toml `rag models use` writes there) is the
    # user's: tests must not read it.
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return load_settings(data_dir=tmp_path / "data")


@pytest.fixture
def course_pdf(tmp_path: Path) -> Path:
    return make_pdf(tmp_path / "pdfs" / "astronomy.pdf", COURSE_PAGES)


@pytest.fixture
def spanish_pdf(tmp_path: Path) -> Path:
    return make_pdf(tmp_path / "pdfs" / "biologia.pdf", SPANISH_PAGES)


@pytest.fixture(scope="session")
def real_models() -> tuple[Embeddings, object]:
    """The bundled embedder and GGUF chat model, loaded once for the whole session."""
    from rag_app.models import loading as models
    from rag_app.settings import EmbeddingSettings, LLMSettings

    embeddings = models.build_embeddings(EmbeddingSettings())
    chat = models.build_chat_model(LLMSettings(temperature=0.0))
    return embeddings, chat


@pytest.fixture(scope="session")
def llm_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real llama.cpp server on the bundled GGUF (key ``tests.servers.LLM_KEY``), started once
    for every module that talks to an endpoint; its base URL."""
    pytest.importorskip("llama_cpp.server.app", reason="needs llama-cpp-python[server]")
    with llama_server(tmp_path_factory.mktemp("llm-server")) as base_url:
        yield base_url


# -- two tiers: `make test-fast` runs what needs no model, server, browser or `rag` process ----
# Fixtures that load the real models or start processes; modules whose tests all do.
HEAVY_FIXTURES = {"real_models", "llm_endpoint", "app", "api", "env", "two_bases"}
HEAVY_MODULES = {
    "test_api", "test_chats", "test_chroma_server", "test_cli", "test_chat_contract",
    "test_security", "test_ui_browser", "test_ui_evaluation", "test_ocr", "test_multilingual",
}  # fmt: skip


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark ``slow`` every test that loads a model or starts a process, so the fast tier
    (`pytest -m "not slow"`) is the pure-logic one whatever each file remembered to mark."""
    for item in items:
        module = item.module.__name__.rsplit(".", 1)[-1] if item.module else ""
        if HEAVY_FIXTURES & set(getattr(item, "fixturenames", ())) or module in HEAVY_MODULES:
            item.add_marker(pytest.mark.slow)
