"""Driving the Streamlit app through ``streamlit.testing.v1.AppTest``: its pages, and the
few steps and readings the UI tests share."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from streamlit.testing.v1 import AppTest

APP = str(Path(__file__).parents[2] / "ui" / "app.py")
EVALUATION_PAGE = str(Path(__file__).parents[2] / "ui" / "evaluation_page.py")


def upload(at: AppTest, name: str, data: bytes) -> None:
    at.file_uploader(key="uploader").set_value([(name, data, "application/pdf")])
    at.run()
    assert not at.exception


def ask(at: AppTest, question: str) -> None:
    at.chat_input(key="chat_input").set_value(question).run()
    assert not at.exception


def all_text(at: AppTest) -> str:
    parts = [m.value for m in at.markdown] + [c.value for c in at.caption]
    parts += (
        [e.value for e in at.error] + [s.value for s in at.success] + [i.value for i in at.info]
    )
    parts += [x.label for x in at.expander]
    return "\n".join(str(p) for p in parts).replace("\\", "")  # undo Markdown escaping


def block_text(at: AppTest, key: str) -> str:
    """The Markdown and captions inside the container with this key, unescaped."""
    block: Any = at.get_by_key(key)
    parts = [m.value for m in block.markdown] + [c.value for c in block.caption]
    return "\n".join(str(p) for p in parts).replace("\\", "")


def keys_in_order(at: AppTest) -> list[str]:
    """The keyed containers of the page, top to bottom."""
    return [str(node.key) for node in at.main if getattr(node, "key", None)]
