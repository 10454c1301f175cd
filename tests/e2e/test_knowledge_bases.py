"""Knowledge bases through the `rag kb` commands, as real processes."""

from __future__ import annotations

import json
from pathlib import Path

from tests.support.cli import assert_one_line_error, rag
from tests.support.pdfs import COURSE_PAGES, make_pdf


def test_knowledge_bases_from_the_command_line(
    env: dict[str, str],
    tmp_path: Path,
) -> None:
    course = make_pdf(tmp_path / "in" / "astronomy.pdf", COURSE_PAGES)
    assert rag("kb", "create", "Astronomía", env=env).returncode == 0
    ingested = rag("--kb", "astronomía", "ingest", str(course), env=env)
    assert ingested.returncode == 0, ingested.stderr

    listed = json.loads(rag("kb", "list", "--json", env=env).stdout)
    unlinked = {"folder": None, "last_sync": None}  # neither follows a folder (`rag kb link`)
    assert listed == [
        {"name": "default", "documents": 0, "chunks": 0, **unlinked},
        {"name": "Astronomía", "documents": 1, "chunks": listed[1]["chunks"], **unlinked},
    ]
    assert json.loads(rag("docs", "--json", env=env).stdout) == []  # default: untouched

    assert rag("kb", "rename", "Astronomía", "Astro 101", env=env).returncode == 0
    asked = rag(
        "--kb", "Astro 101", "ask", "Who founded the Lumora Observatory?", "--mode", "evidence",
        "--json", env=env,
    )  # fmt: skip
    assert asked.returncode == 0, asked.stderr
    assert json.loads(asked.stdout)["evidence"][0]["source"] == "astronomy.pdf"

    assert_one_line_error(rag("--kb", "Nope", "docs", env=env), "knowledge base 'Nope': not found")
    refused = rag(
        "kb",
        "delete",
        "Astro 101",
        env={**env},
    )  # no --yes, no terminal: refused
    assert refused.returncode == 1 and "Nothing deleted" in refused.stderr
    deleted = rag("kb", "delete", "Astro 101", "--yes", env=env)
    assert deleted.returncode == 0 and "Deleted knowledge base 'Astro 101'" in deleted.stdout
    assert [kb["name"] for kb in json.loads(rag("kb", "list", "--json", env=env).stdout)] == [
        "default"
    ]
