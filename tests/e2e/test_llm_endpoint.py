"""`rag ask` on an OpenAI-compatible endpoint (the ``llm_endpoint`` fixture: a real
llama-cpp-python server on the bundled GGUF), as a real process: a cited answer, and one-line
errors for an unreachable endpoint or a wrong key."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.support.cli import assert_one_line_error, rag
from tests.support.servers import LLM_KEY, free_port
from tests.support.shared import astronomy_data_dir

QUESTION = "How wide is the mirror of the main telescope?"
KEY = LLM_KEY  # the server checks it: the deployment's bearer token, tested


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory, real_models: tuple) -> Path:
    """A store with the course PDF, ingested once with the real embedder."""
    return astronomy_data_dir(tmp_path_factory.mktemp("endpoint-data"), real_models[0])


def cli_env(data_dir: Path, url: str, key: str = KEY) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAG_")}
    return env | {"RAG_DATA_DIR": str(data_dir), "RAG_LLM__BASE_URL": url, "RAG_LLM__API_KEY": key}


def test_cli_ask_streams_a_cited_answer(llm_endpoint: str, data_dir: Path) -> None:
    result = rag("ask", QUESTION, env=cli_env(data_dir, llm_endpoint))
    assert result.returncode == 0, result.stderr
    answer, _, sources = result.stdout.partition("Sources (* = the answer draws on it):")
    assert answer.strip()
    assert "astronomy.pdf, page 3" in sources
    assert "*[" in sources  # at least one source marked as drawn on


def test_unreachable_endpoint_is_one_line(data_dir: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}/v1"  # released: nothing listens there
    result = rag("ask", QUESTION, env=cli_env(data_dir, url))
    assert_one_line_error(result, f"LLM endpoint {url}: unreachable")
    assert "RAG_LLM__BASE_URL" in result.stderr


def test_wrong_key_is_one_line(llm_endpoint: str, data_dir: Path) -> None:
    result = rag("ask", QUESTION, env=cli_env(data_dir, llm_endpoint, key="wrong"))
    assert_one_line_error(result, f"LLM endpoint {llm_endpoint}: refused the key")
