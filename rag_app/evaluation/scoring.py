"""Score one answered question: every metric, each under a name that says its method.

Non-LLM metrics are always computed; ``<metric>_llm`` ones only when a judge is given.
"""

from __future__ import annotations

from collections.abc import Sequence

from langchain_core.embeddings import Embeddings

from rag_app.answering.evidence import rescaled
from rag_app.evaluation import metrics
from rag_app.evaluation.dataset import EvalSample
from rag_app.evaluation.judge import Judge
from rag_app.evaluation.schema import SampleScores, Scores
from rag_app.text.language import detect_language, language_of

# metric -> how it is computed (shown next to every number in the reports)
METHODS: dict[str, str] = {
    "faithfulness": "token-support: share of answer sentences with >=50% of content words in "
    "the contexts",
    "answer_relevancy": "embedding: cosine(question, answer)",
    "context_precision": "token-support: average precision of chunks holding the reference "
    "(or reference context, or answer)",
    "context_recall": "token-support: share of reference sentences (or reference contexts) "
    "found in the chunks",
    "answer_f1": "SQuAD token F1 (accents and en/es articles removed)",
    "answer_em": "SQuAD exact match (accents and en/es articles removed)",
    "semantic_similarity": "embedding: cosine(answer, reference)",
    "hit@k": "expected source/page among the k chunks",
    "mrr": "1/rank of the first chunk from the expected source/page",
    "correct_abstention": "unanswerable questions: the answer says the documents lack it",
    "false_abstention": "answerable questions: the answer says the documents lack it",
    "evidence_hit": "evidence sentences contain the reference answer (accent/case-insensitive)",
    "evidence_f1": "SQuAD token F1 of the evidence sentences against the reference",
    "evidence_sentences": "measured: evidence sentences quoted per answer",
    "keyword_hit": "keywords: every keyword of the question is in the text the user reads "
    "(evidence sentences + answer), accent/case/whitespace-insensitive substring",
    "keyword_recall": "keywords: share of the question's keywords in the text the user reads "
    "(evidence sentences + answer), accent/case/whitespace-insensitive substring",
    "language_match": "the model's text is in the question's language (function words; "
    "too short to tell counts as a match)",
    "unsupported_share": "token-support: share of the model's sentences not supported by the "
    "passages (content words, and every number)",
    "first_token_s": "measured: seconds to the first token",
    "total_s": "measured: seconds for the whole answer",
    "tokens_per_s": "measured: decoding speed",
}
JUDGED = ("faithfulness", "answer_relevancy", "context_precision", "context_recall")


def judged_methods(judge_name: str) -> dict[str, str]:
    return {
        "faithfulness_llm": f"llm-judge({judge_name}): yes/no per answer sentence",
        "answer_relevancy_llm": f"llm-judge({judge_name}) question from the answer + embedding "
        "cosine",
        "context_precision_llm": f"llm-judge({judge_name}): yes/no per chunk, average precision",
        "context_recall_llm": f"llm-judge({judge_name}): yes/no per reference sentence",
    }


def score_sample(
    sample: EvalSample,
    response: str | None,
    contexts: Sequence[str],
    retrieved: Sequence[tuple[str, int]],
    embeddings: Embeddings,
    judge: Judge | None = None,
    floor: float = 0.0,
    evidence: Sequence[str] = (),
) -> SampleScores:
    """Scores for one question (None where a metric does not apply), plus judge counts.
    ``response`` None means retrieval only: no answer was generated, answer metrics are None.
    Cosines are rescaled from the embedder's ``floor`` (its level for unrelated text), so the
    embedding metrics mean the same with every embedder. ``evidence``: the sentences quoted
    above the answer, read with it for the keyword metrics."""
    abstained = response is not None and metrics.is_abstention(response)
    scores: Scores = dict.fromkeys(METHODS)
    if response is not None:
        _answer_scores(sample, response, abstained, contexts, embeddings, scores, floor)
        scores.update(keyword_scores(sample, [*evidence, response]))
    _context_scores(sample, response or "", abstained, contexts, scores)
    if sample.source:
        ranks = metrics.hit_ranks(retrieved, sample.source, sample.page)
        scores["hit@k"] = metrics.hit_at(ranks)
        scores["mrr"] = metrics.reciprocal_rank(ranks)

    judge_calls = unparseable = 0
    if judge is not None:
        verdict = judge.score(sample.question, response, contexts, sample.reference)
        for name in JUDGED:
            scores[f"{name}_llm"] = verdict.scores.get(name)
        judge_calls, unparseable = verdict.calls, verdict.unparseable
    return {
        "scores": scores,
        "abstained": abstained if response is not None else None,
        "judge_calls": judge_calls,
        "judge_unparseable": unparseable,
    }


def _answer_scores(
    sample: EvalSample,
    response: str,
    abstained: bool,
    contexts: Sequence[str],
    embeddings: Embeddings,
    scores: Scores,
    floor: float,
) -> None:
    reference = sample.reference
    # The question as a query, the answers as passages (e5 tells them apart; others do not).
    vectors = [embeddings.embed_query(sample.question)]
    vectors += embeddings.embed_documents([response] + ([reference] if reference else []))
    if response and not abstained:
        scores["faithfulness"] = (
            metrics.share_of_supported(metrics.statements(response), contexts) if contexts else 0.0
        )
    if not sample.unanswerable:
        relevancy = 0.0 if abstained or not response else metrics.cosine(vectors[0], vectors[1])
        scores["answer_relevancy"] = rescaled(relevancy, floor)
    if reference:
        scores["answer_f1"] = metrics.token_f1(response, reference)
        scores["answer_em"] = metrics.exact_match(response, reference)
        scores["semantic_similarity"] = rescaled(metrics.cosine(vectors[1], vectors[2]), floor)
    if sample.unanswerable:
        scores["correct_abstention"] = float(abstained)
    else:
        scores["false_abstention"] = float(abstained)


def _context_scores(
    sample: EvalSample,
    response: str,
    abstained: bool,
    contexts: Sequence[str],
    scores: Scores,
) -> None:
    reference, gold = sample.reference, sample.reference_contexts
    if reference:
        verdicts = [metrics.supported(reference, [c]) for c in contexts]
    elif gold:
        verdicts = [any(metrics.context_matches(c, g) for g in gold) for c in contexts]
    elif response and not abstained:  # Ragas's "without reference" variant: judged on the answer
        verdicts = [metrics.supported(response, [c]) for c in contexts]
    else:
        verdicts = []
    if verdicts:
        scores["context_precision"] = metrics.average_precision(verdicts)
    if reference:
        claims = metrics.statements(reference) or [reference]
        scores["context_recall"] = metrics.share_of_supported(claims, contexts) or 0.0
    elif gold:
        found = [any(metrics.context_matches(c, g) for c in contexts) for g in gold]
        scores["context_recall"] = sum(found) / len(found)


def keyword_scores(sample: EvalSample, shown: Sequence[str]) -> Scores:
    """``keyword_hit`` (1.0 when every keyword is in the text the user reads, else 0.0) and
    ``keyword_recall`` (the share found); empty when the question has no keywords."""
    if not sample.keywords:
        return {}
    found = metrics.keywords_found(sample.keywords, shown)
    return {"keyword_hit": float(all(found)), "keyword_recall": sum(found) / len(found)}


def evidence_scores(
    sample: EvalSample, evidence: Sequence[str], generated: str | None, unsupported: Sequence[str]
) -> Scores:
    """How good the quoted evidence is, and how the model's own text fared in the check."""
    scores: Scores = {}
    quoted = " ".join(evidence)
    if sample.reference and not sample.unanswerable:
        scores["evidence_hit"] = float(metrics.contains_span(quoted, sample.reference))
        scores["evidence_f1"] = metrics.token_f1(quoted, sample.reference) if quoted else 0.0
    if evidence:
        scores["evidence_sentences"] = float(len(evidence))
    if generated:
        spoken = language_of(generated)
        scores["language_match"] = float(spoken in (None, detect_language(sample.question)))
        claims = metrics.statements(generated)
        scores["unsupported_share"] = len(unsupported) / len(claims) if claims else None
    return scores
