"""The composition root: which components these settings call for, built in one place.

``rag_app.models.loading`` knows how to build a model; this module decides what to build for a
set of settings: the embedder a store was made with, where the store lives (a folder, or a
Chroma server), the chat model and the name reports give it, and the judge of `rag eval`. The
service, the UI, the API, the evaluation and the benchmark all build through here, and the API
and the UI share one ``ModelPool``: one copy of each model per process, however many knowledge
bases (services) use it.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from rag_app.models.loading import (
    BUNDLED_EMBEDDERS,
    LazyEmbeddings,
    build_chat_model,
    build_embeddings,
    default_embedder,
    embedder_name,
    gguf_location,
)
from rag_app.settings import EmbeddingSettings, LLMSettings, Settings

if TYPE_CHECKING:
    from langchain_core.embeddings import Embeddings
    from langchain_core.language_models import BaseChatModel

    from rag_app.retrieval.rerank import Reranker
    from vectorstore import ChromaServer
    from vectorstore.store import DocumentStore

M = TypeVar("M")  # a model
S = TypeVar("S", EmbeddingSettings, LLMSettings)  # the settings that build it

__all__ = [
    "ModelPool",
    "build_chat_model",
    "build_embeddings",
    "build_judge_model",
    "build_reranker",
    "chat_model_name",
    "open_document_store",
    "recorded_embedding",
    "store_location",
]


def store_location(settings: Settings) -> tuple[Path, ChromaServer | None]:
    """The store's local folder, and its Chroma server when one is configured (then only the
    keyword index is local: one folder per server)."""
    from vectorstore import ChromaServer

    remote = settings.vectorstore
    if not remote.host:
        return settings.data_dir / "chroma", None
    server = ChromaServer(remote.host, remote.port, remote.ssl, remote.token)
    return settings.data_dir / re.sub(
        r"[^\w.-]", "_", f"chroma-{remote.host}-{remote.port}"
    ), server


def recorded_embedding(settings: Settings) -> EmbeddingSettings:
    """The embedding settings to use. A named embedder is used as named. With none named, a
    store built by one of the bundled embedders keeps it (a data dir made before the default
    changed goes on working, and is not silently mixed with another embedder's vectors); a new
    store gets the default."""
    chosen = settings.embedding
    if chosen.model:
        return chosen
    from vectorstore import stored_embedder

    folder, server = store_location(settings)
    recorded = stored_embedder(folder, settings.collection, server)
    bundled = {name: model for model, name in BUNDLED_EMBEDDERS.items()}
    found = bundled.get((recorded or "").removesuffix(":int8"), default_embedder())
    return chosen.model_copy(update={"model": found})


def open_document_store(
    settings: Settings, embedding: EmbeddingSettings, embeddings: Callable[[], Embeddings]
) -> DocumentStore:
    """The store of ``settings.collection``; ``embeddings`` is called only when a text must be
    embedded (listing or deleting documents loads no model)."""
    from rag_app.text.language import SEARCH
    from vectorstore import open_store

    folder, server = store_location(settings)
    return open_store(
        folder,
        settings.collection,
        LazyEmbeddings(embeddings),
        embedder_name(embedding),
        SEARCH,
        server,
    )


def chat_model_name(llm: LLMSettings, model: BaseChatModel | None = None) -> str:
    """The chat model's name in reports: the GGUF file's, or, with an endpoint, the model it
    answers with (the built client knows it when the settings leave it to the server)."""
    if not llm.base_url:
        return gguf_location(llm).name
    built = str(getattr(model, "model_name", "") or "") if model is not None else ""
    return built or llm.model or llm.base_url


def build_judge_model(
    settings: Settings, chat_model: Callable[[], BaseChatModel]
) -> tuple[BaseChatModel, str]:
    """The judge of `rag eval` and its name. ``evaluation.judge_model_path`` names a GGUF run
    in this process (whatever answers the questions, an endpoint included); empty, the chat
    model judges (``chat_model`` gives it, loaded once)."""
    path, llm = settings.evaluation.judge_model_path, settings.llm
    if not path or (path == llm.model_path and not llm.base_url):
        model = chat_model()
        return model, chat_model_name(llm, model)
    local = llm.model_copy(update={"model_path": path, "base_url": "", "model": ""})
    return build_chat_model(local), gguf_location(local).name


def build_reranker(settings: Settings, chat_model: Callable[[], BaseChatModel]) -> Reranker | None:
    """The reranker ``retrieval.rerank`` names; None for none (nothing is re-ranked). ``llm``
    grades with the chat model (``chat_model`` gives it, loaded on first use); a model
    reranker is loaded once per process (``models.rerankers``)."""
    spec = settings.retrieval.rerank
    if spec == "none":
        return None
    if spec == "llm":
        from rag_app.retrieval.rerank import LlmReranker

        return LlmReranker(chat_model, f"llm:{chat_model_name(settings.llm)}")
    from rag_app.models.rerankers import load_reranker

    return load_reranker(spec, settings.llm.threads)


class ModelPool:
    """Models keyed by the settings that build them, each built on first use and then shared
    by every service given this pool (the API's and the UI's services, one per knowledge base).
    A service that never generates never asks for the chat model, so it is never loaded."""

    def __init__(self) -> None:
        self._lock = threading.Lock()  # one model loads at a time; the others wait for it
        self._embeddings: dict[str, Embeddings] = {}
        self._chat_models: dict[str, BaseChatModel] = {}

    def embeddings(self, settings: EmbeddingSettings) -> Embeddings:
        return self._built(self._embeddings, settings, build_embeddings)

    def chat_model(self, settings: LLMSettings) -> BaseChatModel:
        return self._built(self._chat_models, settings, build_chat_model)

    def _built(self, models: dict[str, M], settings: S, build: Callable[[S], M]) -> M:
        key = settings.model_dump_json()
        with self._lock:
            if key not in models:
                models[key] = build(settings)
            return models[key]

    def has_chat_model(self, settings: LLMSettings) -> bool:
        with self._lock:
            return settings.model_dump_json() in self._chat_models

    def forget_chat_models(self) -> None:
        """Drop the chat models (another was chosen): the next one asked for is loaded anew."""
        with self._lock:
            self._chat_models.clear()
