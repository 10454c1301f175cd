"""Pure metric functions: the non-LLM estimators of the Ragas metrics and the SQuAD scores.

Nothing here loads a model: embedding vectors come in as lists of floats. docs/EVALUATION.md
says how each function mirrors its Ragas or SQuAD definition.
"""

from __future__ import annotations

import math
import re
import string
import unicodedata
from collections import Counter
from collections.abc import Sequence

from rag_app.prompts import _EN_WORDS, _ES_WORDS

# SQuAD removes English articles; Spanish ones are removed too, so that "la fotosíntesis" and
# "fotosíntesis" match. Both lists apply whatever the language (no detection to get wrong).
ARTICLES = frozenset("a an the el la los las lo un una unos unas".split())
_PUNCT = set(string.punctuation) | set("¿¡«»\u201c\u201d\u2018\u2019\u2013\u2014\u2026\u00b7")
SUPPORT_THRESHOLD = 0.5  # share of a statement's content words a context must hold
# Words compare by their first five letters: "telescopes" ~ "telescope", "fundó" ~ "fundador".
STEM = 5

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


def strip_accents(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def normalize_answer(text: str) -> str:
    """SQuAD's normalisation (lower case, no punctuation, no articles, single spaces), plus
    accents removed and Spanish articles dropped, so "Fotosíntesis." equals "la fotosintesis"."""
    text = strip_accents(text.lower())
    text = "".join(" " if c in _PUNCT else c for c in text)
    return " ".join(w for w in text.split() if w not in ARTICLES)


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


_STOPWORDS = frozenset(strip_accents(w) for w in _ES_WORDS | _EN_WORDS)


def content_stems(text: str) -> set[str]:
    """Content words (not stop words; numbers kept) cut to their first letters."""
    words = normalize_answer(text).split()
    return {w[:STEM] for w in words if (len(w) >= 3 or w.isdigit()) and w not in _STOPWORDS}


def statements(text: str) -> list[str]:
    """Sentences of a text, each a claim to check. Citation marks like [2] are dropped.

    Ragas asks an LLM to break an answer into atomic statements; sentences are the non-LLM
    stand-in (a sentence with two claims counts once)."""
    text = re.sub(r"\[\s*\d+(?:\s*[,;\-\u2013]\s*\d+)*\s*\]", " ", text)
    parts = re.split(r"(?<=[.!?;])\s+|\n+", text)
    return [p.strip() for p in parts if content_stems(p)]


def support(statement: str, contexts: Sequence[str]) -> float:
    """Share of the statement's content words that appear in the contexts (0..1)."""
    wanted = content_stems(statement)
    if not wanted:
        return 0.0
    found: set[str] = set()
    for context in contexts:
        found |= content_stems(context)
    return len(wanted & found) / len(wanted)


def supported(statement: str, contexts: Sequence[str]) -> bool:
    return support(statement, contexts) >= SUPPORT_THRESHOLD


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


def cosine(a: Sequence[float], b: Sequence[float]) -> float:
    dot = sum(x * y for x, y in zip(a, b, strict=True))
    norm = math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b))
    return dot / norm if norm else 0.0


def rank_of_hit(retrieved: Sequence[tuple[str, int]], source: str, page: int | None) -> int | None:
    """1-based rank of the first retrieved (source, page) that is the expected one; any page of
    the source counts when the page is unknown."""
    for rank, (name, number) in enumerate(retrieved, start=1):
        if name == source and (page is None or number == page):
            return rank
    return None


def is_abstention(response: str) -> bool:
    """The answer says the documents do not hold the answer (the app's own reply included)."""
    text = f" {normalize_answer(response)} "
    return any(f" {phrase} " in text for phrase in ABSTENTION_PHRASES)
