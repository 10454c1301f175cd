"""`rag ask --strategy` as a real process: an unknown strategy is one line."""

from pathlib import Path

import pytest


@pytest.mark.slow  # a `rag` process, the real model or the UI
def test_cli_strategy_option(tmp_path: Path) -> None:
    import os
    import subprocess

    from tests.support.cli import RAG

    env = {k: v for k, v in os.environ.items() if not k.startswith("RAG_")}
    env["RAG_DATA_DIR"] = str(tmp_path / "empty")
    result = subprocess.run(
        [RAG, "ask", "x?", "--strategy", "bogus"], capture_output=True, text=True, env=env
    )
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert result.stderr.startswith("error: strategy 'bogus': unknown; use one of similarity")
