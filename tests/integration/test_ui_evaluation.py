"""The evaluation page through streamlit's AppTest, with the real models and a real store."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from rag_app.service import RagService
from rag_app.settings import load_settings

PAGE = str(Path(__file__).parents[2] / "ui" / "evaluation_page.py")
QA = [
    {"question": "Who founded the Lumora Observatory?", "answer": "Elena Vasquez",
     "source": "astronomy.pdf", "page": 2},
    {"question": "How heavy is the mirror?", "answer": "twelve tonnes",
     "source": "astronomy.pdf", "page": 3},
]  # fmt: skip


@pytest.mark.slow
def test_upload_run_and_see_worst_first(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, course_pdf: Path, real_models
) -> None:
    monkeypatch.setenv("RAG_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("RAG_LLM__MAX_TOKENS", "32")
    embeddings, chat = real_models
    RagService(load_settings(), embeddings=embeddings, chat_model=chat).ingest([course_pdf])

    at = AppTest.from_file(PAGE, default_timeout=300)
    at.run()
    assert not at.exception
    data = "".join(json.dumps(r) + "\n" for r in QA).encode()
    at.file_uploader(key="qa_upload").set_value(("qa.jsonl", data, "application/json")).run()
    assert "2 question(s) loaded." in [c.value for c in at.caption]
    at.multiselect(key="eval_strategies").set_value(["hybrid", "bm25"]).run()
    at.button(key="eval_run").click().run()
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]

    report = at.session_state["eval_report"]
    assert report["strategies"] == ["hybrid", "bm25"] and len(report["rows"]) == 4
    table = at.dataframe[1].value
    assert sorted(table["strategy"]) == ["bm25", "bm25", "hybrid", "hybrid"]  # 2 questions each
    overall = [v for v in table["overall"] if v == v]  # NaN-free
    assert overall == sorted(overall)  # worst first
    means = at.dataframe[0].value
    assert {"hybrid", "bm25", "method"} <= set(means.columns)
    assert means.loc["hit@k", "method"].startswith("expected source/page")

    # Answer modes side by side: one run per strategy and mode, evidence scored in each.
    at.multiselect(key="eval_strategies").set_value(["hybrid"]).run()
    at.multiselect(key="eval_modes").set_value(["evidence", "both"]).run()
    at.button(key="eval_run").click().run()
    assert not at.exception, at.exception
    report = at.session_state["eval_report"]
    assert report["strategies"] == ["hybrid/evidence", "hybrid/both"]
    assert report["modes"] == ["evidence", "both"]
    evidence = report["aggregate"]["hybrid/evidence"]
    assert evidence["evidence_hit"]["n"] == 2 and evidence["language_match"]["n"] == 0
    assert report["aggregate"]["hybrid/both"]["language_match"]["n"] >= 1


def test_malformed_upload_is_one_readable_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RAG_DATA_DIR", str(tmp_path / "data"))
    at = AppTest.from_file(PAGE, default_timeout=120)
    at.run()
    at.file_uploader(key="qa_upload").set_value(("qa.csv", b"question,page\nWho?,x\n", "text/csv"))
    at.run()
    assert not at.exception
    assert [e.value for e in at.error] == [
        "Error: qa.csv, line 2: 'page' must be a whole number, got 'x'; fix the row"
    ]
