"""The chat-model contract: what the service, the strategies, the judge and `rag eval generate`
rely on from a chat model, asserted the same way for both real ones: the in-process llama.cpp
model (rag_app/llm.py) and the OpenAI-compatible endpoint client (rag_app/endpoint.py) on a real
llama.cpp server. A new chat model joins by adding one parameter to the ``chat`` fixture.

Each expectation is read from the model's own greedy text (``free``), so the tests hold for any
GGUF: a stop sequence cuts that text exactly where it occurs, ``max_tokens`` keeps a prefix of it.
Slow: real models (tests/integration/conftest.py marks the folder). The fake used by the fast
tests keeps the same contract (tests/unit/test_fakes.py).
"""

from __future__ import annotations

import operator
from functools import reduce
from typing import Any

import pytest
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, HumanMessage, SystemMessage

from rag_app.errors import RagError
from rag_app.models.endpoint import build_endpoint_chat
from rag_app.settings import LLMSettings
from tests.support.servers import LLM_KEY

# The service's shape of prompt: a system turn, then the user's.
COUNT = [
    SystemMessage("You are a helpful assistant."),
    HumanMessage("List the numbers from 1 to 10, one per line."),
]
FREE_TOKENS = 16  # enough for the list to pass "5" (the stop string below)
SEA = [HumanMessage("Write a short poem about the sea.")]
TOO_LONG = [HumanMessage("word " * 5000)]  # over the 4096-token context of both


@pytest.fixture(scope="module", params=["in-process", "endpoint"])
def chat(request: pytest.FixtureRequest) -> BaseChatModel:
    if request.param == "in-process":
        model: BaseChatModel = request.getfixturevalue("real_models")[1]
        return model
    url = request.getfixturevalue("llm_endpoint")
    return build_endpoint_chat(LLMSettings(base_url=url, api_key=LLM_KEY, temperature=0.0))


@pytest.fixture(scope="module")
def free(chat: BaseChatModel) -> str:
    """The model's greedy text for COUNT: what the other tests compare with."""
    text = chat.invoke(COUNT, temperature=0.0, max_tokens=FREE_TOKENS).text
    assert "5" in text, text  # the stop tests need it to reach the stop string
    return text


def generate(chat: BaseChatModel, method: str, messages: list, **how: Any) -> str:
    if method == "invoke":
        return chat.invoke(messages, **how).text
    return "".join(chunk.text for chunk in chat.stream(messages, **how))


def test_invoke_returns_an_ai_message_with_the_same_greedy_text_twice(
    chat: BaseChatModel, free: str
) -> None:
    reply = chat.invoke(COUNT, temperature=0.0, max_tokens=FREE_TOKENS)
    assert isinstance(reply, AIMessage)
    assert isinstance(reply.content, str) and reply.content.strip()
    assert reply.content == free  # temperature 0: the same text every time
    assert reply.usage_metadata is not None
    assert 0 < reply.usage_metadata["output_tokens"] <= FREE_TOKENS


def test_stream_yields_the_text_in_pieces(chat: BaseChatModel, free: str) -> None:
    chunks = list(chat.stream(COUNT, temperature=0.0, max_tokens=FREE_TOKENS))
    assert chunks and all(isinstance(c, AIMessageChunk) for c in chunks)
    pieces = [c.text for c in chunks if c.text]
    assert len(pieces) > 1  # streamed, not one block
    assert "".join(pieces) == free  # the same text as invoke


@pytest.mark.parametrize("method", ["invoke", "stream"])
def test_a_stop_sequence_ends_the_text_before_it(
    chat: BaseChatModel, free: str, method: str
) -> None:
    text = generate(
        chat, method, COUNT, temperature=0.0, max_tokens=FREE_TOKENS, stop=["5", "</passage>"]
    )
    assert "5" not in text
    assert text == free[: free.index("5")]  # cut there, not elsewhere


@pytest.mark.parametrize("method", ["invoke", "stream"])
def test_max_tokens_bounds_the_text(chat: BaseChatModel, free: str, method: str) -> None:
    if method == "invoke":
        reply = chat.invoke(COUNT, temperature=0.0, max_tokens=5)
        assert reply.usage_metadata is not None
        assert reply.usage_metadata["output_tokens"] == 5
        text, finish = reply.text, reply.response_metadata["finish_reason"]
    else:
        chunks = list(chat.stream(COUNT, temperature=0.0, max_tokens=5))
        assert 1 <= len([c for c in chunks if c.text]) <= 5
        merged = reduce(operator.add, chunks)
        text, finish = merged.text, merged.response_metadata["finish_reason"]
    assert finish == "length"
    assert text and len(text) < len(free) and free.startswith(text)


def test_a_seed_makes_sampled_text_repeatable(chat: BaseChatModel) -> None:
    """llm.seed: "so answers are repeatable", at the default temperature (0.1) too."""
    first, second = (chat.invoke(SEA, temperature=1.0, max_tokens=12).text for _ in range(2))
    assert first == second


@pytest.mark.parametrize("method", ["invoke", "stream"])
def test_a_prompt_over_the_context_window_is_a_one_line_rag_error(
    chat: BaseChatModel, method: str
) -> None:
    with pytest.raises(RagError) as failed:
        generate(chat, method, TOO_LONG, max_tokens=5)
    assert "\n" not in str(failed.value)
