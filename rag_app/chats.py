"""Conversations that last: each chat saved as it happens, in SQLite in the data dir.

A chat belongs to one knowledge base, has a title (its first question until renamed) and its
messages in order, each as the UI holds it: role, text and, for answers, the answer's JSON
(evidence, sources with file and page, trace), so a resumed chat is drawn as it was and its
follow-up questions are rewritten with its history. Several sessions and processes may use
the file at once (WAL; one short transaction per call).
"""

from __future__ import annotations

import json
import sqlite3
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rag_app.errors import RagError
from rag_app.text.claims import location

TITLE_LENGTH = 60
_SCHEMA = """
create table if not exists chats (
    id text primary key, knowledge_base text not null, title text not null,
    created text not null, updated text not null
);
create table if not exists messages (
    chat_id text not null references chats(id) on delete cascade, position integer not null,
    role text not null, content text not null, answer text,
    primary key (chat_id, position)
);
"""


@dataclass(frozen=True)
class Chat:
    id: str
    knowledge_base: str
    title: str
    updated: str  # ISO time, UTC
    messages: int


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def title_of(question: str) -> str:
    words = " ".join(question.split())
    return words if len(words) <= TITLE_LENGTH else words[: TITLE_LENGTH - 1].rstrip() + "…"


class ChatStore:
    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        with self._db() as db:
            db.executescript(_SCHEMA)

    @contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        db = sqlite3.connect(self.path, timeout=30)
        try:
            db.execute("pragma journal_mode=wal")
            db.execute("pragma foreign_keys=on")
            with db:
                yield db
        finally:
            db.close()

    def create(self, knowledge_base: str, title: str = "") -> str:
        chat_id, now = uuid.uuid4().hex, _now()
        with self._db() as db:
            db.execute(
                "insert into chats values (?, ?, ?, ?, ?)",
                (chat_id, knowledge_base, title_of(title), now, now),
            )
        return chat_id

    def append(self, chat_id: str, message: Mapping[str, Any]) -> None:
        """One message at the end of the chat; the chat's first question becomes its title
        when it has none."""
        answer = message.get("answer")
        with self._db() as db:
            row = db.execute("select title from chats where id = ?", (chat_id,)).fetchone()
            if row is None:
                raise RagError(f"conversation {chat_id}: not found; start a new one")
            (position,) = db.execute(
                "select count(*) from messages where chat_id = ?", (chat_id,)
            ).fetchone()
            db.execute(
                "insert into messages values (?, ?, ?, ?, ?)",
                (
                    chat_id,
                    position,
                    str(message["role"]),
                    str(message.get("content", "")),
                    None if answer is None else json.dumps(answer, ensure_ascii=False),
                ),
            )
            asked = message["role"] == "user"
            title = row[0] or (title_of(str(message["content"])) if asked else "")
            db.execute(
                "update chats set updated = ?, title = ? where id = ?", (_now(), title, chat_id)
            )

    def _select(self, where: str, value: str) -> list[Chat]:
        with self._db() as db:
            rows = db.execute(
                "select c.id, c.knowledge_base, c.title, c.updated, count(m.position) "
                f"from chats c left join messages m on m.chat_id = c.id where c.{where} = ? "
                "group by c.id order by c.updated desc, c.rowid desc",
                (value,),
            ).fetchall()
        return [Chat(*row) for row in rows]

    def chats(self, knowledge_base: str) -> list[Chat]:
        """The knowledge base's chats, the most recently used first."""
        return self._select("knowledge_base", knowledge_base)

    def get(self, chat_id: str) -> Chat | None:
        found = self._select("id", chat_id)
        return found[0] if found else None

    def messages(self, chat_id: str) -> list[dict[str, Any]]:
        with self._db() as db:
            rows = db.execute(
                "select role, content, answer from messages where chat_id = ? order by position",
                (chat_id,),
            ).fetchall()
        found: list[dict[str, Any]] = []
        for role, content, answer in rows:
            message: dict[str, Any] = {"role": role, "content": content}
            if answer is not None:
                message["answer"] = json.loads(answer)
            found.append(message)
        return found

    def rename(self, chat_id: str, title: str) -> None:
        if not title.strip():
            raise RagError("a conversation's title cannot be empty; type one")
        with self._db() as db:
            db.execute("update chats set title = ? where id = ?", (title_of(title), chat_id))

    def delete(self, chat_id: str) -> None:
        with self._db() as db:
            db.execute("delete from chats where id = ?", (chat_id,))

    def export_markdown(self, chat_id: str) -> str:
        chat = self.get(chat_id)
        if chat is None:
            raise RagError(f"conversation {chat_id}: not found")
        return to_markdown(chat.title, self.messages(chat_id))


def to_markdown(title: str, messages: Sequence[Mapping[str, Any]]) -> str:
    """A conversation as Markdown: each question, its answer, then the evidence quoted and the
    sources, each with its file and page (or section)."""
    lines = [f"# {title}", ""]
    for message in messages:
        if message["role"] == "user":
            lines += [f"## {message['content']}", ""]
            continue
        lines += [str(message.get("content", "")), ""]
        answer = message.get("answer") or {}
        if answer.get("evidence"):
            lines += ["**Evidence**", ""]
            for item in answer["evidence"]:
                where = _where(item)
                lines += [f"> [{item['number']}] {' '.join(str(item['text']).split())}", ">",
                          f"> — {where}", ""]  # fmt: skip
        if answer.get("sources"):
            lines += ["**Sources**", ""]
            lines += [f"- [{s['number']}] {_where(s)}" for s in answer["sources"]]
            lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def _where(item: Mapping[str, Any]) -> str:
    place = location(str(item["source"]), int(item["page"]), str(item.get("section") or ""))
    return f"{item['source']}, {place}" if place else str(item["source"])
