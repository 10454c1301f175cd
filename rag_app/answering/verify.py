"""The model's answer, checked sentence by sentence against the passages it was given.

A small model wanders: it writes "dos capas" where the passage says "96 capas", answers from
its own knowledge, or switches language. Each sentence of its answer must be supported by the
passages (``rag_app.text.supported``: most of its content words, and every number it states);
across languages, where words cannot match, by meaning (the embedder's cosine with an evidence
sentence) and numbers. What fails is marked, or dropped. When nothing it said holds, when it
answered in the wrong language, or when it does not state the number, date or name the
evidence gives for such a question, the user reads the evidence instead.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from rag_app.answering.evidence import Evidence, cosine, rescaled
from rag_app.answering.fallback import Fallback
from rag_app.answering.question_types import answer_type, has_answer_type
from rag_app.text.claims import is_question, strip_citations, supported
from rag_app.text.language import content_stems, language_of, numbers
from rag_app.text.units import split_sentences

EmbedFn = Callable[[list[str]], list[list[float]]]
# Cosine (rescaled from the embedder's floor) an answer sentence in one language needs with an
# evidence sentence in the other. bench.studies.verify_crosslingual: with e5 91% of translations
# reach it and 0.4% of other sentences of the same paragraph do; with MiniLM 36% and 3.3%
# (docs/EVALUATION.md).
CROSS_LINGUAL_SUPPORT = 0.5


@dataclass(frozen=True)
class Checked:
    answer: str  # what the user reads
    unsupported: list[str] = field(default_factory=list)  # the model's sentences not supported
    fallback: Fallback | None = None  # why ``answer`` is the evidence, not the model's text


def evidence_answer(evidence: Sequence[Evidence]) -> str:
    """The evidence as an answer: each sentence quoted verbatim with its [n]."""
    return " ".join(f"{e.text} [{e.number}]" for e in evidence)


def supported_across_languages(
    sentence: str,
    evidence: Sequence[Evidence],
    passages: Sequence[str],
    embed: EmbedFn | None,
    floor: float = 0.0,
) -> bool:
    """A sentence in another language than the evidence: close in meaning to an evidence
    sentence, and no number the passages lack."""
    if embed is None or not evidence:
        return False
    spoken, quoted = language_of(sentence, 1), language_of(" ".join(e.text for e in evidence))
    if spoken is None or quoted is None or spoken == quoted:
        return False
    stated = numbers(sentence)
    if stated and not stated <= set().union(*(numbers(p) for p in passages)):
        return False
    vectors = embed([sentence, *(e.text for e in evidence)])
    closest = max(cosine(vectors[0], v) for v in vectors[1:])
    return rescaled(closest, floor) >= CROSS_LINGUAL_SUPPORT


def states_the_answer(question: str, generated: str, evidence: Sequence[Evidence]) -> bool:
    """For a question that wants a number, a date or a name, the model's text must state one
    that the evidence gives (not one the question already has): "dos capas" does not answer
    "¿Cuántas capas tiene GPT-3?" when the evidence says "96 capas"."""
    kind = answer_type(question)
    quoted = " ".join(e.text for e in evidence)
    if kind is None or not has_answer_type(kind, quoted, question):
        return True  # nothing typed to compare
    if kind in ("number", "date"):
        given = numbers(quoted) - numbers(question)
        return not given or bool(numbers(generated) & given)  # a date in words: not compared
    return has_answer_type(kind, generated, question) and bool(
        content_stems(generated) & (content_stems(quoted) - content_stems(question))
    )


def check_answer(
    generated: str,
    *,
    question: str,
    language: str,
    passages: Sequence[str],
    evidence: Sequence[Evidence],
    drop_unsupported: bool = False,
    embed: EmbedFn | None = None,
    cosine_floor: float = 0.0,
) -> Checked:
    """What the user reads of the model's ``generated`` text for ``question`` (``language``:
    the question's)."""
    if not evidence:  # nothing to check against or fall back to
        return Checked(generated)
    spoken = language_of(strip_citations(generated))
    if spoken is not None and spoken != language:
        return Checked(evidence_answer(evidence), [], Fallback.LANGUAGE)
    sentences = split_sentences(generated)
    claims = [s for s in sentences if content_stems(strip_citations(s))]
    unsupported = [
        s
        for s in claims
        if is_question(s)  # a question the model wrote (often the user's, echoed) answers nothing
        or (
            not supported(strip_citations(s), passages)
            and not supported_across_languages(
                strip_citations(s), evidence, passages, embed, cosine_floor
            )
        )
    ]
    if not claims or len(unsupported) == len(claims):
        return Checked(evidence_answer(evidence), unsupported, Fallback.UNSUPPORTED)
    if not states_the_answer(question, strip_citations(generated), evidence):
        return Checked(evidence_answer(evidence), unsupported, Fallback.UNANSWERED)
    if drop_unsupported and unsupported:
        kept = [s for s in sentences if s not in unsupported]
        return Checked(" ".join(kept), unsupported)
    return Checked(generated, unsupported)
