"""One report writer for `rag eval` and `rag bench retrieval`: names, JSON, renderers, errors."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from rag_app.errors import RagError
from rag_app.evaluation.report import write_files
from rag_app.evaluation.runner import aggregate
from rag_app.evaluation.schema import EvalRow, metric_mean

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


def test_aggregate_means_and_counts_share_one_dict() -> None:
    def row(strategy: str, scores: dict[str, float | None], calls: int) -> EvalRow:
        return {
            "strategy": strategy,
            "id": strategy + str(calls),
            "question": "q",
            "reference": None,
            "reference_contexts": [],
            "source": None,
            "page": None,
            "unanswerable": False,
            "keywords": [],
            "type": None,
            "response": "",
            "contexts": [],
            "scores": scores,
            "judge_calls": calls,
            "judge_unparseable": 1,
        }

    means = aggregate([row("a", {"mrr": 1.0, "f1": None}, 2), row("a", {"mrr": 0.5}, 3)])["a"]
    assert means == {
        "mrr": {"mean": 0.75, "n": 2},
        "f1": {"mean": None, "n": 0},
        "judge_calls": 5,
        "judge_unparseable": 2,
    }
    assert metric_mean(means, "mrr") == 0.75
    assert metric_mean(means, "f1") is None and metric_mean(means, "missing") is None
    assert metric_mean(means, "judge_calls") is None  # a count, not a metric
