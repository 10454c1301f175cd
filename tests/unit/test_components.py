"""The composition root names and picks models as the settings say (no model is loaded here)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from rag_app import components
from rag_app.settings import LLMSettings, Settings


class Built:
    """Stands in for a built chat model: only its name is read."""

    def __init__(self, model_name: str) -> None:
        self.model_name = model_name


def gguf(tmp_path: Path, name: str) -> str:
    path = tmp_path / name
    path.write_bytes(b"GGUF")
    return str(path)


def test_the_chat_model_is_named_by_its_file_or_by_the_endpoint_model(tmp_path: Path) -> None:
    local = LLMSettings(model_path=gguf(tmp_path, "qwen2.5-1.5b-q4.gguf"))
    assert components.chat_model_name(local) == "qwen2.5-1.5b-q4.gguf"
    assert components.chat_model_name(LLMSettings()).endswith(".gguf")  # the bundled one
    remote = LLMSettings(base_url="http://127.0.0.1:9/v1")
    # What the endpoint answers with, when the settings leave the choice to it...
    assert components.chat_model_name(remote, Built("llama-3.2-3b")) == "llama-3.2-3b"  # type: ignore[arg-type]
    # ...else what the settings ask for, else the endpoint itself; never the bundled GGUF.
    named = remote.model_copy(update={"model": "mistral-7b"})
    assert components.chat_model_name(named) == "mistral-7b"
    assert components.chat_model_name(remote) == "http://127.0.0.1:9/v1"


@pytest.fixture
def built(monkeypatch: pytest.MonkeyPatch) -> list[LLMSettings]:
    """The settings every chat model is built from, in order."""
    made: list[LLMSettings] = []

    def build(llm: LLMSettings) -> Any:
        made.append(llm)
        return Built("judge")

    monkeypatch.setattr(components, "build_chat_model", build)
    return made


def test_the_judge_is_the_chat_model_unless_another_gguf_is_named(
    settings: Settings, built: list[LLMSettings], tmp_path: Path
) -> None:
    chat = Built("the-chat-model")
    remote = settings.model_copy(
        update={"llm": LLMSettings(base_url="http://127.0.0.1:9/v1", model="served")}
    )
    model, name = components.build_judge_model(remote, lambda: chat)  # type: ignore[arg-type,return-value]
    assert (model, name, built) == (chat, "the-chat-model", [])

    judge_file = gguf(tmp_path, "judge-7b.gguf")
    remote.evaluation.judge_model_path = judge_file
    _, name = components.build_judge_model(remote, lambda: pytest.fail("chat model loaded"))
    # The named GGUF judges in this process, although an endpoint answers the questions.
    assert name == "judge-7b.gguf"
    assert [(b.model_path, b.base_url, b.model) for b in built] == [(judge_file, "", "")]


def test_a_judge_file_that_is_the_chat_model_is_loaded_once(
    settings: Settings, built: list[LLMSettings], tmp_path: Path
) -> None:
    same = gguf(tmp_path, "shared.gguf")
    settings.llm.model_path = settings.evaluation.judge_model_path = same
    chat = Built("shared.gguf")
    model, name = components.build_judge_model(settings, lambda: chat)  # type: ignore[arg-type,return-value]
    assert (model, name, built) == (chat, "shared.gguf", [])
