"""`rag models`: GGUF headers read by hand, models found in other tools' folders, switching.

The tool layouts (LM Studio, GPT4All, Hugging Face hub cache, Ollama) are built in a temporary
home from small, valid GGUF files written here, plus the real bundled model.
"""

from __future__ import annotations

import json
import os
import shutil
import struct
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from rag_app.errors import RagError
from rag_app.models import catalog as model_catalog
from rag_app.models.catalog import find_models, save_model_path, settings_file, use_model
from rag_app.models.gguf_header import FILE_TYPES, GgufError, read_header
from rag_app.models.loading import bundled_gguf_path
from rag_app.settings import Settings, load_settings

RAG = shutil.which("rag") or str(Path(__file__).parents[1] / ".venv" / "bin" / "rag")
OLLAMA_HEX = "ab" * 32
HF_HEX = "cd" * 32
TOOL_VARIABLES = ("HF_HOME", "HF_HUB_CACHE", "OLLAMA_MODELS", "XDG_DATA_HOME", "XDG_CACHE_HOME")

# -- writing GGUF files --------------------------------------------------------------------------

U8, U32, U64, STR, ARR = 0, 4, 10, 8, 9


def _string(text: str | bytes) -> bytes:
    data = text.encode() if isinstance(text, str) else text
    return struct.pack("<Q", len(data)) + data


def _value(kind: int, value: Any) -> bytes:
    if kind == STR:
        return _string(value)
    if kind == ARR:
        inner, items = value
        return struct.pack("<IQ", inner, len(items)) + b"".join(_value(inner, v) for v in items)
    return struct.pack({U8: "<B", U32: "<I", U64: "<Q"}[kind], value)


def gguf_bytes(
    metadata: list[tuple[str, int, Any]], tensors: int = 1, alignment: int = 32
) -> bytes:
    """A valid GGUF v3 file: the metadata, then ``tensors`` F32 tensors of 64 values."""
    body = b"GGUF" + struct.pack("<IQQ", 3, tensors, len(metadata))
    body += b"".join(_string(key) + struct.pack("<I", kind) + _value(kind, value)
                     for key, kind, value in metadata)  # fmt: skip
    for index in range(tensors):
        body += _string(f"blk.{index}.weight") + struct.pack("<IQIQ", 1, 64, 0, index * 256)
    body += b"\0" * (-len(body) % alignment)
    return body + b"\1" * 256 * tensors


def chat_metadata(
    name: str, arch: str = "llama", file_type: int = 15, context: int = 4096
) -> list[tuple[str, int, Any]]:
    return [
        ("general.architecture", STR, arch),
        ("general.name", STR, name),
        ("general.file_type", U32, file_type),
        ("tokenizer.ggml.tokens", ARR, (STR, ["<s>", "</s>", "hola", "x" * 3000])),
        ("tokenizer.ggml.token_type", ARR, (U32, [1, 1, 1, 1])),
        ("tokenizer.chat_template", STR, "{{ messages }}" * 200),  # long: skipped, not kept
        (f"{arch}.context_length", U64, context),
    ]


def write_model(path: Path, name: str, **fields: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gguf_bytes(chat_metadata(name, **fields)))
    return path


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


HEADER = b"GGUF" + struct.pack("<I", 3)


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
        (HEADER + struct.pack("<QQ", 1, 1) + _string("k") + struct.pack("<I", 99), "type 99"),
        (HEADER + struct.pack("<QQ", 1, 1) + _string("k") + struct.pack("<IIQ", ARR, U8, 2**60),
         "truncated"),
        (HEADER + struct.pack("<QQ", 1, 1) + _string("k") + struct.pack("<IIQ", ARR, STR, 2**60)
         + _string("a"), "truncated"),
        (HEADER + struct.pack("<QQ", 1, 1) + _string("k")
         + struct.pack("<IIQIQIQ", ARR, ARR, 1, ARR, 1, ARR, 1), "value type 9"),
        (HEADER + struct.pack("<QQ", 1, 0) + _string("w") + struct.pack("<I", 9), "dimensions"),
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
    home, models = tmp_path / "home", tmp_path / "models"
    lms = home / ".lmstudio" / "models" / "lmstudio-community" / "Qwen-GGUF"
    write_model(lms / "qwen-tiny-Q4_K_M.gguf", "Qwen tiny", arch="qwen2", context=32768)
    write_model(lms / "mmproj-qwen.gguf", "projector", arch="clip")
    write_model(home / ".cache/lm-studio/models/x/y/phi-tiny.gguf", "Phi", arch="phi3", file_type=7)
    gpt4all = model_catalog._gpt4all_folder(home, {})
    write_model(gpt4all / "gpt4all-tiny.gguf", "GPT4All tiny", file_type=2)
    hf_repo = home / ".cache/huggingface/hub/models--someone--Tiny-GGUF"
    write_model(hf_repo / "blobs" / HF_HEX, "HF tiny", file_type=17)
    snapshot = hf_repo / "snapshots" / ("0" * 40)
    snapshot.mkdir(parents=True)
    (snapshot / "tiny-Q5_K_M.gguf").symlink_to(Path("../../blobs") / HF_HEX)
    ollama = home / ".ollama" / "models"
    blob = write_model(ollama / "blobs" / f"sha256-{OLLAMA_HEX}", "TinyLlama", file_type=12)
    manifest = {
        "layers": [
            {"mediaType": "application/vnd.ollama.image.template", "digest": "sha256:" + "0" * 64},
            {"mediaType": "application/vnd.ollama.image.model", "digest": f"sha256:{OLLAMA_HEX}"},
        ]
    }
    manifests = ollama / "manifests" / "registry.ollama.ai"
    (manifests / "library" / "tinyllama").mkdir(parents=True)
    (manifests / "library" / "tinyllama" / "latest").write_text(json.dumps(manifest))
    (manifests / "someone" / "mymodel").mkdir(parents=True)
    (manifests / "someone" / "mymodel" / "v1").write_text(json.dumps(manifest))  # same blob
    (manifests / "evil" / "escape").mkdir(parents=True)
    evil = {"layers": [{"mediaType": manifest["layers"][1]["mediaType"], "digest": "sha256:../x"}]}
    (manifests / "evil" / "escape" / "latest").write_text(json.dumps(evil))
    (manifests / "broken" / "json").mkdir(parents=True)
    (manifests / "broken" / "json" / "latest").write_text("{not json")

    write_model(models / "qwen-tiny-Q4_K_M.gguf", "Another qwen", arch="qwen2")  # a taken stem
    write_model(models / "nested" / "deeper" / "deep-model.gguf", "Deep")
    (models / "broken.gguf").write_bytes(HEADER + b"\xff" * 40)
    (models / "notes.gguf").write_text("just some text, not a model")
    (models / "empty.gguf").write_bytes(b"")
    (models / "bundled-link.gguf").symlink_to(bundled_gguf_path())  # the bundled one again
    (models / "nested" / "loop").symlink_to(models)  # a symlink loop
    split = gguf_bytes(chat_metadata("Split"))
    (models / "split-00001-of-00002.gguf").write_bytes(split)
    (models / "split-00002-of-00002.gguf").write_bytes(split)
    return {"home": home, "models": models, "ollama_blob": blob, "hf_blob": hf_repo / "blobs"}


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


def rag(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [RAG, *args], capture_output=True, text=True, env=env, timeout=300, check=False
    )


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

    at = AppTest.from_file(str(Path(__file__).parents[1] / "ui" / "app.py"), default_timeout=180)
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
