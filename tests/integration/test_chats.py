"""Saved conversations: resuming one in the UI (AppTest, with the real models) as after a
restart."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from rag_app.chats import ChatStore
from tests.support.apptest import APP, all_text, ask, upload
from tests.support.pdfs import COURSE_PAGES, make_pdf


def test_a_conversation_is_resumed_in_a_new_session_with_its_sources(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RAG_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("RAG_LLM__TEMPERATURE", "0")
    first = AppTest.from_file(APP, default_timeout=180)
    first.run()
    upload(first, "astronomy.pdf", make_pdf(tmp_path / "a.pdf", COURSE_PAGES).read_bytes())
    first.selectbox(key="answer_mode").set_value("evidence").run()
    ask(first, "Who founded the Lumora Observatory?")
    chat_id = first.session_state["chat_id"]

    # A new session (as after a restart of the server: nothing but the data dir is shared).
    later = AppTest.from_file(APP, default_timeout=180)
    later.run()
    assert later.session_state["messages"] == []
    later.button(key=f"chat-{chat_id}").click().run()
    assert not later.exception
    assert len(later.session_state["messages"]) == 2
    assert "astronomy.pdf, page 2" in all_text(later)  # its evidence and sources are back

    later.selectbox(key="answer_mode").set_value("evidence").run()
    ask(later, "And how wide is the mirror?")  # a follow-up on the resumed conversation
    assert len(later.session_state["messages"]) == 4
    assert later.session_state["chat_id"] == chat_id
    assert len(ChatStore(tmp_path / "data" / "chats.sqlite3").messages(chat_id)) == 4

    later.button(key="delete_chat").click().run()
    later.button(key="confirm_delete_chat").click().run()
    assert later.session_state["messages"] == [] and not later.session_state["chat_id"]
    assert ChatStore(tmp_path / "data" / "chats.sqlite3").chats("documents") == []
