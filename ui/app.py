"""The Streamlit app: upload PDFs, chat with streamed answers, see each source at its page.

Run it with `rag ui` (or `make run`). All logic lives in rag_app.service; this file only lays
out widgets and keeps each browser session's chat history in st.session_state.
"""

from __future__ import annotations

import logging
import re
from typing import Any

import streamlit as st

from rag_app.answering.answers import ANSWER_MODES, AnswerStream
from rag_app.answering.routes import AUTO, ROUTES
from rag_app.chats import ChatStore
from rag_app.errors import RagError, first_line
from rag_app.knowledge import knowledge_bases
from rag_app.retrieval.strategies import STRATEGIES
from rag_app.service import RagService
from rag_app.settings import load_settings
from ui import folders, models_panel, uploads, widgets
from ui.i18n import LANGUAGES, default_language, t
from ui.services import get_service, load_chat_model

MAX_LISTED_CHATS = 30
ROUTE_CHOICES = (AUTO, *ROUTES)


def sidebar(service: RagService, language: str) -> dict[str, Any]:
    state = st.session_state
    with st.sidebar:
        st.subheader(t("settings", language))
        defaults = service.settings
        names = [d.source for d in service.documents()]
        # A document deleted since it was chosen leaves the choice, not an error.
        if "only_documents" in state:
            state.only_documents = [n for n in state.only_documents if n in names]
        options = {
            "mode": st.selectbox(
                t("answer_mode", language),
                options=list(ANSWER_MODES),
                index=list(ANSWER_MODES).index(defaults.answer.mode),
                format_func=lambda mode: t(f"mode_{mode}", language),
                key="answer_mode",
                help=t("answer_mode_help", language),
            ),
            "strategy": st.selectbox(
                t("strategy", language),
                options=list(STRATEGIES),
                index=list(STRATEGIES).index(defaults.retrieval.strategy),
                key="strategy",
                help=t("strategy_help", language),
            ),
            "route": st.selectbox(
                t("route", language),
                options=list(ROUTE_CHOICES),
                index=list(ROUTE_CHOICES).index(defaults.answer.route),
                format_func=lambda route: t(f"route_{route}", language),
                key="route",
                help=t("route_help", language),
            ),
            "k": st.slider(t("k", language), 1, 10, defaults.retrieval.k, key="k"),
            "temperature": st.slider(
                t("temperature", language),
                0.0,
                1.0,
                defaults.llm.temperature,
                0.05,
                key="temperature",
            ),
            "max_tokens": st.slider(
                t("max_tokens", language), 32, 1024, defaults.llm.max_tokens, 32, key="max_tokens"
            ),
            # Empty: every document. Applied inside each strategy's search, before the top k.
            "documents": st.multiselect(
                t("only_documents", language),
                options=names,
                key="only_documents",
                help=t("only_documents_help", language),
            ),
        }
        if st.button(t("clear", language), key="clear_chat", width="stretch"):
            state.messages, state.chat_id = [], None  # the saved conversation stays listed
        widgets.models_panel(service.describe(load_chat_model=False), language)
        models_panel.catalog_panel(service.settings, language)
    return options


def documents_panel(service: RagService, language: str) -> None:
    state = st.session_state
    docs = service.documents()
    with st.expander(t("documents", language, n=len(docs)), expanded=False):
        if not docs:
            st.caption(t("no_documents", language))
        for doc in docs:
            left, right = st.columns([5, 1])
            left.markdown(
                f"**{widgets.escape_md(doc.source)}**  \n"
                + t("pages_chunks", language, pages=doc.pages, chunks=doc.chunks)
            )
            if right.button(t("delete", language), key=f"delete-{doc.doc_id}"):
                state.pending_delete = doc.source
        pending = state.get("pending_delete")
        if pending:
            st.warning(t("confirm_delete", language, name=pending))
            yes, no = st.columns(2)
            if yes.button(t("yes_delete", language), key="confirm_delete", type="primary"):
                service.delete(pending)
                state.pending_delete = None
                st.toast(t("deleted", language, name=pending))
                st.rerun()
            if no.button(t("cancel", language), key="cancel_delete"):
                state.pending_delete = None
                st.rerun()


def chat(service: RagService, language: str, options: dict[str, Any], question: str | None) -> None:
    state = st.session_state
    state.setdefault("messages", [])
    for turn, message in enumerate(state.messages):
        with st.chat_message(message["role"]):
            if message.get("answer"):
                past_answer(service, message["answer"], turn, language)
            else:
                with st.container(key=f"{message['role']}-{turn}"):
                    st.markdown(widgets.escape_md(message["content"]))

    if not question:
        return
    turn = len(state.messages)
    history = [(m["role"], m["content"]) for m in state.messages]
    remember(service, {"role": "user", "content": question})
    with st.chat_message("user"), st.container(key=f"user-{turn}"):
        st.markdown(widgets.escape_md(question))
    with st.chat_message("assistant"):
        if not service.documents():
            text = t("upload_first", language)
            st.markdown(text)
            remember(service, {"role": "assistant", "content": text})
            return
        load_chat_model(service, options.get("mode"), options.get("strategy"))
        stream = service.stream(question, history=history, **options)
        answer = streamed_answer(stream, turn + 1, language)
        # Saved before the sources are drawn: a page closed (or a server stopped) while they
        # render does not lose the answer.
        remember(
            service, {"role": "assistant", "content": answer.get("answer", ""), "answer": answer}
        )
        answer_details(service, answer, turn + 1, language)


def chat_store(service: RagService) -> ChatStore:
    return ChatStore(service.settings.data_dir / "chats.sqlite3")


def remember(service: RagService, message: dict[str, Any]) -> None:
    """A message into this session's conversation, and saved at once (the conversation is
    created, in the current knowledge base, with its first message)."""
    state = st.session_state
    state.messages.append(message)
    store = chat_store(service)
    if not state.get("chat_id"):
        state.chat_id = store.create(service.settings.collection)
    store.append(state.chat_id, message)


def conversations_panel(service: RagService, language: str) -> None:
    """The knowledge base's saved conversations: start a new one, resume, rename, export,
    delete."""
    state = st.session_state
    store = chat_store(service)
    base = service.settings.collection
    current = store.get(state.chat_id) if state.get("chat_id") else None
    if state.get("chat_id") and (current is None or current.knowledge_base != base):
        state.chat_id, state.messages = None, []  # deleted elsewhere, or another base's
        current = None
    with st.sidebar:
        st.subheader(t("conversations", language))
        if st.button(t("new_chat", language), key="new_chat", width="stretch"):
            state.chat_id, state.messages, current = None, [], None
        for saved in store.chats(base)[:MAX_LISTED_CHATS]:
            mark = "▸ " if current is not None and saved.id == current.id else ""
            if st.button(f"{mark}{saved.title or '…'}", key=f"chat-{saved.id}", width="stretch"):
                state.chat_id, state.messages = saved.id, store.messages(saved.id)
                current = saved
        if current is None:
            return
        with st.expander(t("this_chat", language)):
            title = st.text_input(
                t("title_label", language), current.title, key=f"title-{current.id}"
            )
            if st.button(t("rename", language), key="rename_chat") and title.strip():
                store.rename(current.id, title)
                st.rerun()
            st.download_button(
                t("export", language),
                data=store.export_markdown(current.id),
                file_name=f"{safe_file_stem(current.title)}.md",
                mime="text/markdown",
                key="export_chat",
            )
            if st.button(t("delete_chat", language), key="delete_chat"):
                state.confirm_chat_delete = current.id
            if state.get("confirm_chat_delete") == current.id:
                st.warning(t("confirm_delete_chat", language, title=current.title))
                if st.button(t("yes_delete", language), key="confirm_delete_chat"):
                    store.delete(current.id)
                    state.chat_id, state.messages, state.confirm_chat_delete = None, [], None
                    st.rerun()


def safe_file_stem(title: str) -> str:
    return re.sub(r"[^\w\- ]+", "_", title).strip(" _")[:60] or "conversation"


def streamed_answer(stream: AnswerStream, turn: int, language: str) -> dict[str, Any]:
    """The evidence first (it is known before the model starts), then the model's text as it
    streams; once whole, that text is drawn again as checked: what the sources do not support
    marked, or a line saying why the evidence is the answer instead."""
    evidence = [e.to_dict() for e in stream.evidence]
    widgets.render_route(stream.trace.to_dict(), language)
    widgets.render_evidence(evidence, turn, language)
    if stream.uncertain:  # the label under the evidence; no model text to stream
        answer = stream.consume().to_dict()
        with st.container(key=f"assistant-{turn}"):
            widgets.render_model_text(answer, language)
        return answer
    if not widgets.shows_model_text({"mode": stream.mode, "evidence": evidence}):
        return stream.consume().to_dict()  # the evidence is the answer: nothing to stream
    with st.container(key=f"assistant-{turn}"):
        slot = st.empty()
        with slot.container():
            if stream.sources:  # else the no-answer line, which is not the model's
                st.caption(t("model_wording", language))
            st.write_stream(widgets.escaped_stream(iter(stream)))
        answer = stream.consume().to_dict()
        with slot.container():
            widgets.render_model_text(answer, language)
    return answer


def past_answer(service: RagService, answer: dict[str, Any], turn: int, language: str) -> None:
    """An earlier answer as it was shown when it streamed in, from its stored dict."""
    widgets.render_route(answer.get("trace") or {}, language)
    widgets.render_evidence(answer.get("evidence") or [], turn, language)
    if widgets.shows_model_text(answer):
        with st.container(key=f"assistant-{turn}"):
            widgets.render_model_text(answer, language)
    answer_details(service, answer, turn, language)


def answer_details(service: RagService, answer: dict[str, Any], turn: int, language: str) -> None:
    """What follows an answer, streamed or re-drawn alike: how it was found (still indexing),
    timings, sources, retrieval trace."""
    if answer.get("note"):
        st.info(widgets.escape_md(str(answer["note"])))
    widgets.render_timings(answer, language)
    widgets.render_sources(service, answer, turn, language)
    widgets.render_trace(answer, language)


def chat_page() -> None:
    language = st.session_state.language
    # The chat input first (Streamlit pins it to the bottom of the page wherever it is drawn):
    # the page's layout changes when it first appears, which makes the browser draw the
    # uploader anew and forget a file it is still sending. Drawn last, it appeared at the end
    # of the run, and a file dropped just before was lost (coming back from another page).
    question = st.chat_input(t("chat_placeholder", language), key="chat_input")
    # The uploader next, before the models and the store are opened: a file dropped while
    # they load is taken by the run the drop starts (ui/uploads.py), and ingested below.
    st.title(t("title", language))
    st.caption(t("caption", language))
    uploads.uploader(language)
    # The meaning index's progress in a slot of its own, before the upload reports: a
    # fragment that reruns every second must keep its place in the page from run to run.
    indexing, results = st.container(), st.container()
    service = get_service()
    folders.folder_panel(service, language)  # under the knowledge base picker
    options = sidebar(service, language)
    conversations_panel(service, language)
    with results:
        uploads.ingest_waiting(service, language)
    service.resume_embedding()  # left waiting by a run that was stopped, or a crash
    if not service.indexing().done or service.background_error():
        with indexing:  # redrawn every second until the next run finds nothing to show
            uploads.meaning_index(service, language)
    documents_panel(service, language)
    chat(service, language, options, question)


def language_choice() -> str:
    """The interface language, for every page: the browser's by default."""
    state = st.session_state
    if "language" not in state:
        state.language = default_language(st.context.locale)
    with st.sidebar:
        return str(
            st.selectbox(
                t("language", state.language),
                options=list(LANGUAGES),
                format_func=LANGUAGES.__getitem__,
                key="language",
            )
        )


def knowledge_base_choice(language: str) -> None:
    """The knowledge base every page of this session works on, and making a new one."""
    state = st.session_state
    bases = knowledge_bases(load_settings())
    collections = {kb.name: kb.collection for kb in bases.all()}
    names = list(collections)
    if "pending_kb" in state:  # just created: a widget's value is set before it is drawn
        state.knowledge_base = state.pop("pending_kb")
    if state.get("knowledge_base") not in names:  # deleted meanwhile, or first run
        state.knowledge_base = names[0]
    with st.sidebar:
        chosen = st.selectbox(t("knowledge_base", language), options=names, key="knowledge_base")
        # What get_service opens: the listing is read once per run, here.
        state.knowledge_base_collection = collections[str(chosen)]
        with st.expander(t("new_knowledge_base", language)):
            name = st.text_input(t("kb_name", language), key="new_kb_name")
            if st.button(t("create", language), key="create_kb") and name.strip():
                created = bases.create(name)
                state.pending_kb = created.name
                st.rerun()


def main() -> None:
    uploads.take_early()  # before any st call: no stop between the drop and this
    st.set_page_config(page_title="rag-app", page_icon="📚", layout="wide")
    language = st.session_state.get("language", "en")
    try:
        language = language_choice()
        knowledge_base_choice(language)
        chat = st.Page(
            chat_page, title=t("nav_chat", language), icon=":material/chat:", default=True
        )
        page = st.navigation(
            [
                chat,
                st.Page(
                    "evaluation_page.py",
                    title=t("eval_title", language),
                    icon=":material/analytics:",
                    url_path="evaluation",
                ),
            ]
        )
        if page.url_path != chat.url_path:
            uploads.waiting_note(language)
        page.run()
    except RagError as exc:
        widgets.report_error(t("error", language, message=str(exc)))
    except Exception as exc:  # never a traceback in the page; the server log has it
        detail = first_line(exc)
        st.error(t("error", language, message=f"unexpected {type(exc).__name__}: {detail}"))
        raise_in_log(exc)


def raise_in_log(exc: Exception) -> None:
    logging.getLogger("rag_app.ui").error("unexpected error", exc_info=exc)


main()
