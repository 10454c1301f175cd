"""Evaluation metrics' validity on the real bundled embedder and judge."""

from __future__ import annotations

from pathlib import Path

import pytest

from rag_app.evaluation.judge import Judge, clean_question, parse_verdict
from rag_app.evaluation.runner import aggregate, worst_first
from rag_app.evaluation.scoring import score_sample
from rag_app.models import loading as models
from rag_app.settings import EmbeddingSettings
from tests.support.fakes import RecordingChatModel
from tests.support.pdfs import COURSE_PAGES, SPANISH_PAGES
from tests.support.shared import REFERENCE, qa_sample

# -- one question, scored -------------------------------------------------------------------
UNRELATED = "Bananas are rich in potassium and grow well in warm, humid places."


_sample = qa_sample


# -- validity on the real bundled embedder ------------------------------------------------


@pytest.mark.slow
def test_perfect_scores_near_one_unrelated_near_zero(real_models, tmp_path: Path) -> None:
    embeddings, _ = real_models
    floor = models.measured(EmbeddingSettings()).cosine_floor
    sample = _sample(tmp_path)
    perfect = score_sample(
        sample, REFERENCE, [COURSE_PAGES[2]], [("astronomy.pdf", 3)], embeddings, floor=floor
    )["scores"]
    unrelated = score_sample(
        sample, UNRELATED, [SPANISH_PAGES[1]], [("biologia.pdf", 2)], embeddings, floor=floor
    )["scores"]
    quality = ("faithfulness", "context_precision", "context_recall", "answer_f1", "answer_em",
               "semantic_similarity", "hit@k", "mrr")  # fmt: skip
    for name in quality:
        assert perfect[name] >= 0.95, (name, perfect[name])
        assert unrelated[name] <= 0.1, (name, unrelated[name])
    # cosine(question, answer) does not reach 1 even for the ideal answer (MiniLM 0.7-0.85 raw;
    # e5 0.92 raw, 0.65 once rescaled from its floor for unrelated text)
    assert perfect["answer_relevancy"] >= 0.6, perfect["answer_relevancy"]
    assert unrelated["answer_relevancy"] <= 0.15, unrelated["answer_relevancy"]
    assert perfect["false_abstention"] == 0.0 and perfect["correct_abstention"] is None


@pytest.mark.slow
def test_invented_claim_lowers_faithfulness(real_models, tmp_path: Path) -> None:
    embeddings, _ = real_models
    sample = _sample(tmp_path)
    invented = REFERENCE + " It was built by engineers from Mars in 1999."

    def faithfulness(response: str) -> float:
        result = score_sample(sample, response, [COURSE_PAGES[2]], [], embeddings)
        return result["scores"]["faithfulness"]

    assert faithfulness(invented) < faithfulness(REFERENCE) == 1.0


@pytest.mark.slow
def test_llm_judge_counts_what_it_cannot_parse(real_models, tmp_path: Path) -> None:
    """The real small judge: whatever it replies, each reply is read the way parse_verdict and
    clean_question read it (the scores follow from its replies), and none is guessed."""
    embeddings, chat = real_models
    judge_model = RecordingChatModel(inner=chat)
    sample = _sample(tmp_path)
    result = score_sample(
        sample, REFERENCE, [COURSE_PAGES[2]], [("astronomy.pdf", 3)], embeddings,
        Judge(judge_model, embeddings, "bundled"),
    )  # fmt: skip
    # one faithfulness sentence, one question, one chunk, one reference sentence
    assert result["judge_calls"] == 4 and len(judge_model.replies) == 4
    faithful, asked, useful, attributed = judge_model.replies
    verdicts = [parse_verdict(r) for r in (faithful, useful, attributed)]
    question = clean_question(asked)
    assert result["judge_unparseable"] == verdicts.count(None) + (question is None)
    scores = result["scores"]
    assert [
        scores[f"{m}_llm"] for m in ("faithfulness", "context_precision", "context_recall")
    ] == [None if v is None else float(v) for v in verdicts]
    assert (scores["answer_relevancy_llm"] is None) == (question is None)
    rows = [{"strategy": "s", **result, "id": "q1"}]
    assert aggregate(rows)["s"]["judge_calls"] == 4
    assert worst_first(rows) == rows
