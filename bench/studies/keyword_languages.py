"""Keyword weights in collections of two languages: one BM25 model over every page, or one per
language (what ``vectorstore/keyword.py`` does), on the app's own tokens and models.

Pages (XQuAD paragraphs, SciFact abstracts) go into the app's own ``KeywordIndex`` (one
chunk per page, in a scratch folder, cut by the app's rules: ``rag_app.text.language.SEARCH``)
and are searched through its page search (BM25 over log(1 + pages of the model)); the "one
model" arm gives the index a tokenizer that cuts the same tokens but labels every page with one
language, so only the weights differ. No embedder: it runs in a minute.

- page retrieval: MRR@10 and recall@5 of the questions' pages, per collection: XQuAD es alone,
  es + N SciFact abstracts (Spanish questions, and the SciFact claims whose abstracts are in),
  half the XQuAD articles in Spanish and half in English, and en + N SciFact (a control in
  one language);
- the page match the evidence confidence reads (``KeywordIndex.page_match``): for the Spanish
  questions, asked on their collection and with their own article left out, alone and beside
  the SciFact abstracts. A bar set on one-language collections holds in a mixed one only if
  these numbers stay where they were.

    .venv/bin/python -m bench.studies.keyword_languages [--scifact 1000]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from langchain_core.documents import Document

from bench.lib import SHARED_DATA, write_results
from rag_app.evaluation.corpora import Corpus, Query, load_beir, load_squad
from rag_app.text.language import SEARCH
from vectorstore.keyword import KeywordIndex

Unit = tuple[str, int]


def pages(corpus: Corpus, names: set[str] | None = None) -> list[Document]:
    """A chunk per page, with the ids and metadata the keyword index stores (it detects each
    one's language and tokenizes it as for the app's chunks)."""
    found: list[Document] = []
    for name, texts in corpus.documents:
        if names is not None and name not in names:
            continue
        for number, text in enumerate(texts, start=1):
            page = number if corpus.by_page else 0
            found.append(
                Document(
                    id=f"{name}\x00{page}",
                    page_content=text,
                    metadata={"doc_id": name, "page": page},
                )
            )
    return found


class OneLanguage:
    """The app's tokens under a single language label: one BM25 model over every page."""

    def language(self, text: str) -> str:
        return ""

    def tokens(self, text: str, language: str) -> list[str]:
        return SEARCH.tokens(text, SEARCH.language(text))

    def query(self, text: str) -> list[str]:
        return SEARCH.query(text)


def index(found: Sequence[Document], path: Path, per_language: bool) -> KeywordIndex:
    """The keyword index over ``found``: one BM25 model per language, or one for every page."""
    built = KeywordIndex(path, SEARCH if per_language else OneLanguage())
    built.add(found)
    return built


def unit(chunk_id: str) -> Unit:
    name, page = chunk_id.split("\x00")
    return name, int(page)


def retrieval(built: KeywordIndex, queries: Sequence[Query]) -> dict[str, float]:
    reciprocal, recall = [], []
    for query in queries:
        top = [unit(chunks[0]) for chunks, _ in built.search_pages(query.text, 10)]
        ranks = [i for i, u in enumerate(top) if u in query.relevant]
        reciprocal.append(1 / (ranks[0] + 1) if ranks else 0.0)
        recall.append(len([u for u in top[:5] if u in query.relevant]) / len(query.relevant))
    return {
        "mrr@10": round(statistics.fmean(reciprocal), 4),
        "recall@5": round(statistics.fmean(recall), 4),
    }


def page_match(built: KeywordIndex, queries: Sequence[Query], left_out: bool) -> dict[str, float]:
    values = []
    for query in queries:
        own = [next(iter(query.relevant))[0]] if left_out else []
        values.append(built.page_match(query.text, own))
    return {
        "mean": round(float(np.mean(values)), 3),
        "p10": round(float(np.percentile(values, 10)), 3),
        "p90": round(float(np.percentile(values, 90)), 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scifact", type=int, default=1000, metavar="N")
    args = parser.parse_args()
    es = load_squad(SHARED_DATA / "xquad" / "xquad.es.dev.json")
    en = load_squad(SHARED_DATA / "xquad" / "xquad.en.dev.json")
    scifact = load_beir(SHARED_DATA / "scifact", "train")
    scifact.documents = scifact.documents[: args.scifact]
    kept = {name for name, _ in scifact.documents}
    claims = [q for q in scifact.queries if all(name in kept for name, _ in q.relevant)]
    half = len(es.documents) // 2
    spanish_half = {name for name, _ in es.documents[:half]}
    english_half = {name for name, _ in en.documents[half:]}
    bilingual = [q for q in es.queries if next(iter(q.relevant))[0] in spanish_half] + [
        q for q in en.queries if next(iter(q.relevant))[0] in english_half
    ]
    n = len(scifact.documents)
    collections = {
        "XQuAD es alone": (pages(es), {"es questions": es.queries}),
        f"XQuAD es + {n} SciFact": (
            pages(es) + pages(scifact),
            {"es questions": es.queries, "SciFact claims": claims},
        ),
        "XQuAD half es, half en": (
            pages(es, spanish_half) + pages(en, english_half),
            {"es and en questions": bilingual},
        ),
        f"XQuAD en + {n} SciFact (one language)": (
            pages(en) + pages(scifact),
            {"en questions": en.queries, "SciFact claims": claims},
        ),
    }
    results: dict[str, dict[str, object]] = {}
    for name, (found, question_sets) in collections.items():
        for per_language in (False, True):
            arm = "one model per language" if per_language else "one model"
            with tempfile.TemporaryDirectory() as scratch:
                built = index(found, Path(scratch) / "keyword.sqlite", per_language)
                row: dict[str, object] = {
                    q: retrieval(built, qs) for q, qs in question_sets.items()
                }
                if "es questions" in question_sets:
                    row["page match, answerable"] = page_match(built, es.queries, left_out=False)
                    row["page match, own article left out"] = page_match(built, es.queries, True)
                built.close()
            results[f"{name}, {arm}"] = row
            print(f"{name}, {arm}: {row}", flush=True)
    write_results("keyword_languages", {"args": vars(args), "results": results})


if __name__ == "__main__":
    main()
