"""`rag models`: GGUF headers read by hand, models found in other tools' folders, switching.

The tool layouts (LM Studio, GPT4All, Hugging Face hub cache, Ollama) are built in a temporary
home from small, valid GGUF files (tests/support/gguf.py), plus the real bundled model's header.
"""

from __future__ import annotations

import shutil
import struct
import time
from pathlib import Path
from typing import Any

import pytest

from rag_app.errors import RagError
from rag_app.models import catalog as model_catalog
from rag_app.models.catalog import find_models, save_model_path, use_model
from rag_app.models.gguf_header import FILE_TYPES, GgufError, read_header
from rag_app.models.loading import bundled_gguf_path
from rag_app.settings import Settings, load_settings, settings_file
from tests.support.gguf import (
    ARR,
    HEADER,
    STR,
    U8,
    U32,
    chat_metadata,
    fake_machine,
    gguf_bytes,
    gguf_string,
    write_model,
)

# -- writing GGUF files --------------------------------------------------------------------------


def header_error(path: Path, data: bytes) -> str:
    path.write_bytes(data)
    with pytest.raises(GgufError) as caught:
        read_header(path)
    return str(caught.value)


# -- the header ----------------------------------------------------------------------------------


def test_bundled_model_header() -> None:
    path = bundled_gguf_path()
    header = read_header(path)
    assert header.version == 3
    assert header.architecture == "llama"
    assert header.quantisation == "Q4_1"
    assert header.context_length == 8192
    assert header.title == "Smollm2 135M 8k Lc100K Mix1 Ep2"  # general.name, as written
    assert header.tensor_count > 0
    # The tensor table accounts for the whole file: the truncation check is exact here.
    assert header.data_bytes <= path.stat().st_size < header.data_bytes + 4096


def test_file_types_match_llama_cpp() -> None:
    llama_cpp = pytest.importorskip("llama_cpp")
    known = {
        getattr(llama_cpp, name): name.removeprefix("LLAMA_FTYPE_").removeprefix("MOSTLY_")
        for name in dir(llama_cpp)
        if name.startswith("LLAMA_FTYPE_") and name != "LLAMA_FTYPE_GUESSED"
    }
    assert known, "llama_cpp has no LLAMA_FTYPE_ constants"
    for value, name in known.items():
        assert FILE_TYPES.get(value) == name.replace("ALL_F32", "F32")


def test_synthetic_header_fields(tmp_path: Path) -> None:
    path = write_model(tmp_path / "m.gguf", "Tiny", arch="qwen2", file_type=15 | 1024)
    header = read_header(path)
    assert (header.architecture, header.title, header.context_length) == ("qwen2", "Tiny", 4096)
    assert header.quantisation == "Q4_K_M"  # the "guessed" bit is not part of the type
    assert "tokenizer.ggml.tokens" not in header.metadata  # arrays are skipped, not kept
    assert "tokenizer.chat_template" not in header.metadata
    assert header.data_bytes == path.stat().st_size


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "an empty file"),
        (b"PK\x03\x04 a zip file", "not a GGUF file"),
        (b"GGUF" + struct.pack("<IQQ", 1, 1, 1), "GGUF version 1 is not supported"),
        (b"GGUF" + struct.pack(">IQQ", 3, 1, 1), "big-endian"),
        (HEADER + struct.pack("<QQ", 2**40, 1), "corrupt GGUF header"),
        (HEADER + struct.pack("<QQ", 1, 2**62), "corrupt GGUF header"),
        (HEADER + struct.pack("<QQQ", 1, 1, 2**63), "impossible string length"),
        (HEADER + struct.pack("<QQ", 1, 1) + gguf_string("k") + struct.pack("<I", 99), "type 99"),
        (HEADER + struct.pack("<QQ", 1, 1) + gguf_string("k") + struct.pack("<IIQ", ARR, U8, 2**60),
         "truncated"),
        (HEADER + struct.pack("<QQ", 1, 1) + gguf_string("k") + struct.pack("<IIQ", ARR, STR, 2**60)
         + gguf_string("a"), "truncated"),
        (HEADER + struct.pack("<QQ", 1, 1) + gguf_string("k")
         + struct.pack("<IIQIQIQ", ARR, ARR, 1, ARR, 1, ARR, 1), "value type 9"),
        (HEADER + struct.pack("<QQ", 1, 0) + gguf_string("w") + struct.pack("<I", 9), "dimensions"),
        (gguf_bytes([("general.alignment", U32, 3)]), "alignment 3"),
        (gguf_bytes(chat_metadata("x"))[:-100], "truncated"),
    ],
)  # fmt: skip
def test_hostile_or_broken_headers(tmp_path: Path, data: bytes, reason: str) -> None:
    started = time.monotonic()
    assert reason in header_error(tmp_path / "bad.gguf", data)
    assert time.monotonic() - started < 2


def test_huge_vocabulary_is_skipped_quickly(tmp_path: Path) -> None:
    tokens = [f"token{i}" for i in range(300_000)]
    metadata = [*chat_metadata("Big vocab"), ("tokenizer.ggml.merges", ARR, (STR, tokens))]
    path = tmp_path / "big.gguf"
    path.write_bytes(gguf_bytes(metadata))
    started = time.monotonic()
    assert read_header(path).title == "Big vocab"
    assert time.monotonic() - started < 3


def test_truncated_copies_of_the_real_model(tmp_path: Path) -> None:
    source = bundled_gguf_path().read_bytes()
    assert "truncated GGUF header" in header_error(tmp_path / "head.gguf", source[:4096])
    assert "truncated: 10 of" in header_error(tmp_path / "part.gguf", source[:10_000_000])


def test_unreadable_file_is_an_entry_not_an_exception(tmp_path: Path) -> None:
    entry = model_catalog.describe_file(tmp_path / "gone.gguf", "model_dirs", "gone")
    assert entry.error and "cannot read it" in entry.error and not entry.usable


# -- the catalog ---------------------------------------------------------------------------------


@pytest.fixture
def machine(tmp_path: Path) -> dict[str, Path]:
    """A home with models from every tool, and a folder for llm.model_dirs."""
    return fake_machine(tmp_path)


def _settings(tmp_path: Path, machine: dict[str, Path], **llm: Any) -> Settings:
    llm.setdefault("model_dirs", [str(machine["models"])])
    return load_settings(data_dir=tmp_path / "data", llm=llm)


def by_name(tmp_path: Path, machine: dict[str, Path], **llm: Any) -> dict[str, Any]:
    settings = _settings(tmp_path, machine, **llm)
    entries = find_models(settings, home=machine["home"], environ={})
    names = [e.name for e in entries]
    assert len(names) == len(set(names)), names
    return {e.name: e for e in entries}


def test_finds_models_of_every_tool(tmp_path: Path, machine: dict[str, Path]) -> None:
    found = by_name(tmp_path, machine)
    origins = {name: entry.origin for name, entry in found.items()}
    assert origins == {
        "SmolLM2-135M-Instruct.Q4_1": "bundled",
        "qwen-tiny-Q4_K_M": "model_dirs",
        "deep-model": "model_dirs",
        "broken": "model_dirs",
        "notes": "model_dirs",
        "empty": "model_dirs",
        "split": "model_dirs",
        "lmstudio:qwen-tiny-Q4_K_M": "lmstudio",  # the stem was taken: prefixed
        "mmproj-qwen": "lmstudio",
        "phi-tiny": "lmstudio",
        "gpt4all-tiny": "gpt4all",
        "tiny-Q5_K_M": "huggingface",
        "ollama:tinyllama:latest": "ollama",  # someone/mymodel:v1 is the same blob: once
    }
    qwen = found["lmstudio:qwen-tiny-Q4_K_M"]
    assert (qwen.quantisation, qwen.context_length, qwen.architecture) == ("Q4_K_M", 32768, "qwen2")
    assert found["phi-tiny"].quantisation == "Q8_0"
    assert found["gpt4all-tiny"].quantisation == "Q4_0"
    hf = found["tiny-Q5_K_M"]
    assert hf.quantisation == "Q5_K_M" and hf.path.is_symlink() and hf.usable
    ollama = found["ollama:tinyllama:latest"]
    assert ollama.path == machine["ollama_blob"] and ollama.quantisation == "Q3_K_M"
    assert found["split"].size_mb == round(2 * machine["models"].joinpath(
        "split-00001-of-00002.gguf").stat().st_size / 1e6, 1)  # fmt: skip
    bundled = found["SmolLM2-135M-Instruct.Q4_1"]
    assert bundled.in_use and bundled.usable and 90 < bundled.size_mb < 110
    assert [e.name for e in found.values() if e.in_use] == [bundled.name]


def test_unusable_files_say_why(tmp_path: Path, machine: dict[str, Path]) -> None:
    found = by_name(tmp_path, machine)
    assert str(found["broken"].error).startswith("corrupt GGUF header (")
    assert found["notes"].error == "not a GGUF file"
    assert found["empty"].error == "an empty file"
    assert found["mmproj-qwen"].error == "a vision projector (clip), not a chat model"
    usable = {name for name, entry in found.items() if entry.usable}
    assert {"broken", "notes", "empty", "mmproj-qwen"}.isdisjoint(usable)


def test_namespaced_ollama_name(tmp_path: Path, machine: dict[str, Path]) -> None:
    library = machine["home"] / ".ollama/models/manifests/registry.ollama.ai/library"
    shutil.rmtree(library)
    assert "ollama:someone/mymodel:v1" in by_name(tmp_path, machine)


def test_configured_model_is_in_use(tmp_path: Path, machine: dict[str, Path]) -> None:
    found = by_name(tmp_path, machine, model_path=str(machine["ollama_blob"]))
    assert [e.name for e in found.values() if e.in_use] == ["ollama:tinyllama:latest"]
    elsewhere = write_model(tmp_path / "elsewhere" / "custom.gguf", "Custom")
    found = by_name(tmp_path, machine, model_path=str(elsewhere))
    assert found["custom"].origin == "settings" and found["custom"].in_use


def test_environment_locations(tmp_path: Path, machine: dict[str, Path]) -> None:
    """OLLAMA_MODELS and HF_HUB_CACHE move those stores; an empty home finds only those."""
    settings = _settings(tmp_path, machine, model_dirs=[])
    environ = {
        "OLLAMA_MODELS": str(machine["home"] / ".ollama" / "models"),
        "HF_HUB_CACHE": str(machine["home"] / ".cache" / "huggingface" / "hub"),
    }
    entries = find_models(settings, home=tmp_path / "empty-home", environ=environ)
    assert {e.origin for e in entries} == {"bundled", "huggingface", "ollama"}


# -- settings and choosing -----------------------------------------------------------------------


def test_load_settings_reads_the_data_dir_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "settings.toml").write_text("[retrieval]\nk = 7\n")
    assert load_settings(data_dir=data).retrieval.k == 7
    monkeypatch.setenv("RAG_DATA_DIR", str(data))
    assert load_settings().retrieval.k == 7
    monkeypatch.setenv("RAG_RETRIEVAL__K", "9")  # the environment still wins
    assert load_settings().retrieval.k == 9
    monkeypatch.delenv("RAG_RETRIEVAL__K")
    config = tmp_path / "other.toml"
    config.write_text("[retrieval]\nk = 5\n")
    assert load_settings(config).retrieval.k == 5  # a config file replaces it
    assert load_settings(data_dir=tmp_path / "no-such-dir").retrieval.k == 4


def test_save_keeps_the_rest_of_the_file(tmp_path: Path) -> None:
    path = tmp_path / "settings.toml"
    path.write_text("# my settings\n[llm]\nn_ctx = 2048  # enough\n\n[retrieval]\nk = 6\n")
    save_model_path(path, "/models/a.gguf")
    text = path.read_text()
    assert "# my settings" in text and "n_ctx = 2048  # enough" in text and "k = 6" in text
    assert 'model_path = "/models/a.gguf"' in text
    fresh = tmp_path / "new" / "settings.toml"
    save_model_path(fresh, "")
    assert fresh.read_text().strip() == '[llm]\nmodel_path = ""'
    (tmp_path / "bad.toml").write_text("[llm\n")
    with pytest.raises(RagError, match="fix the TOML syntax"):
        save_model_path(tmp_path / "bad.toml", "x")


def test_settings_file_choice(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert settings_file(None, tmp_path) == tmp_path / "settings.toml"
    assert settings_file(tmp_path / "c.toml", tmp_path / "d") == tmp_path / "c.toml"
    monkeypatch.setenv("RAG_CONFIG", str(tmp_path / "env.toml"))
    assert settings_file(None, tmp_path) == tmp_path / "env.toml"
    assert settings_file(None, tmp_path, environ={}) == tmp_path / "settings.toml"


def test_use_model_persists_and_refuses(tmp_path: Path, machine: dict[str, Path]) -> None:
    settings = _settings(tmp_path, machine)
    choice = use_model("PHI-TINY", settings, home=machine["home"], environ={})  # any case
    assert choice.settings_file == tmp_path / "data" / "settings.toml"
    assert choice.entry.name == "phi-tiny" and choice.overridden_by is None
    assert load_settings(data_dir=tmp_path / "data").llm.model_path == str(choice.entry.path)

    bundled = use_model(str(bundled_gguf_path()), settings, home=machine["home"], environ={})
    assert bundled.entry.origin == "bundled"  # found by path too; saved as "the bundled one"
    assert load_settings(data_dir=tmp_path / "data").llm.model_path == ""

    with pytest.raises(RagError, match="model nope: not found"):
        use_model("nope", settings, home=machine["home"], environ={})
    with pytest.raises(RagError, match=r"model notes: cannot be used \(not a GGUF file\)"):
        use_model("notes", settings, home=machine["home"], environ={})
    for environ in ({"RAG_LLM__MODEL_PATH": str(bundled_gguf_path())}, {"rag_llm__model_path": ""}):
        pinned = use_model("phi-tiny", settings, home=machine["home"], environ=environ)
        assert pinned.overridden_by and "RAG_LLM__MODEL_PATH" in pinned.overridden_by


# -- the command line, as a real process ---------------------------------------------------------
