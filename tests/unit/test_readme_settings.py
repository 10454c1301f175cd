"""The README's settings table is the settings' own: every setting, its environment variable,
default and description, as ``rag_app/settings_doc.py`` writes them."""

from __future__ import annotations

import pytest

from rag_app import settings_doc
from rag_app.settings import load_settings


def test_the_readme_table_is_written_from_the_settings() -> None:
    readme = settings_doc.README.read_text(encoding="utf-8")
    assert settings_doc.with_table(readme) == readme, (
        "the README's settings table is out of date: run `python -m rag_app.settings_doc`"
    )


def test_the_table_has_every_setting_once() -> None:
    table = settings_doc.table()
    paths = [path for path, _ in settings_doc.settings_fields()]
    assert len(paths) == len(set(paths)) > 40
    for path in paths:
        assert table.count(f"| `{path}` |") == 1, path
    assert all(field.description for _, field in settings_doc.settings_fields())


def test_the_named_variables_are_the_ones_read(monkeypatch: pytest.MonkeyPatch) -> None:
    fields = dict(settings_doc.settings_fields())
    for path, value in (("retrieval.k", "7"), ("llm.base_url", "http://127.0.0.1:9/v1")):
        assert path in fields
        monkeypatch.setenv(settings_doc.environment_variable(path), value)
    loaded = load_settings()
    assert (loaded.retrieval.k, loaded.llm.base_url) == (7, "http://127.0.0.1:9/v1")
