"""Answers from an OpenAI-compatible endpoint: a real llama-cpp-python server on the bundled
GGUF (the ``llm_endpoint`` fixture: `python -m rag_app.models.llm_server`, which is
`llama_cpp.server` with the AMX workaround), instead of the in-process model. What the client
itself must do (invoke, stream, stop, max_tokens, errors) is asserted for it and the in-process
model alike in test_chat_contract.py."""

from __future__ import annotations

from pathlib import Path

import pytest

from rag_app.service import RagService
from rag_app.settings import load_settings
from tests.support.servers import LLM_KEY
from tests.support.shared import astronomy_data_dir

QUESTION = "How wide is the mirror of the main telescope?"
KEY = LLM_KEY  # the server checks it: the deployment's bearer token, tested


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory, real_models: tuple) -> Path:
    """A store with the course PDF, ingested once with the real embedder."""
    return astronomy_data_dir(tmp_path_factory.mktemp("endpoint-data"), real_models[0])


@pytest.mark.slow
def test_streamed_answer_through_endpoint(
    llm_endpoint: str, data_dir: Path, real_models: tuple
) -> None:
    llm = {"base_url": llm_endpoint, "api_key": KEY, "temperature": 0}
    settings = load_settings(data_dir=data_dir, llm=llm)
    service = RagService(settings, embeddings=real_models[0])
    assert service.chat_model.model_name.endswith(".gguf")  # the first model it serves

    stream = service.stream(QUESTION)
    pieces = list(stream)
    answer = stream.result
    assert answer is not None and len(pieces) > 1  # streamed, not one block
    assert answer.sources[0].source == "astronomy.pdf" and answer.sources[0].page == 3
    timings = answer.timings
    assert timings["tokens"] == len(pieces) and timings["tokens_per_s"] > 0
    assert 0 < timings["first_token_s"] <= timings["total_s"]

    info = service.describe()
    assert info["llm"] == f"endpoint {llm_endpoint}" and info["gpu_offload_active"] is None


def test_two_streams_at_once_both_finish(llm_endpoint: str) -> None:
    """Two app instances sharing the server ask at once: llama_cpp.server's default
    (interrupt_requests) cut the first stream off when the second arrived (its client saw the
    connection close mid-answer); rag_app.models.llm_server turns that off."""
    import threading
    import time

    from openai import OpenAI

    client = OpenAI(base_url=llm_endpoint, api_key=KEY, max_retries=0, timeout=300)
    finished: dict[int, str | None] = {}

    def ask(n: int) -> None:
        time.sleep(n * 1.0)  # the second arrives while the first streams
        parts = client.chat.completions.create(
            model="any", stream=True, max_tokens=48, temperature=0,
            messages=[{"role": "user", "content": "Tell a long story about a lighthouse."}],
        )  # fmt: skip
        finished[n] = [p.choices[0].finish_reason for p in parts if p.choices][-1]

    threads = [threading.Thread(target=ask, args=(n,)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert finished == {0: "length", 1: "length"}
