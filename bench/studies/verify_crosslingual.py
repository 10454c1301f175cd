"""How close in meaning, for the bundled embedder, is a sentence to its translation, compared
with another sentence of the same paragraph? This sets ``CROSS_LINGUAL_SUPPORT`` in
``rag_app/verify.py`` (an answer sentence in one language supported by evidence in the other).

XQuAD's Spanish and English paragraphs are translations: where both split into the same
number of sentences, sentence i of one is taken as the translation of sentence i of the other.

    .venv/bin/python -m bench.studies.verify_crosslingual [--paragraphs 60] [--model all-MiniLM-L6-v2]

Cosines are rescaled from the embedder's floor (``rag_app/calibration.py``), as the check does.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from bench.lib import SHARED_DATA, percentile, write_results
from rag_app.answering.evidence import cosine, rescaled
from rag_app.answering.verify import CROSS_LINGUAL_SUPPORT
from rag_app.models import loading as models
from rag_app.settings import EmbeddingSettings
from rag_app.text.units import split_sentences


def aligned_paragraphs(data: Path, most: int) -> list[tuple[list[str], list[str]]]:
    def contexts(name: str) -> list[str]:
        articles = json.loads((data / name).read_text(encoding="utf-8"))["data"]
        return [p["context"].removeprefix("\ufeff") for a in articles for p in a["paragraphs"]]

    pairs = []
    for es, en in zip(contexts("xquad.es.dev.json"), contexts("xquad.en.dev.json"), strict=True):
        es_s, en_s = split_sentences(es), split_sentences(en)
        if len(es_s) == len(en_s) >= 2:
            pairs.append((es_s, en_s))
    return pairs[:most]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--paragraphs", type=int, default=60)
    parser.add_argument("--data", type=Path, default=SHARED_DATA / "xquad")
    parser.add_argument("--model", default="", help="embedding.model (default: the default)")
    args = parser.parse_args()
    chosen = EmbeddingSettings(model=args.model) if args.model else EmbeddingSettings()
    embed = models.build_embeddings(chosen).embed_documents
    floor = models.measured(chosen).cosine_floor  # as the check rescales
    same: list[float] = []
    other: list[float] = []
    for es, en in aligned_paragraphs(args.data, args.paragraphs):
        ves, ven = embed(es), embed(en)
        for i, a in enumerate(ves):
            for j, b in enumerate(ven):
                (same if i == j else other).append(rescaled(cosine(a, b), floor))
    summary = {
        "embedder": models.embedder_name(chosen),
        "cosine_floor": floor,
        "translations": len(same),
        "other_pairs": len(other),
        "translation_p10_p50": [round(percentile(same, q), 3) for q in (10, 50)],
        "other_p50_p90_p99": [round(percentile(other, q), 3) for q in (50, 90, 99)],
        "bar": CROSS_LINGUAL_SUPPORT,
        "translations_above_bar": round(
            sum(c >= CROSS_LINGUAL_SUPPORT for c in same) / len(same), 3
        ),
        "others_above_bar": round(sum(c >= CROSS_LINGUAL_SUPPORT for c in other) / len(other), 3),
    }
    print(summary)
    write_results("verify_crosslingual", summary)


if __name__ == "__main__":
    main()
