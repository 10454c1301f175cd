"""One report writer for `rag eval` and `rag bench retrieval`: names, JSON, renderers, errors."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from rag_app.errors import RagError
from rag_app.evaluation.report import write_files

WHEN = datetime(2026, 11, 30, 22, 20, 5, tzinfo=UTC)


def test_write_files_names_dumps_and_renders(tmp_path: Path) -> None:
    report = {"corpus": "tiny-test", "note": "ñandú"}
    paths = write_files(report, tmp_path / "new", "tiny-test", WHEN, {"md": lambda r: r["note"]})
    assert list(paths) == ["json", "md"]
    assert paths["json"] == tmp_path / "new" / "tiny-test-20261130T222005Z.json"
    assert paths["md"].name == "tiny-test-20261130T222005Z.md"
    text = paths["json"].read_text(encoding="utf-8")
    assert json.loads(text) == report and "ñandú" in text  # not escaped
    assert text == json.dumps(report, indent=2, ensure_ascii=False)
    assert paths["md"].read_text(encoding="utf-8") == "ñandú"
    # The evaluation's files keep their stamp without the Z.
    again = write_files(report, tmp_path, "eval", WHEN, {}, stamp="%Y%m%dT%H%M%S")
    assert again == {"json": tmp_path / "eval-20261130T222005.json"}


def test_write_files_unwritable_folder_is_one_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder", encoding="utf-8")
    with pytest.raises(RagError, match=r"report folder .*file: cannot be written .*; pass --out"):
        write_files({}, blocker, "x", WHEN, {})
