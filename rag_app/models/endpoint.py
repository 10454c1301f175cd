"""A chat model on an OpenAI-compatible endpoint (llama.cpp server, vLLM) instead of in-process.

``langchain-openai`` does the HTTP, streaming and retries. We build on its ``BaseChatOpenAI``
rather than ``ChatOpenAI``: the latter renames ``max_tokens`` to ``max_completion_tokens``,
which OpenAI's own API wants but llama-cpp-python's server ignores (answers would run to the
context's end); ``max_tokens`` is what every OpenAI-compatible server honours. Errors from the
endpoint become one readable line (which URL, what to do).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import openai
from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.messages import BaseMessage
from langchain_core.outputs import ChatGenerationChunk, ChatResult
from langchain_openai.chat_models.base import BaseChatOpenAI
from pydantic import SecretStr

from rag_app.errors import RagError, first_line
from rag_app.settings import LLMSettings

# Same sampling as the in-process model (rag_app/llm.py), where the endpoint accepts it.
TOP_P = 0.95


def endpoint_error(base_url: str, exc: Exception) -> RagError:
    """One line for any failure of the endpoint: which URL, what went wrong, what to do."""
    if isinstance(exc, openai.APIConnectionError):  # also timeouts
        what = "timed out" if isinstance(exc, openai.APITimeoutError) else "unreachable"
        return RagError(
            f"LLM endpoint {base_url}: {what} ({exc}); start the server (see docs/DEPLOYMENT.md) "
            "or fix RAG_LLM__BASE_URL, or unset it to use the in-process model"
        )
    if isinstance(exc, openai.AuthenticationError | openai.PermissionDeniedError):
        return RagError(f"LLM endpoint {base_url}: refused the key; set RAG_LLM__API_KEY")
    status = getattr(exc, "status_code", None)
    detail = first_line(exc) or type(exc).__name__
    return RagError(
        f"LLM endpoint {base_url}: error {status or ''} ({detail}); check the server's log "
        "and RAG_LLM__MODEL"
    )


class EndpointChat(BaseChatOpenAI):
    """``BaseChatOpenAI`` whose failures are ``RagError`` lines, for the CLI and the UI."""

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        try:
            return super()._generate(messages, stop, run_manager, **kwargs)
        except openai.APIError as exc:
            raise endpoint_error(str(self.openai_api_base), exc) from None

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        empty = True
        try:
            for chunk in super()._stream(messages, stop, run_manager, **kwargs):
                empty = False
                yield chunk
        except openai.APIError as exc:
            raise endpoint_error(str(self.openai_api_base), exc) from None
        if empty:  # llama.cpp's server answers an over-long prompt with an empty stream
            raise RagError(
                f"LLM endpoint {self.openai_api_base}: answered with an empty stream (see the "
                "server's log; a prompt longer than its context window does this); ask with "
                "fewer passages (retrieval.k) or use a model with a larger context"
            )

    def served_models(self) -> list[str]:
        """What the endpoint serves (``GET /models``): a reachability check, and the default."""
        try:
            return [m.id for m in self.root_client.models.list()]
        except openai.APIError as exc:
            raise endpoint_error(str(self.openai_api_base), exc) from None


def build_endpoint_chat(settings: LLMSettings) -> EndpointChat:
    """Connects once (lists the served models), so a wrong URL fails before any question."""
    chat = EndpointChat(
        model=settings.model or "default",
        base_url=settings.base_url,
        # The client insists on a key; local servers ignore it.
        api_key=SecretStr(settings.api_key or "none"),
        temperature=settings.temperature,
        max_tokens=settings.max_tokens,
        top_p=TOP_P,
        seed=settings.seed,
        timeout=settings.timeout_s,
        max_retries=1,
        stream_usage=True,
    )
    served = chat.served_models()
    if not settings.model:
        if not served:
            raise RagError(
                f"LLM endpoint {settings.base_url}: serves no model; load one in the server"
            )
        chat.model_name = served[0]
    elif served and settings.model not in served:
        raise RagError(
            f"LLM endpoint {settings.base_url}: does not serve {settings.model!r} (it serves "
            f"{', '.join(served)}); set RAG_LLM__MODEL to one of them"
        )
    return chat
