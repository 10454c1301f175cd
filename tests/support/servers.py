"""Real server processes for tests: started on a free 127.0.0.1 port, waited for, stopped."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

__all__ = ["CHROMA", "LLM_KEY", "free_port", "llama_server", "running", "started"]

CHROMA = shutil.which("chroma") or str(Path(sys.executable).parent / "chroma")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextlib.contextmanager
def started(
    command: list[str],
    ready_url: str,
    log: Path,
    headers: dict[str, str] | None = None,
    timeout_s: float = 120,
    env: dict[str, str] | None = None,
) -> Iterator[subprocess.Popen[bytes]]:
    """Start ``command`` in its own process group, wait until ``ready_url`` answers 200, yield
    the process (a test that kills the server itself takes it); always stop the whole group at
    the end, so no server outlives the test."""
    with log.open("wb") as out:
        process = subprocess.Popen(
            command, stdout=out, stderr=subprocess.STDOUT, start_new_session=True, env=env
        )
    try:
        deadline = time.monotonic() + timeout_s
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"{command[0]} exited early: {log.read_text()[-2000:]}")
            try:
                ready = urllib.request.Request(ready_url, headers=headers or {})
                with urllib.request.urlopen(ready, timeout=2) as response:
                    if response.status == 200:
                        break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"{command[0]} not ready in {timeout_s}s: {log.read_text()}")
            time.sleep(0.3)
        yield process
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=15)


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
