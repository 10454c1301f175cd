"""Rendering pieces of the UI. Text from documents and from the model is always escaped:
Streamlit renders Markdown, so a passage or an answer could otherwise inject links or markup."""

from __future__ import annotations

import io
import logging
import re
from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import streamlit as st

from rag_app.answering.fallback import CHECK_FALLBACKS, Fallback
from rag_app.answering.injection import describe
from rag_app.retrieval.trace import Trace
from rag_app.text.claims import highlight_spans, location
from ui.i18n import t

if TYPE_CHECKING:
    from rag_app.service import RagService

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
def page_png(
    _service: RagService, source: str, page: int, doc_id: str, highlight: tuple[str, ...] = ()
) -> bytes | None:
    """Rendered once per (document version, page, marked sentences); doc_id keys the cache,
    so a re-uploaded file is drawn anew. ``highlight``: the evidence quoted from this page."""
    image = _service.page_image(source, page, highlight=highlight)
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
        f"\\[{source['number']}\\] {where(source, language)} · {t('score', language)} "
        f"{source['score']:.2f}{mark}{warn}"
    )


def where(item: Mapping[str, Any], language: str) -> str:
    """'file, page p' for a PDF, 'file, Tema 2 › Atención' for a section, escaped."""
    section = str(item.get("section") or "")
    place = location(str(item["source"]), int(item["page"]), section, t("page", language))
    name = escape_md(str(item["source"]))
    return f"{name}, {escape_md(place)}" if place else name


def render_sources(service: RagService, answer: dict[str, Any], turn: int, language: str) -> None:
    sources = answer.get("sources") or []
    if not sources:
        return
    cited = set(answer.get("cited") or [])
    doc_ids = {d.source: d.doc_id for d in service.documents()}
    quoted = evidence_by_source(answer.get("evidence") or [])
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
                service,
                source["source"],
                source["page"],
                doc_ids.get(source["source"], ""),
                quoted.get(n, ()),
            )
            if png:
                st.image(
                    png, caption=f"{source['source']} · {t('page', language)} {source['page']}"
                )


def evidence_by_source(evidence: Sequence[Mapping[str, Any]]) -> dict[int, tuple[str, ...]]:
    """The evidence sentences of each source number: what its page image marks."""
    quoted: dict[int, tuple[str, ...]] = {}
    for item in evidence:
        quoted[item["number"]] = (*quoted.get(item["number"], ()), str(item["text"]))
    return quoted


def evidence_markdown(item: Mapping[str, Any], language: str) -> str:
    """'[n] file, page p' over the sentence, quoted as the document has it (escaped); a list
    keeps its lead-in and each item on lines of their own."""
    lines = [escape_md(" ".join(line.split())) for line in str(item["text"]).splitlines()]
    quote = "  \n> ".join(line for line in lines if line)
    return f"**\\[{item['number']}\\] {where(item, language)}**\n\n> {quote}"


def render_route(trace: Mapping[str, Any], language: str) -> None:
    """For a summary, a comparison or an enumeration: which it is and what it covers (its
    quoted units follow, as evidence). Nothing for a look-up."""
    route = trace.get("route") or {}
    kind = route.get("kind", "lookup")
    if kind == "lookup":
        return
    how = t("route_chosen", language) if route.get("forced") else str(route.get("reason", ""))
    st.caption(f"{t('route', language)}: {t(f'route_{kind}', language)} · {escape_md(how)}")
    if route.get("title"):
        st.markdown(f"**{escape_md(str(route['title']))}**")
    if route.get("also"):
        also = "; ".join(str(h) for h in route["also"])
        st.caption(f"{t('route_also', language)}: {escape_md(also)}")


def render_evidence(evidence: Sequence[Mapping[str, Any]], turn: int, language: str) -> None:
    """The sentences of the sources that answer, first under the question: the reader sees
    what the answer rests on, verbatim, before any wording of the model's. Nothing when the
    documents hold no answer (the no-answer line says so)."""
    if not evidence:
        return
    with st.container(key=f"evidence-{turn}"):
        st.markdown(f"**{t('evidence', language)}**")
        for item in evidence:
            st.markdown(evidence_markdown(item, language))


def shows_model_text(answer: Mapping[str, Any]) -> bool:
    """Whether the answer has a text block under its evidence: not in "evidence" mode, where
    the evidence is all there is, unless there was none (then the no-answer line is shown)."""
    return (
        answer.get("mode") != "evidence"
        or not answer.get("evidence")
        or answer.get("fallback") == Fallback.UNCERTAIN
    )


def unsupported_spans(
    text: str, unsupported: Sequence[str]
) -> tuple[list[tuple[str, bool]], list[str]]:
    """``text`` cut into (piece, is_unsupported) pieces, and the unsupported sentences that could
    not be placed in it. The sentences were split from the text with whitespace collapsed and
    Markdown remnants removed (``rag_app.text.split_sentences``): they are found word by word."""
    spans: list[tuple[str, bool]] = []
    unplaced: list[str] = []
    cursor = 0
    for sentence in unsupported:
        words = sentence.split()
        pattern = r"[\s*_`#>]+".join(map(re.escape, words))
        found = re.compile(pattern).search(text, cursor) if words else None
        if found is None:
            unplaced.append(sentence)
            continue
        spans.append((text[cursor : found.start()], False))
        spans.append((found.group(), True))
        cursor = found.end()
    spans.append((text[cursor:], False))
    return [(piece, bad) for piece, bad in spans if piece], unplaced


def marked_answer(text: str, unsupported: Sequence[str], language: str) -> str:
    """The model's text, escaped, each sentence the sources do not support followed by a
    visible mark; sentences it could not place are listed after it, marked the same way."""
    mark = f" :red[⚠ {t('not_found', language)}]"
    spans, unplaced = unsupported_spans(text, unsupported)
    body = "".join(escape_md(piece) + (mark if bad else "") for piece, bad in spans)
    extra = [escape_md(sentence) + mark for sentence in unplaced]
    return "\n\n".join([body, *extra]) if body else "\n\n".join(extra)


def render_model_text(answer: Mapping[str, Any], language: str) -> None:
    """What follows the evidence: the no-answer line; or why the model's answer was not used
    (the evidence is then the answer); or the model's wording, labelled as such, with what
    the sources do not support marked (or, when dropped, how many sentences were)."""
    text = str(answer.get("answer") or "")
    fallback = answer.get("fallback")
    if fallback == Fallback.ABSTAINED or not answer.get("evidence"):
        st.markdown(escape_md(text))
        return
    if fallback == Fallback.UNCERTAIN:  # the evidence is shown, below the bar: say so plainly
        st.warning(t("fallback_uncertain", language), icon=":material/help:")
        return
    if fallback in CHECK_FALLBACKS:  # the evidence is the answer: one quiet line says why
        st.caption(t(f"fallback_{fallback}", language))
        return
    unsupported = list(answer.get("unsupported") or [])
    dropped = answer.get("generated") not in (None, text)  # answer.unsupported = "drop"
    st.caption(t("model_wording", language))
    st.markdown(marked_answer(text, [] if dropped else unsupported, language))
    if dropped and unsupported:
        st.caption(t("dropped", language, n=len(unsupported)))


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
    trace = Trace.from_dict(answer.get("trace") or {})  # as saved, so a resumed chat too
    if not trace.candidates:
        return
    with st.expander(t("trace", language)):
        st.caption(
            f"strategy: {trace.strategy} · k={trace.k} · "
            f"threshold={trace.relevance_threshold} · margin={trace.relevance_margin}"
        )
        if trace.standalone_question not in (None, trace.question):
            st.caption(f"standalone question: {escape_md(trace.standalone_question or '')}")
        for query in trace.queries:
            st.caption(f"query: {escape_md(query)}")
        if trace.hypothetical:
            st.caption(f"hypothetical passage: {escape_md(trace.hypothetical)}")
        if trace.rerank:  # the "rerank rank/score" column holds each candidate's score
            st.caption(
                f"re-ranked by {escape_md(str(trace.rerank.get('model')))}: "
                f"{trace.rerank.get('candidates')} candidates in {trace.rerank.get('seconds')} s"
            )
        rows = [
            {
                "rank": c.rank,
                "source": c.source,
                "page": c.page,
                "cosine": c.score,
                "used": bool(c.used),
                **{
                    f"{name} rank/score": f"{r.rank} / {r.score}"
                    for name, r in c.retrievers.items()
                },
            }
            for c in trace.candidates
        ]
        st.dataframe(rows, hide_index=True)  # full width by default


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


def report_error(line: str) -> None:
    """An error the user can act on: one line in the page, and the same line in the server's
    log (so an operator reading the log sees what a user saw)."""
    st.error(line)
    logging.getLogger("rag_app.ui").warning("%s", line)
