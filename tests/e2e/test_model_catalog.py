"""`rag models` as a real process: listing, `use`, and one-line refusals, on a temporary home
with the model folders of other tools (tests/support/gguf.py)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from rag_app.settings import load_settings
from tests.support.cli import rag
from tests.support.gguf import (
    TOOL_VARIABLES,
    fake_machine,
)

# -- writing GGUF files --------------------------------------------------------------------------


# -- the catalog ---------------------------------------------------------------------------------


@pytest.fixture
def machine(tmp_path: Path) -> dict[str, Path]:
    """A home with models from every tool, and a folder for llm.model_dirs."""
    return fake_machine(tmp_path)


# -- the command line, as a real process ---------------------------------------------------------


@pytest.mark.slow  # a `rag` process, the real model or the UI
def test_rag_models_cli(tmp_path: Path, machine: dict[str, Path]) -> None:
    clean = {
        k: v for k, v in os.environ.items() if not k.startswith("RAG_") and k not in TOOL_VARIABLES
    }
    data = tmp_path / "data"
    data.mkdir()
    saved = data / "settings.toml"
    saved.write_text(f"# kept\n[llm]\nmodel_dirs = [{json.dumps(str(machine['models']))}]\n")
    env = {**clean, "HOME": str(machine["home"]), "RAG_DATA_DIR": str(data)}

    listed = rag("models", "--json", env=env)
    assert listed.returncode == 0, listed.stderr
    entries = {e["name"]: e for e in json.loads(listed.stdout)}
    assert entries["SmolLM2-135M-Instruct.Q4_1"]["in_use"] is True
    assert entries["ollama:tinyllama:latest"]["quantisation"] == "Q3_K_M"
    assert entries["notes"]["error"] == "not a GGUF file"

    used = rag("models", "use", "ollama:tinyllama:latest", env=env)
    assert used.returncode == 0, used.stderr
    assert "Now in use: ollama:tinyllama:latest (Q3_K_M, 4096 context" in used.stdout
    assert load_settings(data_dir=data).llm.model_path == str(machine["ollama_blob"])
    assert "# kept" in saved.read_text() and "model_dirs" in saved.read_text()

    table = rag("models", env=env)
    assert table.returncode == 0, table.stderr
    marked = [line for line in table.stdout.splitlines() if line.startswith("│ *")]
    assert len(marked) == 1 and "│ ollama:tinyllama:latest " in marked[0]
    assert f"unusable: notes ({machine['models'] / 'notes.gguf'}): not a GGUF file" in table.stdout

    for name, expected in [("nope", "model nope: not found"), ("notes", "cannot be used")]:
        refused = rag("models", "use", name, env=env)
        assert refused.returncode == 1 and "Traceback" not in refused.stderr
        lines = refused.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: ") and expected in lines[0]

    config = tmp_path / "rag.toml"
    config.write_text(f"[llm]\nmodel_dirs = [{json.dumps(str(machine['models']))}]\n")
    with_config = rag("--config", str(config), "models", "use", "deep-model", env=env)
    assert with_config.returncode == 0, with_config.stderr
    assert load_settings(config).llm.model_path.endswith("deep-model.gguf")
    assert load_settings(data_dir=data).llm.model_path == str(machine["ollama_blob"])
