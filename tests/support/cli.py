"""The installed `rag` command as a real process, and the one-line error it must give."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

RAG = shutil.which("rag") or str(Path(__file__).parents[2] / ".venv" / "bin" / "rag")


def rag(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [RAG, *args], capture_output=True, text=True, env=env, timeout=300, check=False
    )


def assert_one_line_error(result: subprocess.CompletedProcess[str], expected: str) -> None:
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert expected in lines[0]
