"""`rag` as a real process on a Chroma server that is not there: one line."""

from __future__ import annotations

import os
from pathlib import Path

from tests.support.cli import assert_one_line_error, rag
from tests.support.servers import free_port


def test_unreachable_server_is_one_line(tmp_path: Path) -> None:
    port = free_port()  # released: nothing listens there
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("RAG_")},
        "RAG_DATA_DIR": str(tmp_path / "data"),
        "RAG_VECTORSTORE__HOST": "127.0.0.1",
        "RAG_VECTORSTORE__PORT": str(port),
    }
    result = rag("docs", env=env)
    assert_one_line_error(result, f"Chroma server http://127.0.0.1:{port}: unreachable")
    assert "chroma run --path DIR" in result.stderr
