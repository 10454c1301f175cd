"""Evaluation metrics: pure logic, and the LLM judge on queued replies. Their validity on the
real bundled embedder and judge: tests/integration/test_eval_metrics.py."""

from __future__ import annotations

from pathlib import Path

import pytest

from rag_app.answering import prompts
from rag_app.errors import RagError
from rag_app.evaluation import metrics
from rag_app.evaluation.dataset import load_qa
from rag_app.evaluation.judge import Judge, clean_question, parse_verdict
from rag_app.evaluation.scoring import score_sample
from tests.support.embeddings import BagOfWordsEmbeddings
from tests.support.fakes import QueuedChatModel
from tests.support.pdfs import COURSE_PAGES
from tests.support.shared import QUESTION, REFERENCE, qa_sample


def test_squad_normalisation_handles_spanish() -> None:
    assert metrics.normalize_answer("The Eiffel Tower!") == "eiffel tower"
    assert metrics.exact_match("La fotosíntesis.", "fotosintesis") == 1.0
    assert metrics.exact_match("los cloroplastos", "Cloroplastos") == 1.0
    assert metrics.exact_match("1887", "1888") == 0.0
    # SQuAD's own example shape: 2 of 3 predicted words right, 2 of 2 reference words found
    assert metrics.token_f1("Elena Vasquez herself", "Elena Vásquez") == pytest.approx(0.8)
    assert metrics.token_f1("", "x") == 0.0


def test_statements_support_and_average_precision() -> None:
    assert metrics.statements("It is 2.4 m wide [1]. It weighs twelve tonnes.\nOk") == [
        "It is 2.4 m wide.",
        "It weighs twelve tonnes.",
    ]
    assert metrics.supported("The mirror weighs twelve tonnes.", [COURSE_PAGES[2]])
    assert not metrics.supported("Aliens from Mars built it.", [COURSE_PAGES[2]])
    assert metrics.average_precision([True, False, True]) == pytest.approx((1 + 2 / 3) / 2)
    assert metrics.average_precision([False, False]) == 0.0
    assert metrics.hit_ranks([("a.pdf", 1), ("b.pdf", 2)], "b.pdf", 2) == [2]
    assert metrics.hit_ranks([("a.pdf", 1), ("a.pdf", 4)], "a.pdf", None) == [1, 2]
    assert metrics.hit_ranks([("a.pdf", 1)], "a.pdf", 3) == []


def test_rank_metrics_shared_by_eval_and_benchmark() -> None:
    """One hit@k / reciprocal-rank arithmetic: `rag eval` on (source, page) hits and `rag bench
    retrieval` on units give the same numbers for the same ranking."""
    ranked = [("a.pdf", 1), ("b.pdf", 2), ("b.pdf", 2), ("c.pdf", 3), ("b.pdf", 5)]
    ranks = metrics.relevant_ranks(ranked, lambda unit: unit[0] == "b.pdf")
    assert ranks == [2, 5]  # the repeated ("b.pdf", 2) counts at its first rank only
    assert metrics.hit_ranks(ranked, "b.pdf", None) == ranks
    assert metrics.hit_ranks(ranked, "b.pdf", 5) == [5]
    assert metrics.reciprocal_rank(ranks) == 0.5
    assert metrics.reciprocal_rank([5], k=4) == 0.0
    assert metrics.reciprocal_rank([]) == 0.0
    assert metrics.hit_at(ranks) == 1.0 and metrics.hit_at(ranks, k=1) == 0.0
    assert metrics.hit_at([]) == 0.0

    from rag_app.evaluation import benchmark

    relevant = {("b.pdf", 2): 1.0, ("b.pdf", 5): 1.0}
    assert benchmark.mrr_at(ranked, relevant, 10) == metrics.reciprocal_rank(ranks, 10)
    assert benchmark.recall_at(ranked, relevant, 4) == 0.5
    assert benchmark.recall_at(ranked, relevant, 5) == 1.0


def test_abstention_and_judge_parsing() -> None:
    assert metrics.is_abstention("The documents do not contain an answer to this question.")
    assert metrics.is_abstention("Los documentos no contienen la respuesta.")
    assert not metrics.is_abstention("The mirror is 2.4 metres wide.")
    assert parse_verdict("Yes.") is True
    assert parse_verdict("Sí, lo es") is True
    assert parse_verdict("no") is False
    assert parse_verdict("The answer is yes") is True
    assert parse_verdict("maybe yes, maybe no") is None
    assert parse_verdict("<passage> 42") is None
    assert clean_question("Question: Who founded it?\nmore") == "Who founded it?"
    assert clean_question("It was founded in 1887.") is None


def test_qa_files_in_every_format_and_ragas_names(tmp_path: Path) -> None:
    jsonl = tmp_path / "qa.jsonl"
    jsonl.write_text(
        '{"question": "Who?", "answer": "Elena", "source": "a.pdf", "page": 2}\n\n'
        '{"user_input": "Where?", "reference": "Glasgow", "unanswerable": "false",'
        ' "response": "In Glasgow.", "retrieved_contexts": ["cast in Glasgow"]}\n',
        encoding="utf-8",
    )
    first, second = load_qa(jsonl)
    assert (first.question, first.reference, first.source, first.page) == (
        "Who?",
        "Elena",
        "a.pdf",
        2,
    )
    assert (second.question, second.reference, second.response) == (
        "Where?",
        "Glasgow",
        "In Glasgow.",
    )
    assert second.retrieved_contexts == ["cast in Glasgow"] and not second.unanswerable

    csv = tmp_path / "qa.csv"
    csv.write_text(
        'question,answer,contexts,unanswerable\n"Who, then?",Elena,"[""a"", ""b""]",\n'
        "Capital of Australia?,,,true\n",
        encoding="utf-8",
    )
    rows = load_qa(csv)
    assert rows[0].question == "Who, then?" and rows[0].reference_contexts == ["a", "b"]
    assert rows[1].unanswerable and rows[1].reference is None

    as_json = tmp_path / "qa.json"
    as_json.write_text('{"samples": [{"question": "Q?", "contexts": "one passage"}]}')
    assert load_qa(as_json)[0].reference_contexts == ["one passage"]


@pytest.mark.parametrize(
    ("name", "text", "expected"),
    [
        ("bad.jsonl", '{"question": "a"}\n{"question": "b"\n', "bad.jsonl, line 2: not valid JSON"),
        ("bad.jsonl", '{"question": "a"}\n\n{"answer": "b"}\n', "line 3: no 'question'"),
        ("bad.csv", "question,page\nWho?,1\nWhat?,two\n", "bad.csv, line 3: 'page' must be"),
        ("bad.json", '[{"question": "a", "unanswerable": "maybe"}]', "item 1: 'unanswerable'"),
        ("bad.txt", "question\n", "unknown format '.txt'"),
        ("empty.jsonl", "\n", "no questions in it"),
    ],
)
def test_malformed_qa_files_name_the_line(
    tmp_path: Path, name: str, text: str, expected: str
) -> None:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    with pytest.raises(RagError, match=expected.replace("(", r"\(").replace("'", "'")):
        load_qa(path)


# -- one question, scored -------------------------------------------------------------------


_sample = qa_sample


# -- the LLM judge, on queued replies ---------------------------------------------------------
MIRROR = "The mirror of the main telescope is 2.4 metres wide [1]. It was cast on Mars."


def test_llm_judge_scores_what_the_model_says() -> None:
    chat = QueuedChatModel(
        replies=[
            "Yes.",  # faithfulness: the width is in the context
            "No, it cannot.",  # ...Mars is not
            f"Question: {QUESTION}\nThat is all.",  # answer relevancy: the same question back
            "yes",  # context precision: the instruments page is useful
            "no",  # ...the history page is not
            "Sí",  # context recall: the reference is in the context
        ]
    )
    result = Judge(chat, BagOfWordsEmbeddings(), "fake").score(
        QUESTION, MIRROR, [COURSE_PAGES[2], COURSE_PAGES[1]], REFERENCE
    )
    assert result.scores == {
        "faithfulness": 0.5,
        "answer_relevancy": pytest.approx(1.0),
        "context_precision": 1.0,  # the useful chunk ranked first
        "context_recall": 1.0,
    }
    assert (result.calls, result.unparseable) == (6, 0)
    assert all(c.kwargs == {"temperature": 0.0, "max_tokens": 24} for c in chat.calls)
    assert (
        chat.calls[0].messages[0].text
        == "You are a strict grader. Reply with exactly one word: yes or no."
    )
    assert "Statement: The mirror of the main telescope is 2.4 metres wide." in chat.calls[0].prompt
    assert "Statement: It was cast on Mars." in chat.calls[1].prompt
    assert f"Answer: {MIRROR}" in chat.calls[2].prompt
    assert f"Passage:\n{COURSE_PAGES[1]}" in chat.calls[4].prompt


def test_llm_judge_leaves_out_what_it_cannot_parse(tmp_path: Path) -> None:
    chat = QueuedChatModel(
        replies=[
            "maybe yes, maybe no",  # faithfulness: both words, no verdict
            "It is 2.4 metres wide.",  # answer relevancy: no question in it
            "<passage> 42",  # context precision: neither word
            "No",  # context recall: parsed
        ]
    )
    embeddings = BagOfWordsEmbeddings()
    result = score_sample(
        _sample(tmp_path), REFERENCE, [COURSE_PAGES[2]], [("astronomy.pdf", 3)], embeddings,
        Judge(chat, embeddings, "fake"),
    )  # fmt: skip
    assert (result["judge_calls"], result["judge_unparseable"]) == (4, 3)
    judged = {m: result["scores"][f"{m}_llm"] for m in ("faithfulness", "answer_relevancy",
              "context_precision", "context_recall")}  # fmt: skip
    assert judged == {
        "faithfulness": None,  # never turned into a score
        "answer_relevancy": None,
        "context_precision": None,
        "context_recall": 0.0,
    }
    assert result["scores"]["faithfulness"] == 1.0  # the token metric is unaffected


def test_llm_judge_asks_nothing_about_an_abstention() -> None:
    chat = QueuedChatModel(replies=["yes", "no"])  # precision and recall only
    result = Judge(chat, BagOfWordsEmbeddings(), "fake").score(
        QUESTION, prompts.NO_ANSWER["en"], [COURSE_PAGES[2]], REFERENCE
    )
    assert result.scores == {"context_precision": 1.0, "context_recall": 0.0}
    assert result.calls == 2 and "Is this passage useful" in chat.calls[0].prompt
