"""GGUF chat models already on this machine, and switching the app to one of them.

Users often have models from other local-LLM tools (LM Studio, GPT4All, the Hugging Face hub
cache, Ollama). Each candidate's header is read (``rag_app.models.gguf_header``), never
loaded, and every folder walk is bounded, so listing stays quick and safe on any machine.

Over 400 lines because each tool keeps its models its own way (a folder layout, a manifest,
a blob store); one module keeps every layout and the one rule for what is usable together.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from itertools import islice
from pathlib import Path
from typing import Any, Protocol, TypeVar

from rag_app.errors import RagError
from rag_app.models.gguf_header import GgufError, check_chat_model, read_header
from rag_app.retrieval.rerank import hub_cache
from rag_app.settings import Settings, settings_file

# The configured model comes last, so a file found in a tool's cache keeps that origin and name.
ORIGINS = ("bundled", "model_dirs", "lmstudio", "gpt4all", "huggingface", "ollama", "settings")
_PREFIX = {"model_dirs": "dir", "huggingface": "hf"}  # name prefix when a stem is taken
MAX_DEPTH = 6  # LM Studio nests publisher/model/file; HF snapshots a few folders deep
MAX_FOLDERS = 5_000  # per root
MAX_FILES = 500  # per root
MAX_ENTRIES = 10_000  # per folder
_SPLIT = re.compile(r"^(?P<stem>.+)-(?P<part>\d{5})-of-(?P<total>\d{5})\.gguf$", re.IGNORECASE)
_DIGEST = re.compile(r"^sha256[:-](?P<hex>[0-9a-f]{64})$")
OLLAMA_MODEL = "application/vnd.ollama.image.model"
MAX_MANIFEST_BYTES = 1024 * 1024


@dataclass(frozen=True)
class ModelEntry:
    """One GGUF file found on this machine, as `rag models` and the UI show it."""

    name: str  # what `rag models use NAME` accepts
    origin: str
    path: Path
    size_mb: float
    quantisation: str | None = None
    context_length: int | None = None
    architecture: str | None = None
    title: str | None = None  # general.name
    in_use: bool = False
    error: str | None = None

    @property
    def usable(self) -> bool:
        return self.error is None

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "path": str(self.path)}


@dataclass(frozen=True)
class _Candidate:
    origin: str
    path: Path
    label: str  # the preferred name: the file's stem, or ollama:model:tag


def find_models(
    settings: Settings, home: Path | None = None, environ: Mapping[str, str] | None = None
) -> list[ModelEntry]:
    """Every GGUF model found, in the order of ``ORIGINS``, each file once (symlinks and hard
    links to one file are one file).

    ``home`` and ``environ`` default to the user's; tests give a temporary home instead.
    """
    home = home if home is not None else Path.home()
    environ = environ if environ is not None else os.environ
    current = _current_model(settings)
    entries: list[ModelEntry] = []
    for identity, candidate in gguf_files(settings, home, environ):
        entry = describe_file(candidate.path, candidate.origin, candidate.label)
        entries.append(replace(entry, in_use=identity == current))
    return _unique_names(entries)


def describe_file(path: Path, origin: str, name: str) -> ModelEntry:
    """One entry; any problem with the file becomes its ``error``, never an exception."""
    size = size_mb(path)
    try:
        header = read_header(path)
        check_chat_model(header)
    except GgufError as exc:
        return ModelEntry(name, origin, path, size, error=str(exc))
    return ModelEntry(
        name,
        origin,
        path,
        size,
        quantisation=header.quantisation,
        context_length=header.context_length,
        architecture=header.architecture,
        title=header.title,
    )


def gguf_files(
    settings: Settings, home: Path, env: Mapping[str, str]
) -> Iterator[tuple[object, _Candidate]]:
    """Every GGUF file this catalog looks at, unread, each once (symlinks and hard links to
    one file are one file), with its identity: the chat models' and the rerankers' lists."""
    seen: set[object] = set()
    for candidate in _candidates(settings, home, env):
        identity = _identity(candidate.path)
        if identity not in seen:
            seen.add(identity)
            yield identity, candidate


def _candidates(settings: Settings, home: Path, env: Mapping[str, str]) -> Iterator[_Candidate]:
    try:
        from rag_app.models.loading import (
            bundled_gguf_path,  # models loads langchain: not at import
        )

        bundled = bundled_gguf_path()
        yield _Candidate("bundled", bundled, bundled.stem)
    except RagError:
        pass  # not installed: the other models can still be listed
    folders = {
        "model_dirs": [Path(d).expanduser() for d in settings.llm.model_dirs],
        "lmstudio": [home / ".lmstudio" / "models", home / ".cache" / "lm-studio" / "models"],
        "gpt4all": [_gpt4all_folder(home, env)],
    }
    for origin, roots in folders.items():
        for root in roots:
            yield from _gguf_files(origin, root)
    yield from _huggingface(_hf_hub_cache(home, env))
    yield from _ollama(_ollama_folder(home, env))
    if settings.llm.model_path:
        path = Path(settings.llm.model_path).expanduser()
        yield _Candidate("settings", path, path.stem)


def _gguf_files(origin: str, root: Path) -> Iterator[_Candidate]:
    """The .gguf files under a folder; of a split model only its first part (llama.cpp loads
    the rest from it)."""
    for path in walk_files(root, lambda name: name.lower().endswith(".gguf")):
        split = _SPLIT.match(path.name)
        if split and int(split["part"]) != 1:
            continue
        yield _Candidate(origin, path, split["stem"] if split else path.stem)


def walk_files(
    root: Path, wanted: Callable[[str], bool], max_depth: int = MAX_DEPTH
) -> Iterator[Path]:
    """Files under ``root`` whose name ``wanted(name)`` accepts, in sorted order. Bounded:
    depth, folders, entries per folder and files are capped, a folder reached twice (a symlink
    loop) is walked once, hidden and unreadable folders are skipped."""
    stack: list[tuple[Path, int]] = [(root, 0)]
    seen: set[tuple[int, int]] = set()
    folders = found = 0
    while stack and folders < MAX_FOLDERS and found < MAX_FILES:
        folder, depth = stack.pop()
        try:
            status = folder.stat()
            if (status.st_dev, status.st_ino) in seen:
                continue
            seen.add((status.st_dev, status.st_ino))
            with os.scandir(folder) as scan:
                items = sorted(islice(scan, MAX_ENTRIES), key=lambda item: item.name)
        except OSError:
            continue
        folders += 1
        subfolders = []
        for item in items:
            try:
                if item.is_dir():
                    if depth < max_depth and not item.name.startswith("."):
                        subfolders.append((Path(item.path), depth + 1))
                elif item.is_file() and wanted(item.name) and found < MAX_FILES:
                    found += 1
                    yield Path(item.path)
            except OSError:
                continue
        stack.extend(reversed(subfolders))


def _gpt4all_folder(home: Path, env: Mapping[str, str]) -> Path:
    """GPT4All keeps models in Qt's app-local data folder, per platform."""
    if sys.platform == "darwin":
        return home / "Library" / "Application Support" / "nomic.ai" / "GPT4All"
    if sys.platform == "win32":
        local = env.get("LOCALAPPDATA")
        return (Path(local) if local else home / "AppData" / "Local") / "nomic.ai" / "GPT4All"
    data = env.get("XDG_DATA_HOME")
    return (Path(data) if data else home / ".local" / "share") / "nomic.ai" / "GPT4All"


def _hf_hub_cache(home: Path, env: Mapping[str, str]) -> Path:
    """Where huggingface_hub downloads to, by the same variables it reads."""
    return hub_cache(home, env)


def _huggingface(cache: Path) -> Iterator[_Candidate]:
    """GGUF files in the hub cache's snapshots (symlinks into ``blobs/``)."""
    repos = walk_dirs(cache, lambda name: name.startswith("models--"))
    for repo in repos:
        yield from _gguf_files("huggingface", repo / "snapshots")


def walk_dirs(root: Path, wanted: Callable[[str], bool]) -> list[Path]:
    """The folders directly in ``root`` whose name ``wanted(name)`` accepts, sorted, capped."""
    try:
        with os.scandir(root) as scan:
            items = list(islice(scan, MAX_ENTRIES))
            names = sorted(item.name for item in items if wanted(item.name) and item.is_dir())
    except OSError:
        return []
    return [root / name for name in names]


def _ollama_folder(home: Path, env: Mapping[str, str]) -> Path:
    return (
        Path(env["OLLAMA_MODELS"]).expanduser()
        if env.get("OLLAMA_MODELS")
        else (home / ".ollama" / "models")
    )


def _ollama(root: Path) -> Iterator[_Candidate]:
    """Ollama's models: ``manifests/<registry>/<namespace>/<model>/<tag>`` JSON files name the
    weights' blob (``blobs/sha256-<hex>``, no extension) by digest."""
    manifests = root / "manifests"
    for manifest in walk_files(manifests, lambda _name: True, max_depth=3):
        parts = manifest.relative_to(manifests).parts
        digest = _model_digest(manifest) if len(parts) == 4 else None
        if digest is not None:
            yield _Candidate("ollama", root / "blobs" / f"sha256-{digest}", _ollama_name(parts))


def _model_digest(manifest: Path) -> str | None:
    """The hex digest of a manifest's model layer; None for anything unexpected."""
    try:
        with manifest.open("rb") as handle:
            data = json.loads(handle.read(MAX_MANIFEST_BYTES + 1)[:MAX_MANIFEST_BYTES])
    except (OSError, ValueError):
        return None
    layers = data.get("layers") if isinstance(data, dict) else None
    for layer in layers if isinstance(layers, list) else []:
        if isinstance(layer, dict) and layer.get("mediaType") == OLLAMA_MODEL:
            match = _DIGEST.match(str(layer.get("digest", "")))
            return match["hex"] if match else None  # the pattern keeps it inside blobs/
    return None


def _ollama_name(parts: tuple[str, ...]) -> str:
    """The name Ollama itself shows: ``model:tag``, with the namespace and registry when they
    are not the defaults."""
    registry, namespace, model, tag = parts
    if registry != "registry.ollama.ai":
        model = f"{registry}/{namespace}/{model}"
    elif namespace != "library":
        model = f"{namespace}/{model}"
    return f"ollama:{model}:{tag}"


def _unique_names(entries: list[ModelEntry]) -> list[ModelEntry]:
    """Keep each file's stem where it is free; a later file with a taken stem gets its
    origin as a prefix, then a number. Earlier origins win, so names stay put."""
    taken: set[str] = set()
    unique = []
    for entry in entries:
        name = entry.name
        if name.lower() in taken and entry.origin != "ollama":
            name = f"{_PREFIX.get(entry.origin, entry.origin)}:{name}"
        base, number = name, 2
        while name.lower() in taken:
            name, number = f"{base}-{number}", number + 1
        taken.add(name.lower())
        unique.append(replace(entry, name=name))
    return unique


def _current_model(settings: Settings) -> object:
    """The identity of the GGUF in use; None when an endpoint answers instead."""
    if settings.llm.base_url:
        return None
    try:
        from rag_app.models.loading import gguf_location

        return _identity(gguf_location(settings.llm))
    except RagError:
        return None


def _identity(path: Path) -> object:
    """The file itself (device and inode), whatever the path; the real path if it has none."""
    try:
        status = path.stat()
    except OSError:
        return _real(path)
    return (status.st_dev, status.st_ino)


def _real(path: Path) -> Path:
    try:
        return path.resolve()
    except (OSError, RuntimeError):  # a symlink loop
        return path.absolute()


def size_mb(path: Path) -> float:
    """Megabytes, one decimal, the parts of a split model summed."""
    return round(_size(path) / 1e6, 1)


def _size(path: Path) -> int:
    """Bytes, the parts of a split model summed."""
    try:
        split = _SPLIT.match(path.name)
        if not split:
            return path.stat().st_size
        parts = path.parent.glob(f"{glob_escape(split['stem'])}-*-of-{split['total']}.gguf")
        return sum(part.stat().st_size for part in parts)
    except OSError:
        return 0


def glob_escape(text: str) -> str:
    return re.sub(r"([*?\[])", r"[\1]", text)


# -- choosing one ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Choice:
    entry: ModelEntry
    settings_file: Path
    overridden_by: str | None  # why the saved choice does not take effect, if it does not


class Named(Protocol):
    @property
    def name(self) -> str: ...
    @property
    def path(self) -> Path: ...


N = TypeVar("N", bound=Named)


def pick(
    entries: Sequence[N],
    name: str,
    missing: str,
    aliases: Callable[[N], Sequence[str]] = lambda e: (e.name,),
) -> N:
    """The entry a user means: its name (or another of its ``aliases``), its name in any
    case, or its path; else ``missing`` as the error."""
    exact = [e for e in entries if name in aliases(e)]
    folded = [e for e in entries if e.name.lower() == name.lower()]
    wanted = _real(Path(name).expanduser())
    by_path = [e for e in entries if _real(e.path) == wanted]
    for found in (exact, folded, by_path):
        if len(found) == 1:
            return found[0]
    raise RagError(missing)


def lookup(entries: list[ModelEntry], name: str) -> ModelEntry:
    """The chat model a user means (``pick``)."""
    return pick(entries, name, f"model {name}: not found; `rag models` lists the names you can use")


def save_model_path(path: Path, model_path: str) -> None:
    """Set ``llm.model_path`` in a TOML file (``save_setting``)."""
    save_setting(path, "llm", "model_path", model_path)


def save_setting(path: Path, section: str, key: str, value: str) -> None:
    """Set ``section.key`` in a TOML file, keeping everything else in it (comments too);
    written to a temporary file, then renamed, so a crash never leaves half a file."""
    import tomlkit
    from tomlkit.exceptions import TOMLKitError

    try:
        document = tomlkit.parse(path.read_text("utf-8")) if path.exists() else tomlkit.document()
        table = document.get(section)
        if table is None:
            document[section] = table = tomlkit.table()
        if not isinstance(table, dict):
            raise RagError(f"settings file {path}: `{section}` is not a table; fix the file")
        table[key] = value
        _write_atomically(path.resolve(), tomlkit.dumps(document))  # a symlink stays one
    except TOMLKitError as exc:
        raise RagError(f"settings file {path}: {exc}; fix the TOML syntax") from None
    except OSError as exc:
        raise RagError(f"settings file {path}: cannot write it ({exc.strerror})") from None


def _write_atomically(path: Path, text: str) -> None:
    """Write a sibling temporary file, then rename it over ``path``: a crash or a full disk
    never leaves half a settings file. The file keeps its permissions."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(
        "w", encoding="utf-8", dir=path.parent, prefix=".settings-", delete=False
    ) as temporary:
        temporary_path = Path(temporary.name)
    try:
        temporary_path.write_text(text, encoding="utf-8")
        if path.exists():
            shutil.copymode(path, temporary_path)
        os.replace(temporary_path, path)
    finally:
        temporary_path.unlink(missing_ok=True)


def use_model(
    name: str,
    settings: Settings,
    config_file: str | Path | None = None,
    home: Path | None = None,
    environ: Mapping[str, str] | None = None,
) -> Choice:
    """Persist the chosen model as ``llm.model_path`` (what `rag models use` and the UI call).

    The bundled model is saved as an empty path, which means "the bundled one" and survives
    a reinstall that moves it.
    """
    environ = environ if environ is not None else os.environ
    entry = lookup(find_models(settings, home, environ), name)
    if not entry.usable:
        raise RagError(f"model {entry.name}: cannot be used ({entry.error}); choose another")
    target = settings_file(config_file, settings.data_dir, environ)
    # Absolute, not resolved: a hub snapshot's link keeps its readable name.
    save_model_path(target, "" if entry.origin == "bundled" else str(entry.path.absolute()))
    overridden = None
    if any(key.upper() == "RAG_LLM__MODEL_PATH" for key in environ):  # even empty, it wins
        overridden = "RAG_LLM__MODEL_PATH is set and wins over the file; unset it"
    elif settings.llm.base_url:
        overridden = "llm.base_url is set, so an endpoint answers; clear it to use a local model"
    return Choice(replace(entry, in_use=overridden is None), target, overridden)
