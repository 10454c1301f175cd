"""`rag docs check [--repair]` as a real process: its exit codes on a store broken on purpose.
The checks themselves: tests/unit/test_check.py."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from rag_app.service import RagService
from rag_app.settings import Settings
from tests.support.cli import RAG
from tests.support.shared import checked_service, stray_chunk


@pytest.fixture
def service(settings: Settings, course_pdf: Path, spanish_pdf: Path) -> RagService:
    return checked_service(settings, course_pdf, spanish_pdf)


chunk = stray_chunk


@pytest.mark.slow  # a `rag` process, the real model or the UI
def test_cli_check_exit_codes(service: RagService, tmp_path: Path) -> None:
    service.store.keyword.add([chunk("ghost0000000000", 0)])
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAG_")}
    env["RAG_DATA_DIR"] = str(service.settings.data_dir)

    def rag(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [RAG, "docs", "check", *args], env=env, capture_output=True, text=True, timeout=120
        )

    broken = rag()
    assert broken.returncode == 4, broken.stderr
    assert "problem: keyword index: 1 row(s) without a vector" in broken.stderr
    assert "NOT consistent" in broken.stdout
    fixed = rag("--repair", "--json")
    assert fixed.returncode == 0, fixed.stderr
    report = json.loads(fixed.stdout)
    assert report["problems"] == [] and report["documents"] == 2
    assert "rebuilt the keyword index from the vector store" in report["repaired"]
    assert rag().returncode == 0
