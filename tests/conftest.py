"""Fixtures every tier uses. The tier is the folder: tests/unit (pure logic: no model load, no
server, no browser, no `rag` process; `make test-fast`), tests/integration (the bundled models,
real Chroma, servers) and tests/e2e (the `rag` command as a process, the browser); the last two
mark their tests ``slow`` in their own conftest.py, so ``-m "not slow"`` still selects unit."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from langchain_core.embeddings import Embeddings

from rag_app.settings import Settings, load_settings
from tests.support.pdfs import COURSE_PAGES, SPANISH_PAGES, make_pdf
from tests.support.servers import llama_server

SLOW_TIERS = [Path(__file__).parent / tier for tier in ("integration", "e2e")]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The tier is the folder: tests/integration and tests/e2e are ``slow``, so
    ``-m "not slow"`` leaves them out (`make test-fast` runs tests/unit alone)."""
    for item in items:
        if any(tier in item.path.parents for tier in SLOW_TIERS):
            item.add_marker(pytest.mark.slow)


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in list(os.environ):
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


# -- heavy, and lazy: shared by tests/integration and tests/e2e, never requested by tests/unit ---
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
    """A real llama.cpp server on the bundled GGUF (key ``tests.support.servers.LLM_KEY``),
    started once for every module that talks to an endpoint; its base URL."""
    pytest.importorskip("llama_cpp.server.app", reason="needs llama-cpp-python[server]")
    with llama_server(tmp_path_factory.mktemp("llm-server")) as base_url:
        yield base_url
