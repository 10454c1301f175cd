"""Keyword weights in collections of two languages: one BM25 model over every page, or one per
language (what ``vectorstore/keyword.py`` does), on the app's own tokens and models.

Pages (XQuAD paragraphs, SciFact abstracts) are tokenized as the keyword index does and
searched through its ``_parts`` / ``_Built.top`` (BM25 over log(1 + pages of the model)); the
"one model" arm gives every page the same language label. No embedder: it runs in a minute.

- page retrieval: MRR@10 and recall@5 of the questions' pages, per collection: XQuAD es alone,
  es + N SciFact abstracts (Spanish questions, and the SciFact claims whose abstracts are in),
  half the XQuAD articles in Spanish and half in English, and en + N SciFact (a control in
  one language);
- the page match the evidence confidence reads (``KeywordIndex.page_match``): for the Spanish
  questions, asked on their collection and with their own article left out, alone and beside
  the SciFact abstracts. A bar set on one-language collections holds in a mixed one only if
  these numbers stay where they were.

    .venv/bin/python -m bench.keyword_languages [--scifact 1000]
"""

from __future__ import annotations

import argparse
import statistics
from collections.abc import Sequence

import numpy as np

from bench.lib import SHARED_DATA, write_results
from rag_app.evaluation.corpora import Corpus, Query, load_beir, load_squad
from rag_app.text.language import detect_language, tokenize
from vectorstore.keyword import Row, _Built, _parts

Unit = tuple[str, int]


def rows(corpus: Corpus, names: set[str] | None = None) -> list[Row]:
    """A row per page (the keyword index's row layout), its language detected."""
    found: list[Row] = []
    for name, pages in corpus.documents:
        if names is not None and name not in names:
            continue
        for number, text in enumerate(pages, start=1):
            page = number if corpus.by_page else 0
            language = detect_language(text)
            found.append(
                (f"{name}\x00{page}", name, " ".join(tokenize(text, language)), page, language)
            )
    return found


def model(found: Sequence[Row], per_language: bool) -> _Built:
    labelled = found if per_language else [(*row[:4], "") for row in found]
    return _Built(0, _parts(labelled, pages=True))


def unit(chunk_id: str) -> Unit:
    name, page = chunk_id.split("\x00")
    return name, int(page)


def retrieval(built: _Built, queries: Sequence[Query]) -> dict[str, float]:
    reciprocal, recall = [], []
    for query in queries:
        top = [unit(chunks[0]) for chunks, _ in built.top(query.text, 10, (), None)]
        ranks = [i for i, u in enumerate(top) if u in query.relevant]
        reciprocal.append(1 / (ranks[0] + 1) if ranks else 0.0)
        recall.append(len([u for u in top[:5] if u in query.relevant]) / len(query.relevant))
    return {
        "mrr@10": round(statistics.fmean(reciprocal), 4),
        "recall@5": round(statistics.fmean(recall), 4),
    }


def page_match(built: _Built, queries: Sequence[Query], left_out: bool) -> dict[str, float]:
    values = []
    for query in queries:
        own = [next(iter(query.relevant))[0]] if left_out else []
        found = built.top(query.text, 1, own, None)
        values.append(found[0][1] if found else 0.0)
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
        "XQuAD es alone": (rows(es), {"es questions": es.queries}),
        f"XQuAD es + {n} SciFact": (
            rows(es) + rows(scifact),
            {"es questions": es.queries, "SciFact claims": claims},
        ),
        "XQuAD half es, half en": (
            rows(es, spanish_half) + rows(en, english_half),
            {"es and en questions": bilingual},
        ),
        f"XQuAD en + {n} SciFact (one language)": (
            rows(en) + rows(scifact),
            {"en questions": en.queries, "SciFact claims": claims},
        ),
    }
    results: dict[str, dict[str, object]] = {}
    for name, (found, question_sets) in collections.items():
        for per_language in (False, True):
            built = model(found, per_language)
            arm = "one model per language" if per_language else "one model"
            row: dict[str, object] = {q: retrieval(built, qs) for q, qs in question_sets.items()}
            if "es questions" in question_sets:
                row["page match, answerable"] = page_match(built, es.queries, left_out=False)
                row["page match, own article left out"] = page_match(built, es.queries, True)
            results[f"{name}, {arm}"] = row
            print(f"{name}, {arm}: {row}", flush=True)
    write_results("keyword_languages", {"args": vars(args), "results": results})


if __name__ == "__main__":
    main()
