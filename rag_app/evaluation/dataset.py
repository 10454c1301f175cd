"""QA sets: JSONL, JSON or CSV files (our column names or Ragas's), and SQuAD v1.1 JSON.

Every problem is a ``RagError`` naming the file, the line (or item) and what to fix.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rag_app.errors import RagError

if TYPE_CHECKING:
    from rag_app.evaluation.schema import SampleFields

# field -> accepted column names, first preferred. `answer` is the reference answer (as in the
# issue); Ragas calls it `reference`. `contexts` are reference (gold) passages; what a system
# retrieved goes in `retrieved_contexts`, as in Ragas.
ALIASES: dict[str, tuple[str, ...]] = {
    "id": ("id",),
    "question": ("question", "user_input"),
    "reference": ("answer", "reference", "ground_truth"),
    "reference_contexts": ("contexts", "reference_contexts"),
    "response": ("response",),
    "retrieved_contexts": ("retrieved_contexts",),
    "retrieved_sources": ("retrieved_sources",),
    "source": ("source",),
    "page": ("page",),
    "unanswerable": ("unanswerable",),
    "keywords": ("keywords",),
    "type": ("type",),
}
TRUE, FALSE = {"true", "1", "yes", "y", "si", "sí"}, {"false", "0", "no", "n", ""}


@dataclass
class EvalSample:
    id: str
    question: str
    reference: str | None = None
    reference_contexts: list[str] = field(default_factory=list)
    response: str | None = None  # set in a scored dataset
    retrieved_contexts: list[str] = field(default_factory=list)
    retrieved_sources: list[tuple[str, int]] = field(default_factory=list)
    source: str | None = None
    page: int | None = None
    unanswerable: bool = False
    # phrases a right answer carries (the evidence and answer the user reads), and the kind of
    # question ("list", "definition", "unanswerable"...): `keyword_hit` per type in the report
    keywords: list[str] = field(default_factory=list)
    type: str | None = None

    def to_dict(self) -> SampleFields:
        return {
            "id": self.id,
            "question": self.question,
            "reference": self.reference,
            "reference_contexts": self.reference_contexts,
            "source": self.source,
            "page": self.page,
            "unanswerable": self.unanswerable,
            "keywords": self.keywords,
            "type": self.type,
        }


class _Bad(ValueError):
    """What is wrong with one row; the loader adds the file and line."""


def _text(value: Any, name: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str | int | float) or isinstance(value, bool):
        raise _Bad(f"'{name}' must be text, got {type(value).__name__}")
    text = str(value).strip()
    return text or None


def _texts(value: Any, name: str, in_csv: bool) -> list[str]:
    if value is None or value == "":
        return []
    if in_csv and isinstance(value, str) and value.lstrip().startswith("["):
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            raise _Bad(f"'{name}' starts with '[' but is not a JSON list of strings") from None
    if isinstance(value, str):
        return [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _Bad(f"'{name}' must be a list of strings")
    return [v for v in value if v.strip()]


def _page(value: Any) -> int | None:
    if value is None or value == "":
        return None
    try:
        page = int(value)
    except (TypeError, ValueError):
        raise _Bad(f"'page' must be a whole number, got {value!r}") from None
    if page < 1 or (isinstance(value, float) and value != page):
        raise _Bad(f"'page' must be a whole number from 1, got {value!r}")
    return page


def _flag(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if value is None:
        return False
    text = str(value).strip().lower()
    if text in TRUE or text in FALSE:
        return text in TRUE
    raise _Bad(f"'unanswerable' must be true or false, got {value!r}")


def _sources(value: Any) -> list[tuple[str, int]]:
    if value in (None, ""):
        return []
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            raise _Bad("'retrieved_sources' must be a JSON list of {source, page}") from None
    try:
        return [(str(v["source"]), int(v.get("page") or 0)) for v in value]
    except (TypeError, KeyError, AttributeError, ValueError):
        raise _Bad('\'retrieved_sources\' must be a list of {"source": ..., "page": ...}') from None


def sample_from_row(row: Mapping[str, Any], default_id: str, in_csv: bool = False) -> EvalSample:
    if not isinstance(row, Mapping):
        raise _Bad(f"expected an object with a 'question', got {type(row).__name__}")

    def get(name: str) -> Any:
        return next((row[c] for c in ALIASES[name] if c in row), None)

    question = _text(get("question"), "question")
    if not question:
        raise _Bad("no 'question' (or 'user_input'); every row needs one")
    return EvalSample(
        id=_text(get("id"), "id") or default_id,
        question=question,
        reference=_text(get("reference"), "answer"),
        reference_contexts=_texts(get("reference_contexts"), "contexts", in_csv),
        response=_text(get("response"), "response"),
        retrieved_contexts=_texts(get("retrieved_contexts"), "retrieved_contexts", in_csv),
        retrieved_sources=_sources(get("retrieved_sources")),
        source=_text(get("source"), "source"),
        page=_page(get("page")),
        unanswerable=_flag(get("unanswerable")),
        keywords=[k for k in _texts(get("keywords"), "keywords", in_csv) if k.strip()],
        type=_text(get("type"), "type"),
    )


def _jsonl_rows(path: Path, text: str) -> Iterator[tuple[str, Any]]:
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            yield f"line {number}", json.loads(line)
        except json.JSONDecodeError as exc:
            raise RagError(
                f"{path}, line {number}: not valid JSON ({exc.msg}); fix or remove the line"
            ) from None


def _csv_rows(text: str) -> Iterator[tuple[str, Any]]:
    reader = csv.DictReader(io.StringIO(text, newline=""))
    for row in reader:
        if any((v or "").strip() for v in row.values() if isinstance(v, str)):
            yield f"line {reader.line_num}", row


def _json_rows(path: Path, text: str) -> Iterator[tuple[str, Any]]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise RagError(f"{path}, line {exc.lineno}: not valid JSON ({exc.msg}); fix it") from None
    if isinstance(data, dict) and isinstance(data.get("data"), list):
        yield from _squad_rows(data["data"], path)
        return
    if isinstance(data, dict):
        data = data.get("samples", data.get("rows"))
    if not isinstance(data, list):
        raise RagError(
            f'{path}: expected a JSON list of rows (or {{"samples": [...]}}, or SQuAD v1.1)'
        )
    for number, row in enumerate(data, start=1):
        yield f"item {number}", row


def _squad_rows(articles: list[Any], path: Path) -> Iterator[tuple[str, Any]]:
    """One row per SQuAD question: the article is the source, the paragraph its page (as
    `rag bench retrieval --squad` ingests it)."""
    from rag_app.evaluation.corpora import squad_corpus

    for number, query in enumerate(squad_corpus(articles, path).queries, start=1):
        ((source, page),) = query.relevant
        row = {"id": query.id, "question": query.text, "answer": query.answer}
        yield f"question {number}", {**row, "source": source, "page": page}


def load_qa(path: Path) -> list[EvalSample]:
    """Read a QA set. Format by extension: .jsonl/.ndjson, .json (list, or SQuAD v1.1), .csv."""
    if not path.is_file():
        raise RagError(f"QA file {path}: not found; pass a .jsonl, .json or .csv file")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise RagError(f"QA file {path}: cannot be read as UTF-8 text ({exc})") from None
    return parse_qa(text, path)


def parse_qa(text: str, path: Path) -> list[EvalSample]:
    """A QA set from its text; ``path`` gives the format (by extension) and error messages."""
    suffix = path.suffix.lower()
    if suffix in (".jsonl", ".ndjson"):
        rows = _jsonl_rows(path, text)
    elif suffix == ".json":
        rows = _json_rows(path, text)
    elif suffix == ".csv":
        rows = _csv_rows(text)
    else:
        raise RagError(f"QA file {path}: unknown format {suffix!r}; use .jsonl, .json or .csv")
    samples: list[EvalSample] = []
    for where, row in rows:
        try:
            samples.append(sample_from_row(row, f"q{len(samples) + 1}", suffix == ".csv"))
        except _Bad as exc:
            raise RagError(f"{path}, {where}: {exc}; fix the row") from None
    if not samples:
        raise RagError(f"QA file {path}: no questions in it; add rows with a 'question'")
    return samples


def write_jsonl(path: Path, rows: list[dict[str, Any]]) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("w", encoding="utf-8") as handle:
            for row in rows:
                handle.write(json.dumps(row, ensure_ascii=False) + "\n")
    except OSError as exc:
        raise RagError(f"{path}: cannot be written ({exc}); choose another --out") from None
