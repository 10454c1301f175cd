"""Rendering pieces of the UI. Text from documents and from the model is always escaped:
Streamlit renders Markdown, so a passage or an answer could otherwise inject links or markup."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from typing import Any

import streamlit as st

from rag_app.injection import describe
from rag_app.prompts import highlight_spans
from ui.i18n import t

_MARKDOWN_SPECIALS = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:=])")


def escape_md(text: str) -> str:
    """Show text literally in st.markdown (no HTML is ever allowed there either)."""
    return _MARKDOWN_SPECIALS.sub(r"\\\1", text)


def escaped_stream(tokens: Iterator[str]) -> Iterator[str]:
    for token in tokens:
        yield escape_md(token)


def highlighted(question: str, passage: str) -> str:
    pieces = []
    for text, hit in highlight_spans(question, passage):
        safe = escape_md(text)
        pieces.append(f":orange-background[**{safe}**]" if hit else safe)
    return "".join(pieces)


@st.cache_data(max_entries=64, show_spinner=False)
def page_png(_service: Any, source: str, page: int, doc_id: str) -> bytes | None:
    """Rendered once per (document version, page); doc_id keys the cache."""
    image = _service.page_image(source, page)
    if image is None:
        return None
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def source_label(source: dict[str, Any], cited: bool, language: str) -> str:
    """'[n] file, page p · score s', with ✱ when the answer draws on it and ⚠ when flagged."""
    mark = " ✱" if cited else ""
    warn = " ⚠" if source.get("flags") else ""
    return (
        f"\\[{source['number']}\\] {escape_md(source['source'])}, {t('page', language)} "
        f"{source['page']} · {t('score', language)} {source['score']:.2f}{mark}{warn}"
    )


def render_sources(service: Any, answer: dict[str, Any], turn: int, language: str) -> None:
    sources = answer.get("sources") or []
    if not sources:
        return
    cited = set(answer.get("cited") or [])
    doc_ids = {d.source: d.doc_id for d in service.documents()}
    st.markdown(f"**{t('sources', language)}**")
    for source in sources:
        n = source["number"]
        label = source_label(source, n in cited, language)
        with (
            st.container(key=f"source-{turn}-{n}"),
            st.expander(label, expanded=False),
        ):
            if n in cited:
                st.caption(f"✱ {t('draws_on', language)}")
            if source.get("flags"):
                st.warning(describe(list(source["flags"]), language), icon="⚠️")
            st.markdown(highlighted(answer["question"], source["text"]))
            png = page_png(
                service, source["source"], source["page"], doc_ids.get(source["source"], "")
            )
            if png:
                st.image(
                    png, caption=f"{source['source']} · {t('page', language)} {source['page']}"
                )


def render_timings(answer: dict[str, Any], language: str) -> None:
    timings = answer.get("timings") or {}
    if timings.get("tokens", 0) > 1:
        st.caption(
            t(
                "timings",
                language,
                first=timings.get("first_token_s", 0.0),
                total=timings.get("total_s", 0.0),
                tps=timings.get("tokens_per_s", 0.0),
            )
        )


def render_trace(answer: dict[str, Any], language: str) -> None:
    """What was searched and every candidate's score, used or not: on demand, folded."""
    trace = answer.get("trace") or {}
    if not trace.get("candidates"):
        return
    with st.expander(t("trace", language)):
        st.caption(
            f"strategy: {trace.get('strategy')} · k={trace.get('k')} · "
            f"threshold={trace.get('relevance_threshold')} · margin={trace.get('relevance_margin')}"
        )
        if trace.get("standalone_question") not in (None, trace.get("question")):
            st.caption(f"standalone question: {escape_md(trace['standalone_question'])}")
        for query in trace.get("queries", []):
            st.caption(f"query: {escape_md(query)}")
        if trace.get("hypothetical"):
            st.caption(f"hypothetical passage: {escape_md(trace['hypothetical'])}")
        rows = [
            {
                "rank": c["rank"],
                "source": c["source"],
                "page": c["page"],
                "cosine": c["score"],
                "used": c.get("used", False),
                **{
                    f"{name} rank/score": f"{r['rank']} / {r['score']}"
                    for name, r in c.get("retrievers", {}).items()
                },
            }
            for c in trace["candidates"]
        ]
        st.dataframe(rows, hide_index=True, use_container_width=True)


# What the sidebar shows of `rag doctor`'s report (the CLI prints all of it).
MODEL_FIELDS = (
    "llm",
    "chat_model",
    "chat_model_mb",
    "gpu",
    "embedder",
    "embedder_mb",
    "embedder_device",
    "vector_store",
    "llama_cpp_python",
    "llama_cpp_build",
    "n_ctx",
)


def models_panel(info: dict[str, Any], language: str) -> None:
    """Backends, models and their sizes, GPU offload, the embedder's device, llama.cpp build."""
    with st.expander(t("models", language)):
        for name in MODEL_FIELDS:
            if name in info:
                st.caption(f"{name}: {escape_md(str(info[name]))}")
