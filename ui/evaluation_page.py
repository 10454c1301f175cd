"""Evaluation page: upload (or generate) a QA set, run it per strategy, see where it fails.

The same ``rag_app.evaluation.runner.evaluate`` as `rag eval`; this page only lays it out.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import streamlit as st

from rag_app.answering.answers import ANSWER_MODES
from rag_app.errors import RagError
from rag_app.evaluation import report as reports
from rag_app.evaluation.dataset import EvalSample, parse_qa, sample_from_row
from rag_app.evaluation.runner import evaluate, overall, worst_first
from rag_app.evaluation.schema import EvalReport, metric_mean
from rag_app.retrieval.strategies import STRATEGIES
from ui import widgets
from ui.i18n import t
from ui.services import get_service


def qa_set(language: str) -> tuple[list[EvalSample], str] | None:
    """The QA set to run: an upload, else one generated from the stored documents."""
    state = st.session_state
    upload = st.file_uploader(t("eval_upload", language), type=["jsonl", "json", "csv"],
                              key="qa_upload")  # fmt: skip
    if upload is not None:
        text = upload.getvalue().decode("utf-8-sig", errors="replace")
        return parse_qa(text, Path(upload.name)), upload.name
    left, right = st.columns([1, 2])
    n = left.number_input(t("eval_n", language), 1, 200, 5, key="generate_n")
    if right.button(t("eval_generate", language), key="generate"):
        from rag_app.evaluation.generate import generate_qa

        service = get_service()
        paths = [Path(d.path) for d in service.documents() if d.path and Path(d.path).is_file()]
        if not paths:
            raise RagError(t("eval_no_docs", language))
        with st.spinner(t("eval_generating", language)):
            rows, _ = generate_qa(paths, int(n), service.chat_model, service.chat_model_name)
        state.generated_qa = rows
    if state.get("generated_qa"):
        rows = state.generated_qa
        return [sample_from_row(r, f"gen{i}") for i, r in enumerate(rows, 1)], "generated"
    return None


def run(samples: list[EvalSample], name: str, language: str) -> None:
    service = get_service()
    default = service.settings.retrieval.strategy
    chosen = st.multiselect(t("eval_strategies", language), list(STRATEGIES), [default],
                            key="eval_strategies")  # fmt: skip
    modes = st.multiselect(t("eval_modes", language), list(ANSWER_MODES),
                           [service.settings.answer.mode], key="eval_modes")  # fmt: skip
    k = st.slider(t("k", language), 1, 10, service.settings.retrieval.k, key="eval_k")
    judge = st.checkbox(t("eval_judge", language), key="eval_judge")
    st.caption(t("eval_count", language, n=len(samples)))
    if not st.button(t("eval_run", language), key="eval_run", type="primary") or not chosen:
        return
    bar = st.progress(0.0, text=t("eval_running", language))
    total = len(samples) * len(chosen) * max(1, len(modes))
    finished: dict[str, int] = {}

    def progress(stage: str, done: int, count: int, strategy: str) -> None:
        finished[strategy] = done
        value = sum(finished.values()) / total if total else 1.0
        bar.progress(min(value, 1.0), text=f"{t('eval_running', language)} {strategy}")

    st.session_state.eval_report = evaluate(
        service, samples, qa_file=Path(name), strategies=chosen, k=k,
        judge="llm" if judge else "none", modes=modes or None, progress=progress,
    )  # fmt: skip
    bar.empty()


def show(report: EvalReport, language: str) -> None:
    names = reports.shown_metrics(report)
    quality = [n for n in names if n in reports.QUALITY]
    means = pd.DataFrame(
        {s: [metric_mean(m, n) for n in quality] for s, m in report["aggregate"].items()},
        index=quality,
    )
    st.subheader(t("eval_chart", language))
    st.bar_chart(means, stack=False)
    table = pd.DataFrame(
        {s: [metric_mean(m, n) for n in names] for s, m in report["aggregate"].items()},
        index=names,
    )
    table["method"] = [report["methods"].get(n, "") for n in names]
    st.dataframe(table, key="eval_means")
    st.subheader(t("eval_worst", language))
    rows = [
        {"strategy": r["strategy"], "id": r["id"], "question": r["question"],
         "overall": overall(r), "response": r["response"], "reference": r["reference"],
         **{n: r["scores"].get(n) for n in quality}}
        for r in worst_first(report["rows"])
    ]  # fmt: skip
    st.dataframe(pd.DataFrame(rows), key="eval_rows", hide_index=True)
    st.download_button(t("eval_download", language), reports.html(report),
                       file_name="evaluation.html", mime="text/html", key="eval_html")  # fmt: skip


def main() -> None:
    language = st.session_state.get("language", "en")
    st.title(t("eval_title", language))
    st.caption(t("eval_caption", language))
    try:
        loaded = qa_set(language)
        if loaded is not None:
            run(*loaded, language)
        if st.session_state.get("eval_report"):
            show(st.session_state.eval_report, language)
    except RagError as exc:
        widgets.report_error(t("error", language, message=str(exc)))


main()
