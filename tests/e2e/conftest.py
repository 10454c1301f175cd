"""tests/e2e: every test here is ``slow`` (tests/conftest.py marks them by folder).
Fixtures only this tier uses."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """The environment of a `rag` process: no RAG_ variable of the caller's, its own data dir."""
    import os

    clean = {k: v for k, v in os.environ.items() if not k.startswith("RAG_")}
    return {**clean, "RAG_DATA_DIR": str(tmp_path / "data"), "RAG_LLM__TEMPERATURE": "0"}
