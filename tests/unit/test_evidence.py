"""Evidence selection and the answer check, on hand-made passages (pure logic, no model).

The keyword-only path (no embedder) is exercised here; the embedder's part is measured on real
data by bench/evidence.py and used end to end in tests/integration/test_answering.py.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from rag_app.answering.evidence import (
    COVERAGE_FLOOR,
    KEEP_WITHIN,
    KEYWORD_FULL,
    KEYWORD_SHARE,
    MEANING_SHARE,
    MEANING_SHARE_ACROSS,
    Evidence,
    answer_type,
    combine,
    confidence,
    score_sentences,
    select_evidence,
)
from rag_app.answering.verify import check_answer, evidence_answer
from tests.support.embeddings import BagOfWordsEmbeddings


@dataclass(frozen=True)
class P:
    number: int
    source: str
    page: int
    text: str


NOTES = [
    P(
        1,
        "intro_llm.pdf",
        3,
        "Los transformadores se usan en muchos modelos. GPT-3 es un modelo muy grande, con 96 "
        "capas de transformador y 175 mil millones de parámetros. Fue presentado por OpenAI.",
    ),
    P(
        2,
        "intro_llm.pdf",
        4,
        "El transformador tiene dos partes: codificador y decodificador. La atención permite "
        "mirar todas las palabras a la vez. Vaswani y sus colegas lo publicaron en 2017.",
    ),
]
ASTRONOMY = [
    P(
        1,
        "astronomy.pdf",
        2,
        "History. The Lumora Observatory was founded in 1887 by the astronomer Elena Vasquez "
        "in the mountain town of Brindlemoor. She directed it for thirty years.",
    ),
    P(
        2,
        "astronomy.pdf",
        3,
        "Instruments. The main telescope of the observatory is a reflector whose mirror is "
        "2.4 metres wide. The mirror weighs twelve tonnes and was cast in Glasgow.",
    ),
]


QUESTION = "¿Cuántas capas de transformador tiene GPT-3?"


def texts(found: list[Evidence]) -> list[str]:
    return [e.text for e in found]


def test_a_number_question_picks_the_sentence_with_the_number() -> None:
    found = select_evidence("¿Cuántas capas de transformador tiene GPT-3?", NOTES)
    assert found[0].text.startswith("GPT-3 es un modelo muy grande, con 96 capas")
    assert (found[0].number, found[0].source, found[0].page) == (1, "intro_llm.pdf", 3)
    assert len(found) <= 3


def test_question_types_lead_to_the_right_sentence() -> None:
    assert (
        "founded in 1887" in select_evidence("When was the observatory founded?", ASTRONOMY)[0].text
    )
    assert "Elena Vasquez" in select_evidence("Who founded the observatory?", ASTRONOMY)[0].text
    assert "twelve tonnes" in select_evidence("How much does the mirror weigh?", ASTRONOMY)[0].text
    assert "2017" in select_evidence("¿En qué año se publicó el transformador?", NOTES)[0].text


def test_answer_types() -> None:
    assert answer_type("How many layers does GPT-3 have?") == "number"
    assert answer_type("¿Cuántas capas tiene?") == "number"
    assert answer_type("¿Cuándo se fundó?") == "date"
    assert answer_type("¿Quién lo fundó?") == "name"
    assert answer_type("What is attention?") is None


def test_evidence_is_verbatim_and_scored() -> None:
    found = select_evidence("How wide is the mirror?", ASTRONOMY, BagOfWordsEmbeddings())
    assert found and all(e.text in " ".join(ASTRONOMY[1].text.split()) for e in found)
    assert found[0].text.endswith("whose mirror is 2.4 metres wide.") and found[0].score > 0
    assert found == sorted(found, key=lambda e: -e.score)
    # the others only while close to the best (a 0..1 bound held for any score: it is clamped)
    assert all(e.score >= KEEP_WITHIN * found[0].score for e in found)
    assert select_evidence("anything", []) == []


def test_evidence_carries_its_meaning_match_only_with_an_embedder() -> None:
    with_meaning = select_evidence("How wide is the mirror?", ASTRONOMY, BagOfWordsEmbeddings())
    assert 0.0 < with_meaning[0].meaning <= 1.0
    assert all(e.meaning == 0.0 for e in select_evidence("How wide is the mirror?", ASTRONOMY))


def test_a_passage_naming_the_subject_otherwise_still_answers() -> None:
    # the question says "AAA", the passage spells the name out: it lacks the question's name
    club = P(1, "cars.pdf", 1, "The AAA is a club for drivers. It publishes road maps every year.")
    report = P(
        2,
        "cars.pdf",
        2,
        "The American Automobile Association reported that 20% of petrol stations ran dry "
        "in February. Queues were common.",
    )
    found = select_evidence(
        "According to the AAA, what share of petrol stations ran dry?", [club, report]
    )
    assert found[0].text.startswith("The American Automobile Association reported that 20%")
    signals = {
        "keywords": 0.6, "meaning": 0.5, "phrases": 0.2, "before_keywords": 0.0,
        "before_meaning": 0.0, "answer_type": 1.0, "echo": 0.0, "coverage": 1.0, "rank": 0.0,
    }  # fmt: skip
    lacking = combine({**signals, "coverage": 0.0}, 0.45)
    assert lacking == pytest.approx(COVERAGE_FLOOR * combine(signals, 0.45)) and lacking > 0


def test_a_sentence_in_two_overlapping_chunks_is_quoted_once_from_the_better_one() -> None:
    shared = "The main mirror is 2.4 metres wide."
    chunks = [
        P(1, "astronomy.pdf", 3, f"The observatory has two telescopes. {shared}"),
        P(2, "astronomy.pdf", 3, f"{shared} It was cast in Glasgow in 1921."),
    ]
    for embed in (None, BagOfWordsEmbeddings()):
        found = select_evidence("How wide is the main mirror?", chunks, embed)
        assert found[0].text == shared and found[0].number == 1
        assert len(texts(found)) == len(set(texts(found)))


@pytest.mark.parametrize(
    ("question", "share"),
    [
        ("How wide is the mirror?", MEANING_SHARE),
        # keywords cannot meet an English passage's words: its sentences lean on the meaning
        ("¿Qué anchura tiene el espejo del observatorio?", MEANING_SHARE_ACROSS),
    ],
)
def test_the_meaning_weighs_more_in_a_passage_in_the_other_language(
    question: str, share: float
) -> None:
    scored = score_sentences(question, ASTRONOMY, BagOfWordsEmbeddings())
    assert scored and all(s.score == combine(s.signals, share) for s in scored)
    assert all(
        s.score == combine(s.signals, 0.0) for s in score_sentences(question, ASTRONOMY, None)
    )


def evidence(score: float, meaning: float) -> Evidence:
    return Evidence("A sentence.", 1, "a.pdf", 1, score, meaning)


def test_confidence_weighs_score_and_meaning_and_only_meaning_across_languages() -> None:
    assert confidence([]) == 0.0
    quoted = [evidence(0.4, 0.2), evidence(0.3, 0.6)]
    # The best sentence's score, with the closest meaning match among those quoted.
    assert confidence(quoted) == (0.4 + 0.6) / 2
    # Across languages keywords cannot match: the score is left out.
    assert confidence(quoted, across_languages=True) == 0.6
    # An embedder whose meaning match does not separate (MiniLM on Spanish): the score alone.
    assert confidence(quoted, with_meaning=False) == 0.4
    assert confidence(quoted, across_languages=True, with_meaning=False) == 0.4
    # The best page's keyword match: its share of the confidence, full at KEYWORD_FULL, and
    # not read across languages (keywords cannot match there).
    rest = 1 - KEYWORD_SHARE
    assert confidence(quoted, keyword_match=0.0) == pytest.approx(rest * 0.5)
    assert confidence(quoted, keyword_match=KEYWORD_FULL / 2) == pytest.approx(
        rest * 0.5 + KEYWORD_SHARE / 2
    )
    assert confidence(quoted, keyword_match=KEYWORD_FULL) == pytest.approx(
        rest * 0.5 + KEYWORD_SHARE
    )
    assert confidence(quoted, keyword_match=10.0) == confidence(quoted, keyword_match=KEYWORD_FULL)
    assert confidence(quoted, across_languages=True, keyword_match=KEYWORD_FULL) == 0.6


def test_a_wrong_number_is_unsupported_and_the_evidence_is_the_answer() -> None:
    evidence = select_evidence("¿Cuántas capas de transformador tiene GPT-3?", NOTES)
    passages = [p.text for p in NOTES]
    wrong = "El transformador tiene dos capas de encabezado: codificador y decodificador."
    checked = check_answer(
        wrong, question=QUESTION, language="es", passages=passages, evidence=evidence
    )
    # Its words are in passage 2 ("dos partes: codificador y decodificador"), but it does not
    # state the number the evidence gives: the user reads the evidence.
    assert checked.fallback == "unanswered"
    assert checked.answer == evidence_answer(evidence)
    assert "96 capas" in checked.answer and "[1]" in checked.answer


def test_supported_sentences_stay_and_unsupported_ones_are_marked_or_dropped() -> None:
    evidence = select_evidence("¿Cuántas capas de transformador tiene GPT-3?", NOTES)
    passages = [p.text for p in NOTES]
    good = "GPT-3 tiene 96 capas de transformador [1]."
    bad = "Además fue entrenado en Marte por astronautas."
    marked = check_answer(
        f"{good} {bad}", question=QUESTION, language="es", passages=passages, evidence=evidence
    )
    assert marked.answer == f"{good} {bad}" and marked.unsupported == [bad]
    assert marked.fallback is None
    dropped = check_answer(
        f"{good} {bad}",
        question=QUESTION,
        language="es",
        passages=passages,
        evidence=evidence,
        drop_unsupported=True,
    )
    assert dropped.answer == good and dropped.unsupported == [bad]


def test_an_answer_in_the_other_language_falls_back_to_the_evidence() -> None:
    evidence = select_evidence("¿Cuántas capas de transformador tiene GPT-3?", NOTES)
    english = "GPT-3 has 96 transformer layers and it is a very large model [1]."
    checked = check_answer(
        english,
        question=QUESTION,
        language="es",
        passages=[p.text for p in NOTES],
        evidence=evidence,
    )
    assert checked.fallback == "language"
    assert checked.answer == evidence_answer(evidence)


def test_a_sentence_the_passages_lack_is_unsupported() -> None:
    evidence = select_evidence(QUESTION, NOTES)
    invented = "GPT-3 fue entrenado en Marte por astronautas rusos en 1950."
    checked = check_answer(
        invented,
        question=QUESTION,
        language="es",
        passages=[p.text for p in NOTES],
        evidence=evidence,
    )
    assert checked.unsupported == [invented] and checked.fallback == "unsupported"


def test_every_fallback_has_a_cli_note_and_ui_line() -> None:
    from rag_app.answering.fallback import CHECK_FALLBACKS
    from rag_app.cli.ask import FALLBACK_NOTES
    from ui.i18n import STRINGS

    assert set(FALLBACK_NOTES) == set(CHECK_FALLBACKS)
    assert all(f"fallback_{name}" in STRINGS for name in CHECK_FALLBACKS)


def test_a_typed_question_needs_the_answer_the_evidence_gives() -> None:
    from rag_app.answering.verify import states_the_answer

    layers = [Evidence("GPT-3 has 96 transformer layers.", 1, "a.pdf", 1, 0.5)]
    assert states_the_answer("How many layers does GPT-3 have?", "It has 96 layers.", layers)
    assert not states_the_answer("How many layers does GPT-3 have?", "It has two.", layers)
    month = [Evidence("The observatory opened in March.", 1, "a.pdf", 1, 0.5)]
    assert states_the_answer("When did the observatory open?", "It opened in March.", month)
    who = [Evidence("It was founded by Elena Vasquez in Brindlemoor.", 1, "a.pdf", 1, 0.5)]
    assert states_the_answer("Who founded it?", "Elena Vasquez founded it.", who)
    assert not states_the_answer("Who founded it?", "It was founded long ago.", who)
    assert states_the_answer("What is attention?", "Anything at all.", who)  # untyped


def test_a_question_the_model_writes_is_not_an_answer() -> None:
    """A base model continues the prompt with questions ("Question: ¿...?", the user's own
    question echoed): its words are all in the passages, yet it answers nothing."""
    evidence = [Evidence("GPT-3 tiene 96 capas de transformador.", 1, "notas.pdf", 3, 0.9)]
    passages = ["GPT-3 tiene 96 capas de transformador y 175 mil millones de parámetros."]
    for echo in ("¿Cuántas capas de transformador tiene GPT-3?",
                 "Question: cuántas capas tiene GPT-3 de transformador"):  # fmt: skip
        checked = check_answer(
            echo, question="¿Cuántas capas tiene GPT-3?", language="es",
            passages=passages, evidence=evidence,
        )  # fmt: skip
        assert checked.fallback == "unsupported" and checked.unsupported == [echo]
