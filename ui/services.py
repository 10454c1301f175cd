"""The RagService of the chat and evaluation pages: one per settings, cached for all sessions,
so each model is loaded once per server process."""

from __future__ import annotations

import faulthandler
import signal

import streamlit as st

from rag_app.components import ModelPool, recorded_embedding
from rag_app.service import RagService
from rag_app.settings import EmbeddingSettings, LLMSettings, Settings, load_settings

# `kill -USR1 <pid of rag ui>` writes every thread's stack to the server's stderr (its log):
# what a stuck page waits on. A native crash (a segfault, an abort) writes them there too, so
# a rare one can be read afterwards. Set up once per process, when this module is imported.
faulthandler.enable(all_threads=True)
if hasattr(signal, "SIGUSR1"):  # not on Windows
    faulthandler.register(signal.SIGUSR1, all_threads=True)


@st.cache_resource(show_spinner=False)
def _pool() -> ModelPool:
    return ModelPool()


@st.cache_resource(show_spinner="Loading the embedding model…")
def _load_embeddings(config: str) -> None:
    _pool().embeddings(EmbeddingSettings.model_validate_json(config))


@st.cache_resource(show_spinner="Loading the chat model…")
def _load_chat_model(config: str) -> None:
    _pool().chat_model(LLMSettings.model_validate_json(config))


@st.cache_resource(show_spinner=False)
def _service(settings_json: str) -> RagService:
    settings = Settings.model_validate_json(settings_json)
    embedding = recorded_embedding(settings)  # the embedder this data dir was built with
    service = RagService(settings.model_copy(update={"embedding": embedding}), pool=_pool())
    # Loaded now, each with its spinner, rather than in the middle of the first answer; the
    # chat model only if the settings' answer mode and strategy call it (evidence alone never
    # does: then it loads when an answer first needs it, see ``load_chat_model``).
    _load_embeddings(embedding.model_dump_json())
    if service.needs_model():
        _load_chat_model(settings.llm.model_dump_json())
    return service


def load_chat_model(service: RagService, mode: str | None, strategy: str | None) -> None:
    """Before an answer: load the chat model, with its spinner, if this answer needs it and it
    is not loaded yet (answering would otherwise load it silently)."""
    if service.needs_model(mode, strategy) and not service.chat_model_loaded:
        _load_chat_model(service.settings.llm.model_dump_json())


def forget_chat_model() -> None:
    """Another chat model was chosen: services and the loaded model are dropped, so the next
    page run loads the new one (the embedder stays)."""
    _service.clear()
    _load_chat_model.clear()
    _pool().forget_chat_models()


def get_service() -> RagService:
    """One service per settings (and knowledge base: the session's choice), and one copy of
    each model per process, for all sessions."""
    settings = load_settings()
    chosen = st.session_state.get("knowledge_base_collection")  # ui.app.knowledge_base_choice
    if chosen:
        settings = settings.model_copy(update={"collection": chosen})
    return _service(settings.model_dump_json())
