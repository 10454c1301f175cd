"""The RagService of the chat and evaluation pages: one per settings, cached for all sessions,
so each model is loaded once per server process."""

from __future__ import annotations

import faulthandler
import signal

import streamlit as st
from langchain_core.embeddings import Embeddings
from langchain_core.language_models import BaseChatModel

from rag_app.components import build_chat_model, build_embeddings, recorded_embedding
from rag_app.service import RagService
from rag_app.settings import EmbeddingSettings, LLMSettings, Settings, load_settings

# `kill -USR1 <pid of rag ui>` writes every thread's stack to the server's stderr (its log):
# what a stuck page waits on. Registered once per process, when this module is first imported.
if hasattr(signal, "SIGUSR1"):  # not on Windows
    faulthandler.register(signal.SIGUSR1, all_threads=True)


@st.cache_resource(show_spinner="Loading the embedding model…")
def _embeddings(config: str) -> Embeddings:
    return build_embeddings(EmbeddingSettings.model_validate_json(config))


@st.cache_resource(show_spinner="Loading the chat model…")
def _chat_model(config: str) -> BaseChatModel:
    return build_chat_model(LLMSettings.model_validate_json(config))


@st.cache_resource(show_spinner=False)
def _service(settings_json: str) -> RagService:
    settings = Settings.model_validate_json(settings_json)
    embedding = recorded_embedding(settings)  # the embedder this data dir was built with
    return RagService(
        settings.model_copy(update={"embedding": embedding}),
        embeddings=_embeddings(embedding.model_dump_json()),
        chat_model=_chat_model(settings.llm.model_dump_json()),
    )


def get_service() -> RagService:
    """One service per settings (and knowledge base: the session's choice), and one copy of
    each model per process, for all sessions."""
    settings = load_settings()
    chosen = st.session_state.get("knowledge_base_collection")  # ui.app.knowledge_base_choice
    if chosen:
        settings = settings.model_copy(update={"collection": chosen})
    return _service(settings.model_dump_json())
