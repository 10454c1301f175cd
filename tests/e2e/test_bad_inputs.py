"""`rag ingest` on a folder of awkward inputs, as a real process: exit code 3 and one `failed:`
line per bad file while the good go in. The loaders themselves: tests/unit/test_bad_inputs.py."""

from __future__ import annotations

from pathlib import Path

import pytest

from rag_app.service import RagService
from rag_app.settings import Settings
from tests.support import bad_pdfs
from tests.support.pdfs import COURSE_PAGES, make_pdf
from tests.support.shared import no_ocr_service

needs_dejavu = bad_pdfs.needs_dejavu


@pytest.fixture
def service(settings: Settings) -> RagService:
    return no_ocr_service(settings)


FAILING = bad_pdfs.FAILING


@needs_dejavu
@pytest.mark.slow
def test_cli_exit_codes_and_lines(tmp_path: Path) -> None:
    """`rag ingest`: 3 and one `failed:` line per bad file while the good go in; then 0."""
    import json
    import os
    import subprocess

    from tests.support.cli import RAG

    env = {k: v for k, v in os.environ.items() if not k.startswith("RAG_")}
    env.update(RAG_DATA_DIR=str(tmp_path / "data"), RAG_INGEST__OCR="false")
    folder = tmp_path / "inbox"
    for name, (make, _, _) in FAILING.items():
        make(folder / name)
    good = make_pdf(folder / "astronomy.pdf", COURSE_PAGES)
    bad_pdfs.scanned(folder / "mixed.pdf", ["Typed page one about comets.", ["Scanned page"]])

    def rag(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([RAG, *args], env=env, capture_output=True, text=True, timeout=300)

    first = rag("ingest", str(folder))
    assert first.returncode == 3, first.stderr
    assert "Traceback" not in first.stderr
    assert "Ingested 2 file(s)" in first.stdout and f"Failed: {len(FAILING)}." in first.stdout
    failed = [line for line in first.stderr.splitlines() if line.startswith("failed: ")]
    assert sorted(line.split(":")[1].strip() for line in failed) == sorted(FAILING)
    assert (
        "note: mixed.pdf: page(s) 2 have no text layer (scanned or blank) and were skipped; "
        "OCR is off: set RAG_INGEST__OCR=true to OCR them" in first.stderr
    )
    again = rag("ingest", str(good), "--json")
    assert again.returncode == 0 and json.loads(again.stdout)["unchanged"] == ["astronomy.pdf"]
    listed = json.loads(rag("docs", "--json").stdout)
    assert sorted(d["source"] for d in listed) == ["astronomy.pdf", "mixed.pdf"]
    assert rag("docs", "check").returncode == 0
