"""The README's settings table names every setting, with its environment variable."""

from __future__ import annotations

import re
from pathlib import Path

from pydantic import BaseModel

from rag_app.settings import Settings

README = Path(__file__).parents[1] / "README.md"


def documented() -> dict[str, str]:
    """Each setting the table names ("llm.base_url", and the ".api_key" after it in the same
    row), with the row's environment-variable cell."""
    table = README.read_text(encoding="utf-8").split("## Settings", 1)[1].split("\n## ", 1)[0]
    found: dict[str, str] = {}
    for row in table.splitlines():
        cells = [c.strip() for c in row.strip().strip("|").split("|")]
        if len(cells) < 4 or not cells[0].startswith("`"):
            continue
        names = re.findall(r"`([\w.]+)`", cells[0])
        section = names[0].rsplit(".", 1)[0] if "." in names[0] else ""
        for name in names:
            full = f"{section}{name}" if name.startswith(".") else name
            found[full] = cells[1]
    return found


def settings_paths() -> list[str]:
    paths = []
    for name, field in Settings.model_fields.items():
        kind = field.annotation
        if isinstance(kind, type) and issubclass(kind, BaseModel):
            paths += [f"{name}.{inner}" for inner in kind.model_fields]
        else:
            paths.append(name)
    return paths


def test_every_setting_is_in_the_readme_table() -> None:
    table = documented()
    missing = [path for path in settings_paths() if path not in table]
    assert not missing, f"settings missing from the README table: {missing}"


def test_the_table_names_only_real_settings_with_their_variables() -> None:
    real = set(settings_paths())
    for path, variable in documented().items():
        assert path in real, f"the README documents {path}, which is not a setting"
        section = path.split(".")[0].upper()
        assert variable.startswith(f"`RAG_{section}"), (path, variable)
