"""Small, valid GGUF files written by hand, and a home with the model folders of other tools
(LM Studio, GPT4All, the Hugging Face hub cache, Ollama) built from them."""

from __future__ import annotations

import json
import struct
from pathlib import Path
from typing import Any

from rag_app.models import catalog as model_catalog
from rag_app.models.loading import bundled_gguf_path

OLLAMA_HEX = "ab" * 32


HF_HEX = "cd" * 32


TOOL_VARIABLES = ("HF_HOME", "HF_HUB_CACHE", "OLLAMA_MODELS", "XDG_DATA_HOME", "XDG_CACHE_HOME")


U8, U32, U64, STR, ARR = 0, 4, 10, 8, 9


def gguf_string(text: str | bytes) -> bytes:
    data = text.encode() if isinstance(text, str) else text
    return struct.pack("<Q", len(data)) + data


def gguf_value(kind: int, value: Any) -> bytes:
    if kind == STR:
        return gguf_string(value)
    if kind == ARR:
        inner, items = value
        return struct.pack("<IQ", inner, len(items)) + b"".join(gguf_value(inner, v) for v in items)
    return struct.pack({U8: "<B", U32: "<I", U64: "<Q"}[kind], value)


def gguf_bytes(
    metadata: list[tuple[str, int, Any]], tensors: int = 1, alignment: int = 32
) -> bytes:
    """A valid GGUF v3 file: the metadata, then ``tensors`` F32 tensors of 64 values."""
    body = b"GGUF" + struct.pack("<IQQ", 3, tensors, len(metadata))
    body += b"".join(gguf_string(key) + struct.pack("<I", kind) + gguf_value(kind, value)
                     for key, kind, value in metadata)  # fmt: skip
    for index in range(tensors):
        body += gguf_string(f"blk.{index}.weight") + struct.pack("<IQIQ", 1, 64, 0, index * 256)
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


HEADER = b"GGUF" + struct.pack("<I", 3)


def fake_machine(tmp_path: Path) -> dict[str, Path]:
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
