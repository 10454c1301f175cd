"""An OpenAI-compatible endpoint, what needs no server: its errors as one line, and the
launcher's arguments (`python -m rag_app.models.llm_server`). With a real server:
tests/integration/test_llm_endpoint.py and tests/e2e/test_llm_endpoint.py."""

from __future__ import annotations

import pytest


def test_server_errors_are_one_line() -> None:
    import httpx
    import openai

    from rag_app.models.endpoint import endpoint_error

    request = httpx.Request("POST", "http://llm:8080/v1/chat/completions")
    refused = openai.AuthenticationError(
        "bad key", response=httpx.Response(401, request=request), body=None
    )
    assert "refused the key; set RAG_LLM__API_KEY" in str(
        endpoint_error("http://llm:8080/v1", refused)
    )
    failed = openai.InternalServerError(
        "model crashed", response=httpx.Response(500, request=request), body=None
    )
    message = str(endpoint_error("http://llm:8080/v1", failed))
    assert "error 500 (model crashed)" in message and "\n" not in message


def test_the_launcher_keeps_the_callers_choice(monkeypatch: pytest.MonkeyPatch) -> None:
    from rag_app.models.llm_server import arguments

    monkeypatch.delenv("INTERRUPT_REQUESTS", raising=False)
    assert arguments(["--port", "8080"]) == ["--port", "8080", "--interrupt_requests", "false"]
    assert arguments(["--interrupt_requests", "true"]) == ["--interrupt_requests", "true"]
    assert arguments(["--interrupt_requests=true"]) == ["--interrupt_requests=true"]
    monkeypatch.setenv("INTERRUPT_REQUESTS", "true")
    assert arguments(["--port", "8080"]) == ["--port", "8080"]
