"""Real server processes for tests: started on a free 127.0.0.1 port, waited for, stopped."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from pathlib import Path

from bench.lib import free_port, server_process

__all__ = ["LLM_KEY", "free_port", "llama_server", "running", "started"]
started = server_process  # a test that kills the server itself takes the process


@contextlib.contextmanager
def running(
    command: list[str],
    ready_url: str,
    log: Path,
    headers: dict[str, str] | None = None,
    timeout_s: float = 120,
    env: dict[str, str] | None = None,
) -> Iterator[str]:
    """Start ``command`` in its own process group, wait until ``ready_url`` answers 200, yield
    it; always stop the whole group at the end, so no server outlives the test."""
    with started(command, ready_url, log, headers, timeout_s, env):
        yield ready_url


LLM_KEY = "test-key-1234"  # the llama.cpp server checks it: the deployment's bearer token, tested


@contextlib.contextmanager
def llama_server(folder: Path, key: str = LLM_KEY) -> Iterator[str]:
    """llama-cpp-python's OpenAI-compatible server on the bundled GGUF, started the way
    docs/DEPLOYMENT.md says (`python -m rag_app.models.llm_server`, which adds the AMX workaround);
    yields its base URL (…/v1)."""
    from rag_app.models import loading as models

    port = free_port()
    command = [sys.executable, "-m", "rag_app.models.llm_server"]
    command += ["--model", str(models.bundled_gguf_path()), "--n_ctx", "4096"]
    command += ["--host", "127.0.0.1", "--port", str(port), "--api_key", key]
    base = f"http://127.0.0.1:{port}/v1"
    auth = {"Authorization": f"Bearer {key}"}
    with running(command, f"{base}/models", folder / "server.log", headers=auth):
        yield base
