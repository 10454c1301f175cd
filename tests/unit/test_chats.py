"""Saved conversations: the SQLite store (real files). Resuming one in the UI:
tests/integration/test_chats.py."""

from __future__ import annotations

from pathlib import Path

import pytest

from rag_app.chats import ChatStore
from rag_app.errors import RagError

ANSWER = {
    "answer": "The observatory was founded in 1887 by Elena Vasquez [1].",
    "evidence": [
        {"text": "The Lumora Observatory was founded in 1887 by the astronomer Elena Vasquez.",
         "number": 1, "source": "astronomy.pdf", "page": 2, "section": "", "score": 0.6},
    ],
    "sources": [
        {"number": 1, "source": "astronomy.pdf", "page": 2, "section": "", "text": "..."},
        {"number": 2, "source": "notas.md", "page": 3, "section": "Tema 2 › Atención",
         "text": "..."},
    ],
}  # fmt: skip


def test_a_conversation_is_kept_titled_listed_renamed_exported_deleted(tmp_path: Path) -> None:
    store = ChatStore(tmp_path / "chats.sqlite3")
    first = store.create("documents")
    store.append(first, {"role": "user", "content": "Who founded the Lumora Observatory?"})
    store.append(first, {"role": "assistant", "content": ANSWER["answer"], "answer": ANSWER})
    second = store.create("documents")
    store.append(second, {"role": "user", "content": "x" * 100})
    other = store.create("kb-papers-1234abcd")

    # Another process opening the same file sees the same (the UI and a second server).
    again = ChatStore(tmp_path / "chats.sqlite3")
    listed = again.chats("documents")
    assert [c.id for c in listed] == [second, first]  # most recently used first
    assert listed[1].title == "Who founded the Lumora Observatory?" and listed[1].messages == 2
    assert len(listed[0].title) == 60 and listed[0].title.endswith("…")
    assert [c.id for c in again.chats("kb-papers-1234abcd")] == [other]
    assert again.messages(first)[1]["answer"] == ANSWER  # sources and evidence survive

    store.rename(first, "  Observatory  founders ")
    assert store.get(first).title == "Observatory founders"  # type: ignore[union-attr]
    with pytest.raises(RagError, match="cannot be empty"):
        store.rename(first, "   ")

    markdown = store.export_markdown(first)
    assert markdown.startswith("# Observatory founders\n\n## Who founded the Lumora Observatory?")
    assert "> [1] The Lumora Observatory was founded in 1887" in markdown
    assert "> — astronomy.pdf, page 2" in markdown
    assert "- [2] notas.md, Tema 2 › Atención" in markdown

    store.delete(first)
    assert [c.id for c in store.chats("documents")] == [second]
    assert store.messages(first) == []
    with pytest.raises(RagError, match="not found"):
        store.append(first, {"role": "user", "content": "late"})
