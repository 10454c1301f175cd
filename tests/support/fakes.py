"""A fake chat model for fast unit tests: a real ``BaseChatModel`` with queued replies.

Like simonw/llm's mock model, it is an implementation of the seam, not a mock of internals: it is
passed in where the real ones are (``RagService(settings, chat_model=fake)``, ``Judge``,
``generate_qa``), answers ``invoke`` and ``stream``, and keeps the contract the real models pass in
tests/integration/test_chat_contract.py: a stop sequence ends the text before it, ``max_tokens``
bounds it (one token per streamed word here). Each call takes the next queued reply and is recorded
(messages, stop, temperature, max_tokens), so a test can assert what was asked. A call with no reply
left fails the test loudly, naming the prompt, instead of inventing text.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from pydantic import Field

from rag_app.service import RagService
from rag_app.settings import EmbeddingSettings, Settings
from tests.support.embeddings import BagOfWordsEmbeddings


@dataclass(frozen=True)
class Call:
    """One call of the fake: how it was made and with what."""

    method: str  # "invoke" or "stream"
    messages: list[BaseMessage]
    stop: list[str] | None
    kwargs: dict[str, Any] = field(default_factory=dict)  # temperature, max_tokens...

    @property
    def prompt(self) -> str:
        """Every message's text, one after the other."""
        return "\n".join(m.text for m in self.messages)


class QueueEmpty(AssertionError):
    """The code under test called the model more often than the test queued replies for."""


def tokens(text: str) -> list[str]:
    """The fake's tokens: each word with the whitespace before it (they join back to text)."""
    return re.findall(r"\s*\S+|\s+$", text)


class QueuedChatModel(BaseChatModel):
    """Replies, in order, one per call (``invoke`` or ``stream``); every call recorded."""

    replies: list[str] = Field(default_factory=list)
    calls: list[Call] = Field(default_factory=list)

    @property
    def _llm_type(self) -> str:
        return "queued-fake"

    def queue(self, *replies: str) -> QueuedChatModel:
        self.replies.extend(replies)
        return self

    def _next(
        self, method: str, messages: list[BaseMessage], stop: list[str] | None, kwargs: dict
    ) -> list[str]:
        call = Call(method, list(messages), stop, dict(kwargs))
        self.calls.append(call)
        if not self.replies:
            raise QueueEmpty(
                f"chat model called ({method}, call {len(self.calls)}) with no reply queued; "
                f"prompt: {call.prompt[-300:]!r}"
            )
        text = self.replies.pop(0)
        for sequence in stop or []:  # like llama.cpp: the text ends before the stop string
            text = text.split(sequence, 1)[0]
        return tokens(text)[: kwargs.get("max_tokens")]

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        text = "".join(self._next("invoke", messages, stop, kwargs))
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content=text))])

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        for piece in self._next("stream", messages, stop, kwargs):
            chunk = ChatGenerationChunk(message=AIMessageChunk(content=piece))
            if run_manager:
                run_manager.on_llm_new_token(piece, chunk=chunk)
            yield chunk


# The name a store built by ``BagOfWordsEmbeddings`` records: not a measured embedder, so the
# default calibration (cosines on MiniLM's scale, from 0) sets the relevance and evidence bars,
# which the bag of words' cosines share.
TEST_EMBEDDER = "tests:bag-of-words"


def service_with(
    settings: Settings, chat: BaseChatModel, documents: list[tuple[str, list[str]]]
) -> RagService:
    """A service on the fake embedder and ``chat``, with ``documents`` (name, pages) ingested:
    no model is loaded."""
    named = settings.model_copy(update={"embedding": EmbeddingSettings(model=TEST_EMBEDDER)})
    service = RagService(named, embeddings=BagOfWordsEmbeddings(), chat_model=chat)
    report = service.ingest_texts(documents)
    assert not report.failed and len(report.ingested) == len(documents)
    return service


class RecordingChatModel(BaseChatModel):
    """A real chat model, with the text of each reply it gave kept in ``replies``: a test on
    the real model can then assert what the code made of whatever the model said."""

    inner: BaseChatModel
    replies: list[str] = Field(default_factory=list)

    @property
    def _llm_type(self) -> str:
        return f"recording-{self.inner._llm_type}"

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        reply = self.inner.invoke(messages, stop=stop, **kwargs)
        self.replies.append(reply.text)
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content=reply.content))])


class NoChatModel(BaseChatModel):
    """A chat model that fails the test if anything calls it."""

    @property
    def _llm_type(self) -> str:
        return "must-not-be-called"

    def _generate(self, messages: list[BaseMessage], *args: Any, **kwargs: Any) -> ChatResult:
        raise AssertionError("the chat model was called")
