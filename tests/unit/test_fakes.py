"""The fake chat model the fast tests rely on keeps the contract the real ones pass
(tests/integration/test_chat_contract.py), records what it was asked, and fails loudly when a test
did not queue enough replies."""

from __future__ import annotations

import pytest
from langchain_core.messages import AIMessage, AIMessageChunk, HumanMessage, SystemMessage

from tests.support.fakes import QueuedChatModel, QueueEmpty, RecordingChatModel

REPLY = "1, 2, 3, 4, 5, 6"
MESSAGES = [SystemMessage("Be brief."), HumanMessage("Count to six.")]


def test_invoke_and_stream_give_the_queued_replies_in_order_and_record_each_call() -> None:
    chat = QueuedChatModel(replies=[REPLY, "seven eight"])
    reply = chat.invoke(MESSAGES, temperature=0.0, max_tokens=40, stop=["\n"])
    assert isinstance(reply, AIMessage) and reply.content == REPLY
    chunks = list(chat.stream(MESSAGES))
    assert all(isinstance(c, AIMessageChunk) for c in chunks)
    assert [c.text for c in chunks if c.text] == ["seven", " eight"]  # then LangChain's last, empty
    first, second = chat.calls
    assert (first.method, first.stop, first.kwargs) == (
        "invoke",
        ["\n"],
        {"temperature": 0.0, "max_tokens": 40},
    )
    assert first.messages == MESSAGES and first.prompt == "Be brief.\nCount to six."
    assert (second.method, second.stop, second.kwargs) == ("stream", None, {})
    assert chat.replies == []


@pytest.mark.parametrize("method", ["invoke", "stream"])
def test_stop_and_max_tokens_are_honoured(method: str) -> None:
    chat = QueuedChatModel(replies=[REPLY, REPLY])

    def text(**how: object) -> str:
        if method == "invoke":
            return chat.invoke("Count.", **how).text
        return "".join(c.text for c in chat.stream("Count.", **how))

    assert text(stop=["5", "</passage>"]) == "1, 2, 3, 4, "
    assert text(max_tokens=3) == "1, 2, 3,"


@pytest.mark.parametrize("method", ["invoke", "stream"])
def test_an_empty_queue_fails_the_test_naming_the_prompt(method: str) -> None:
    chat = QueuedChatModel()
    with pytest.raises(QueueEmpty, match=r"\(" + method + r", call 1\) .*Count to six"):
        if method == "invoke":
            chat.invoke(MESSAGES)
        else:
            list(chat.stream(MESSAGES))


def test_recording_passes_calls_through_and_keeps_the_replies() -> None:
    inner = QueuedChatModel(replies=["yes", "no"])
    recording = RecordingChatModel(inner=inner)
    assert recording.invoke(MESSAGES, temperature=0.0, max_tokens=24).content == "yes"
    assert recording.invoke(MESSAGES, stop=["\n"]).content == "no"
    assert recording.replies == ["yes", "no"]
    assert [(c.stop, c.kwargs) for c in inner.calls] == [
        (None, {"temperature": 0.0, "max_tokens": 24}),
        (["\n"], {}),
    ]
