"""The UI's model panel (AppTest): it lists the models, and Use saves the choice and the page
runs on the new model (a real copy of the bundled one)."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pytest

from rag_app.models.loading import bundled_gguf_path
from rag_app.settings import load_settings
from tests.support.apptest import APP
from tests.support.gguf import TOOL_VARIABLES

# -- writing GGUF files --------------------------------------------------------------------------


# -- the catalog ---------------------------------------------------------------------------------


# -- the command line, as a real process ---------------------------------------------------------


# -- the web UI ----------------------------------------------------------------------------------


@pytest.mark.skipif(sys.platform == "win32", reason="symlinks")
@pytest.mark.slow  # a `rag` process, the real model or the UI
def test_ui_panel_lists_and_switches(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The sidebar lists the models; Use saves the choice and the page runs on the new model."""
    from streamlit.testing.v1 import AppTest

    models = tmp_path / "models"
    models.mkdir()
    shutil.copyfile(bundled_gguf_path(), models / "other-smol.gguf")  # a real, loadable copy
    (models / "notes.gguf").write_text("not a model")
    data = tmp_path / "data"
    data.mkdir()
    (data / "settings.toml").write_text(f"[llm]\nmodel_dirs = [{json.dumps(str(models))}]\n")
    monkeypatch.setenv("RAG_DATA_DIR", str(data))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    for name in TOOL_VARIABLES:
        monkeypatch.delenv(name, raising=False)

    at = AppTest.from_file(APP, default_timeout=180)
    at.run()
    assert not at.exception
    text = "\n".join(str(m.value) for m in [*at.markdown, *at.caption]).replace("\\", "")
    assert "SmolLM2-135M-Instruct.Q4_1" in text and "Q4_1 · 8192 context" in text
    assert "unusable: not a GGUF file" in text
    assert "Switch model (2 found)" in [e.label for e in at.expander]

    at.button(key="use-model-other-smol").click().run()
    assert not at.exception
    assert "Now using other-smol" in at.success[0].value.replace("\\", "")
    assert load_settings().llm.model_path == str(models / "other-smol.gguf")
    captions = "\n".join(str(c.value) for c in at.caption).replace("\\", "")
    assert f"chat_model: {models / 'other-smol.gguf'}" in captions
