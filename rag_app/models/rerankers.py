"""Rerankers on this machine: finding them (`rag models rerankers`), choosing one (`rag models
rerank NAME`), and loading the one ``retrieval.rerank`` names, once per process.

Two kinds are found, never downloaded: cross-encoders in the Hugging Face hub cache (a
snapshot whose config.json names a ``...ForSequenceClassification`` architecture with one
label), and GGUF files whose header says rank pooling, wherever `rag models` finds GGUF files.
Listing reads config files and GGUF headers only, within the catalog's bounds.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from rag_app.errors import RagError, first_line
from rag_app.models import catalog
from rag_app.models.gguf_header import GgufError, read_header
from rag_app.retrieval.rerank import (
    CrossEncoderReranker,
    GgufReranker,
    Reranker,
    hub_cache,
    hub_snapshot,
)
from rag_app.settings import Settings, is_gguf, settings_file

BUILT_IN = ("none", "llm")
MAX_CONFIG_BYTES = 256 * 1024
GGUF_CONTEXT = 1024  # tokens of one (question, passage) pair: a chunk and a question fit


@dataclass(frozen=True)
class RerankerEntry:
    """One reranker found on this machine, as `rag models rerankers` shows it."""

    name: str  # what `rag models rerank NAME` accepts
    kind: str  # cross-encoder | gguf
    origin: str  # huggingface, or where `rag models` found the GGUF file
    path: Path
    size_mb: float
    setting: str  # the value `rag models rerank` saves in retrieval.rerank
    architecture: str | None = None
    in_use: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "path": str(self.path)}


def find_rerankers(
    settings: Settings, home: Path | None = None, environ: Mapping[str, str] | None = None
) -> list[RerankerEntry]:
    """Cross-encoders in the hub cache, then GGUF rerankers; the one in use is marked."""
    home = home if home is not None else Path.home()
    environ = environ if environ is not None else os.environ
    entries = list(_cross_encoders(hub_cache(home, environ)))
    entries += _gguf_rerankers(settings, home, environ)
    current = settings.retrieval.rerank
    taken: set[str] = set()
    unique = []
    for entry in entries:
        name, number = entry.name, 2
        while name.lower() in taken:
            name, number = f"{entry.name}-{number}", number + 1
        taken.add(name.lower())
        in_use = current in (entry.setting, str(entry.path))
        unique.append(replace(entry, name=name, in_use=in_use))
    return unique


def _cross_encoders(cache: Path) -> Iterator[RerankerEntry]:
    for repo in catalog.walk_dirs(cache, lambda name: name.startswith("models--")):
        name = repo.name.removeprefix("models--").replace("--", "/")
        snapshot = hub_snapshot(name, cache)
        architecture = _classifier(snapshot / "config.json") if snapshot else None
        if snapshot is not None and architecture is not None:
            size = _folder_mb(snapshot)
            entry = RerankerEntry(name, "cross-encoder", "huggingface", snapshot, size, name)
            yield replace(entry, architecture=architecture)


def _classifier(config: Path) -> str | None:
    """The architecture of a model config that scores a pair with one number (a reranker):
    ``...ForSequenceClassification`` with one label. Classifiers with more labels (sentiment,
    NLI) are not rerankers."""
    try:
        with config.open("rb") as handle:
            data = json.loads(handle.read(MAX_CONFIG_BYTES))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict):
        return None
    names = data.get("architectures") or []
    found = [a for a in names if isinstance(a, str) and a.endswith("ForSequenceClassification")]
    labels = data.get("id2label")
    if not found or (isinstance(labels, dict) and len(labels) > 1):
        return None
    return found[0]


def _folder_mb(folder: Path) -> float:
    total = 0
    try:
        for item in folder.iterdir():
            if item.is_file():  # follows the snapshot's links into blobs/
                total += item.stat().st_size
    except OSError:
        pass
    return round(total / 1e6, 1)


def _gguf_rerankers(
    settings: Settings, home: Path, environ: Mapping[str, str]
) -> list[RerankerEntry]:
    """GGUF files with rank pooling, in the places `rag models` looks for GGUF files."""
    found = []
    for _, candidate in catalog.gguf_files(settings, home, environ):
        try:
            header = read_header(candidate.path)
        except GgufError:
            continue
        if header.is_reranker:
            path = candidate.path.absolute()
            size = catalog.size_mb(candidate.path)
            entry = RerankerEntry(candidate.label, "gguf", candidate.origin, path, size, str(path))
            found.append(replace(entry, architecture=header.architecture))
    return found


# -- choosing one ------------------------------------------------------------------------------


@dataclass(frozen=True)
class RerankChoice:
    setting: str  # the value saved in retrieval.rerank
    entry: RerankerEntry | None  # None for none and llm
    settings_file: Path
    overridden_by: str | None  # why the saved choice does not take effect, if it does not


def use_reranker(
    name: str,
    settings: Settings,
    config_file: str | Path | None = None,
    home: Path | None = None,
    environ: Mapping[str, str] | None = None,
) -> RerankChoice:
    """Save ``retrieval.rerank`` in the settings file (what `rag models rerank` calls): none,
    llm, a name from ``find_rerankers`` or a reranker's path."""
    environ = environ if environ is not None else os.environ
    entry = None
    if name.lower() in BUILT_IN:
        setting = name.lower()
    else:
        entry = _lookup(find_rerankers(settings, home, environ), name)
        setting = entry.setting
    target = settings_file(config_file, settings.data_dir, environ)
    catalog.save_setting(target, "retrieval", "rerank", setting)
    overridden = None
    if any(key.upper() == "RAG_RETRIEVAL__RERANK" for key in environ):
        overridden = "RAG_RETRIEVAL__RERANK is set and wins over the file; unset it"
    return RerankChoice(setting, entry, target, overridden)


def _lookup(entries: list[RerankerEntry], name: str) -> RerankerEntry:
    """The reranker a user means: its name or its setting (``catalog.pick``)."""
    missing = (
        f"reranker {name}: not found; `rag models rerankers` lists the names you can use "
        "(or use none, llm)"
    )
    return catalog.pick(entries, name, missing, aliases=lambda e: (e.name, e.setting))


# -- loading the one in use, once per process ---------------------------------------------------

_LOCK = threading.Lock()
_LOADED: dict[tuple[str, int | None], Reranker] = {}


def load_reranker(spec: str, threads: int | None = None) -> Reranker:
    """The model reranker ``retrieval.rerank`` names (a GGUF file, a cross-encoder folder, or
    a hub name found in the local cache), loaded on first use and then shared by the process.
    ``none`` and ``llm`` are not models: ``components.build_reranker`` handles them."""
    key = (spec, threads)
    with _LOCK:
        if key not in _LOADED:
            _LOADED[key] = _load(spec, threads)
        return _LOADED[key]


def _load(spec: str, threads: int | None) -> Reranker:
    path = Path(spec).expanduser()
    if path.is_file() and is_gguf(path):
        return _load_gguf(path, threads)
    if path.is_dir():
        return _load_cross_encoder(path, spec)
    snapshot = hub_snapshot(spec)
    if snapshot is None:
        raise RagError(
            f"reranker {spec}: not a file, a folder, or a model in the Hugging Face cache "
            f"({hub_cache()}); set retrieval.rerank to one `rag models rerankers` lists"
        )
    return _load_cross_encoder(snapshot, spec)


def _load_cross_encoder(folder: Path, name: str) -> Reranker:
    # A local folder needs no hub; don't let the libraries try to reach it.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    try:
        from sentence_transformers import CrossEncoder

        model = CrossEncoder(str(folder), local_files_only=True, device="cpu")
    except (OSError, ValueError, RuntimeError, KeyError) as exc:
        raise RagError(
            f"reranker {name}: cannot be loaded as a cross-encoder "
            f"({first_line(exc) or type(exc).__name__}); set retrieval.rerank to another "
            "reranker, or to none"
        ) from None
    return CrossEncoderReranker(model, name)


def _load_gguf(path: Path, threads: int | None) -> Reranker:
    try:
        header = read_header(path)
    except GgufError as exc:
        raise RagError(f"reranker {path}: {exc}; choose another GGUF file") from None
    if not header.is_reranker:
        raise RagError(
            f"reranker {path}: not a reranker (its header does not say rank pooling); "
            "choose one `rag models rerankers` lists"
        )
    context = min(header.context_length or GGUF_CONTEXT, GGUF_CONTEXT)
    try:
        llama = _llama(path, context, threads)
    except (ValueError, RuntimeError, OSError) as exc:
        raise RagError(
            f"reranker {path}: llama.cpp could not load it ({first_line(exc)}); check that the "
            "file is complete and that this llama-cpp-python build supports its architecture"
        ) from None
    return GgufReranker(llama, path.name)


def _llama(path: Path, context: int, threads: int | None) -> Any:
    import contextlib

    import llama_cpp

    from rag_app.models.llm import _LOAD_LOCK, cpu_has_amx, without_extra_buffer_types

    guard = without_extra_buffer_types() if cpu_has_amx() else contextlib.nullcontext()
    with _LOAD_LOCK, guard:
        return llama_cpp.Llama(
            model_path=str(path),
            embedding=True,
            pooling_type=llama_cpp.LLAMA_POOLING_TYPE_RANK,
            n_ctx=context,
            n_batch=context,  # a pair is decoded whole: one batch, one ubatch
            n_ubatch=context,
            n_threads=threads or os.cpu_count() or 1,
            n_gpu_layers=0,
            verbose=False,
        )
