"""The README's settings table, written from the settings' own descriptions and defaults.

``python -m rag_app.settings_doc`` rewrites the table in README.md; a test fails when the two
differ, so the table never drifts from ``rag_app/settings.py``.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from rag_app.settings import Settings

START = "<!-- settings table: written by `python -m rag_app.settings_doc` -->"
END = "<!-- end of settings table -->"
README = Path(__file__).parents[1] / "README.md"
SHOWN_DEFAULTS = {"data_dir": "the user data dir"}  # computed per machine


def settings_fields() -> list[tuple[str, FieldInfo]]:
    """Every setting, as its dotted path (``llm.model_path``), in declaration order."""
    found: list[tuple[str, FieldInfo]] = []
    for name, field in Settings.model_fields.items():
        kind = field.annotation
        if isinstance(kind, type) and issubclass(kind, BaseModel):
            found += [(f"{name}.{inner}", f) for inner, f in kind.model_fields.items()]
        else:
            found.append((name, field))
    return found


def shown_default(path: str, field: FieldInfo) -> str:
    if path in SHOWN_DEFAULTS:
        return SHOWN_DEFAULTS[path]
    value: Any = field.default
    if value is PydanticUndefined and field.default_factory is not None:
        value = field.default_factory()  # type: ignore[call-arg]
    if value in ("", None, [], {}):
        return "empty"
    if isinstance(value, bool):
        return str(value).lower()
    return f"`{value}`" if isinstance(value, str) else str(value)


def environment_variable(path: str) -> str:
    return "RAG_" + path.upper().replace(".", "__")


def table() -> str:
    lines = ["| setting | env var | default | what it does |", "|---|---|---|---|"]
    for path, field in settings_fields():
        description = (field.description or "").replace("|", "\\|")
        lines.append(
            f"| `{path}` | `{environment_variable(path)}` | {shown_default(path, field)} | "
            f"{description} |"
        )
    return "\n".join(lines)


def with_table(readme: str) -> str:
    """``readme`` with the text between the markers replaced by the current table."""
    before, rest = readme.split(START, 1)
    _, after = rest.split(END, 1)
    return f"{before}{START}\n{table()}\n{END}{after}"


def main() -> int:
    text = README.read_text(encoding="utf-8")
    updated = with_table(text)
    if updated != text:
        README.write_text(updated, encoding="utf-8")
        print(f"rewrote the settings table in {README}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
