"""Pure metric functions: the non-LLM estimators of the Ragas metrics, the SQuAD scores, and
the rank metrics (hit@k, reciprocal rank) that `rag eval` and `rag bench retrieval` share.

Nothing here loads a model: embedding vectors come in as lists of floats. docs/EVALUATION.md
says how each function mirrors its Ragas or SQuAD definition.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Hashable, Iterable, Sequence
from typing import TypeVar

from rag_app.answering.evidence import cosine
from rag_app.text.claims import SUPPORT_THRESHOLD, statements, support, supported
from rag_app.text.language import contains_span, content_stems, normalize, strip_accents

# The shared text rules, re-exported: metrics are defined on them.
__all__ = [
    "SUPPORT_THRESHOLD",
    "contains_span",
    "content_stems",
    "cosine",
    "statements",
    "support",
    "supported",
]

ABSTENTION_PHRASES = (
    "do not contain",
    "does not contain",
    "doesn t contain",
    "don t contain",
    "not mentioned",
    "no information",
    "cannot answer",
    "can t answer",
    "i don t know",
    "no contienen",
    "no contiene",
    "no se menciona",
    "no hay informacion",
    "no puedo responder",
    "no lo se",
)

normalize_answer = normalize
Item = TypeVar("Item", bound=Hashable)


def exact_match(prediction: str, reference: str) -> float:
    return float(normalize_answer(prediction) == normalize_answer(reference))


def token_f1(prediction: str, reference: str) -> float:
    """SQuAD token F1 over normalised words."""
    pred, ref = normalize_answer(prediction).split(), normalize_answer(reference).split()
    if not pred or not ref:
        return float(pred == ref)
    common = sum((Counter(pred) & Counter(ref)).values())
    if common == 0:
        return 0.0
    precision, recall = common / len(pred), common / len(ref)
    return 2 * precision * recall / (precision + recall)


def share_of_supported(claims: Sequence[str], contexts: Sequence[str]) -> float | None:
    """Ragas's faithfulness / context recall shape: supported claims over all claims."""
    if not claims:
        return None
    return sum(supported(c, contexts) for c in claims) / len(claims)


def context_matches(chunk: str, reference_context: str) -> bool:
    """A retrieved chunk matches a reference context when either holds most of the other's
    content words (a chunk may be a piece of a longer reference passage, or contain it)."""
    return supported(reference_context, [chunk]) or supported(chunk, [reference_context])


def average_precision(verdicts: Sequence[bool]) -> float:
    """Ragas context precision: sum over ranks k of precision@k * v_k, over the number of
    relevant chunks; 0 when none is relevant."""
    relevant = hits = 0
    total = 0.0
    for k, verdict in enumerate(verdicts, start=1):
        if verdict:
            hits += 1
            total += hits / k
            relevant += 1
    return total / relevant if relevant else 0.0


# -- rank metrics: one arithmetic for `rag eval` ((source, page) hits) and `rag bench
# retrieval` (document or page units). Each takes the 1-based ranks of the relevant items.
def relevant_ranks(ranked: Iterable[Item], is_relevant: Callable[[Item], bool]) -> list[int]:
    """1-based ranks of the relevant items of a ranking, best first; an item ranked again
    (another chunk of the same unit) counts at its first rank only."""
    seen: set[Item] = set()
    ranks = []
    for rank, item in enumerate(ranked, start=1):
        if item not in seen and is_relevant(item):
            ranks.append(rank)
        seen.add(item)
    return ranks


def hit_at(ranks: Sequence[int], k: int | None = None) -> float:
    """1.0 when a relevant item is ranked within the first ``k`` (anywhere when None), else 0."""
    return float(any(k is None or rank <= k for rank in ranks))


def reciprocal_rank(ranks: Sequence[int], k: int | None = None) -> float:
    """1 / the rank of the first relevant item within the first ``k``; 0.0 when there is none
    (averaged over queries: MRR)."""
    first = min((rank for rank in ranks if k is None or rank <= k), default=None)
    return 1.0 / first if first else 0.0


def hit_ranks(retrieved: Iterable[tuple[str, int]], source: str, page: int | None) -> list[int]:
    """1-based ranks of the retrieved (source, page) pairs that are the expected one; any page
    of the source counts when the page is unknown."""
    return relevant_ranks(
        retrieved, lambda unit: unit[0] == source and (page is None or unit[1] == page)
    )


def keyword_text(text: str) -> str:
    """How keywords and the text they are looked for in are compared: accents stripped, case
    folded, whitespace collapsed (punctuation kept: "E/S" is not "es")."""
    return " ".join(strip_accents(text).casefold().split())


def keywords_found(keywords: Sequence[str], texts: Sequence[str]) -> list[bool]:
    """Per keyword: it occurs (as a substring, after ``keyword_text``) in one of ``texts``,
    each text on its own (an evidence sentence, the answer), so no keyword is made up of the
    end of one and the start of the next."""
    pieces = [keyword_text(t) for t in texts]
    found = []
    for keyword in keywords:
        wanted = keyword_text(keyword)
        found.append(bool(wanted) and any(wanted in piece for piece in pieces))
    return found


def is_abstention(response: str) -> bool:
    """The answer says the documents do not hold the answer (the app's own reply included)."""
    text = f" {normalize_answer(response)} "
    return any(f" {phrase} " in text for phrase in ABSTENTION_PHRASES)
