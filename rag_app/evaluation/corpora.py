"""Public corpora for the retrieval benchmark and the QA sets: BEIR folders (corpus, queries,
qrels) and SQuAD v1.1 files, read into documents, queries and their relevant units."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rag_app.errors import RagError

SPLITS = ("test", "train", "dev")

Unit = tuple[str, int]  # (document name, page); page 0 when the unit is the whole document
# Progress stages reported here: "embed" while ingesting, "query" while retrieving.


@dataclass(frozen=True)
class Query:
    id: str
    text: str
    relevant: dict[Unit, float]  # unit -> graded relevance (> 0)
    answer: str = ""  # SQuAD: the first reference answer span


@dataclass
class Corpus:
    name: str  # used in result file names, e.g. "scifact-train"
    documents: list[tuple[str, list[str]]]  # (name, pages), as RagService.ingest_texts takes
    queries: list[Query]
    by_page: bool  # True: a unit is (document, page); False: the whole document
    split: str | None = None


# -- loaders ------------------------------------------------------------------------------
def _read_jsonl(path: Path) -> list[dict[str, Any]]:
    if not path.is_file():
        raise RagError(f"{path}: file not found; check the corpus folder")
    rows: list[dict[str, Any]] = []
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                raise RagError(
                    f"{path}, line {number}: not valid JSON ({exc.msg}); fix or remove it"
                ) from None
            if not isinstance(row, dict) or "_id" not in row:
                raise RagError(f"{path}, line {number}: expected an object with '_id'; fix it")
            rows.append(row)
    return rows


def _read_qrels(path: Path) -> dict[str, dict[str, float]]:
    if not path.is_file():
        found = sorted(p.stem for p in path.parent.glob("*.tsv"))
        raise RagError(f"{path}: file not found; choose a split among {found or list(SPLITS)}")
    qrels: dict[str, dict[str, float]] = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        cells = line.strip().split("\t") if line.strip() else []
        if len(cells) == 4:  # TREC form: query-id, iteration, corpus-id, score
            cells = [cells[0], cells[2], cells[3]]
        try:
            query_id, doc_id, score = cells[0], cells[1], float(cells[2])
        except (IndexError, ValueError):
            if number == 1 or not cells:  # the header line, or a blank one
                continue
            raise RagError(
                f"{path}, line {number}: expected 'query-id<TAB>corpus-id<TAB>score'; fix it"
            ) from None
        qrels.setdefault(query_id, {})[doc_id] = score
    return qrels


def load_beir(folder: Path, split: str = "test") -> Corpus:
    """A BEIR folder: corpus.jsonl, queries[_<split>].jsonl, qrels/<split>.tsv."""
    if split not in SPLITS:
        raise RagError(f"split {split!r}: unknown; use one of {', '.join(SPLITS)}")
    if not folder.is_dir():
        raise RagError(f"{folder}: folder not found; pass a BEIR corpus folder")
    qrels_file = folder / "qrels" / f"{split}.tsv"
    qrels = _read_qrels(qrels_file)
    queries_file = folder / f"queries_{split}.jsonl"
    if not queries_file.is_file():
        queries_file = folder / "queries.jsonl"
    if not queries_file.is_file():
        raise RagError(f"{folder}: no queries_{split}.jsonl or queries.jsonl; add the queries")
    texts = {str(row["_id"]): str(row.get("text") or "") for row in _read_jsonl(queries_file)}
    documents = [
        (str(row["_id"]), [f"{row.get('title') or ''}\n\n{row.get('text') or ''}"])
        for row in _read_jsonl(folder / "corpus.jsonl")
    ]
    unknown = sorted(set(qrels) - set(texts))
    if unknown:
        raise RagError(
            f"{qrels_file}: query ids {unknown[:5]} are not in "
            f"{queries_file.name}; use the queries file of the same split"
        )
    queries = [
        Query(qid, text, {(doc, 0): g for doc, g in qrels[qid].items() if g > 0})
        for qid, text in texts.items()
        if text.strip() and qid in qrels and any(g > 0 for g in qrels[qid].values())
    ]
    return Corpus(f"{folder.name}-{split}", documents, queries, by_page=False, split=split)


def load_squad(path: Path) -> Corpus:
    """SQuAD v1.1 JSON: one document per article, one page per paragraph."""
    if not path.is_file():
        raise RagError(f"{path}: file not found; pass a SQuAD v1.1 JSON file")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        articles = data["data"]
    except json.JSONDecodeError as exc:
        raise RagError(f"{path}, line {exc.lineno}: not valid JSON ({exc.msg}); fix it") from None
    except (KeyError, TypeError):
        raise RagError(f"{path}: no 'data' list; expected SQuAD v1.1 JSON") from None
    return squad_corpus(articles, path)


def squad_corpus(articles: Any, path: Path) -> Corpus:
    """SQuAD articles (the file's 'data' list) as a corpus; ``path`` names it in messages."""
    documents: list[tuple[str, list[str]]] = []
    queries: list[Query] = []
    seen: set[str] = set()
    try:
        for article in articles:
            name, n = str(article["title"]), 1
            while name in seen:
                n += 1
                name = f"{article['title']} ({n})"
            seen.add(name)
            pages: list[str] = []
            for page, paragraph in enumerate(article["paragraphs"], start=1):
                pages.append(str(paragraph["context"]).removeprefix("\ufeff"))
                for qa in paragraph["qas"]:
                    if str(qa["question"]).strip():
                        answers = qa.get("answers") or [{}]
                        queries.append(
                            Query(
                                str(qa["id"]),
                                str(qa["question"]),
                                {(name, page): 1.0},
                                str(answers[0].get("text", "")),
                            )
                        )
            documents.append((name, pages))
    except (KeyError, TypeError) as exc:
        raise RagError(
            f"{path}: an article lacks {exc} (title, paragraphs, context, qas, id, question); "
            "expected SQuAD v1.1 JSON"
        ) from None
    return Corpus(path.name.removesuffix(".json"), documents, queries, by_page=True)
