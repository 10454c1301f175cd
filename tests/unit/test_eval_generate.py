"""`rag eval generate`: sentence picking and question builders (fake chat model). The real
command: tests/e2e/test_eval_generate.py."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import astuple
from pathlib import Path

import pytest

from ingest.loaders import load_pdf
from rag_app.evaluation.generate import (
    Candidate,
    candidate_sentences,
    factual_score,
    generate_qa,
    make_question,
    pick_sentences,
    usable,
)
from rag_app.evaluation.model_questions import (
    check_reply,
    model_question,
    one_question,
    rejection,
)
from rag_app.evaluation.questions import answer_spans, fallback_question
from tests.support.fakes import QueuedChatModel
from tests.support.pdfs import make_pdf
from tests.support.spanish_notes import FOOTER, KINDS, NOTES, SHORT, write_notes


@pytest.fixture
def notes(tmp_path: Path) -> Path:
    return write_notes(tmp_path / "apuntes")


def fake_model(replies: Iterable[str]) -> QueuedChatModel:
    """A chat model with queued replies, the seam the real one implements."""
    return QueuedChatModel(replies=list(replies))


def flat(text: str) -> str:
    return " ".join(text.split())


# -- which sentences ------------------------------------------------------------------------
@pytest.mark.parametrize(
    "sentence",
    [
        "Tema 4: Modelos de lenguaje basados en transformadores",  # a heading
        "- Ventaja: hacen falta menos datos etiquetados.",  # a list item
        "¿Por qué no basta con una sola cabeza de atención?",  # a question
        "Esto es todo.",  # too short
        "y fusiona en cada paso el par de símbolos más frecuente del corpus.",  # a fragment
        "x = 3 + 4 * (5 - 2) / 7 = 12 + 9 - 4.",  # a formula
        " ".join(["El modelo aprende pesos distintos en cada paso del entrenamiento."] * 5),
    ],
)
def test_unusable_sentences_are_skipped(sentence: str) -> None:
    assert not usable(sentence)


def test_statements_are_usable() -> None:
    assert usable("El transformador original usa 8 cabezas de atención en cada capa.")
    assert usable("The Lumora Observatory was founded in 1887 by the astronomer Elena Vasquez.")


def test_candidates_skip_headings_footers_and_questions(notes: Path) -> None:
    found = candidate_sentences([notes])
    sentences = [c.sentence for c in found]
    assert FOOTER not in sentences  # on every page: layout, not content
    assert not any("?" in s or s.startswith(("-", "Tema")) for s in sentences)
    # the heading line is not glued to the first sentence of its page
    assert "La atención es un mecanismo que permite" in " ".join(sentences)
    assert not any(s.startswith("Atención multicabeza") for s in sentences)
    assert {c.language for c in found} == {"es"}
    for candidate in found:
        page = load_pdf(notes / candidate.source).pages[candidate.page - 1]
        assert candidate.sentence in flat(page.text)


def test_facts_score_above_plain_statements_and_pronouns_below() -> None:
    assert factual_score("Cada capa combina un bloque de atención con una red neuronal.", "es") == 0
    assert factual_score("El transformador original usa 8 cabezas de atención.", "es") > 0
    assert factual_score("La tokenización es el proceso de dividir un texto en tokens.", "es") > 0
    assert factual_score("La idea se atribuye a Rico Sennrich y sus colegas.", "es") > 0
    assert factual_score("Esto reduce mucho el coste del entrenamiento del modelo.", "es") < 0


def candidate(source: str, page: int, score: int) -> Candidate:
    return Candidate(source, page, f"{source} {page} {score}", "es", score)


def test_picks_spread_over_files_and_pages_facts_first() -> None:
    found = [candidate(f, p, s) for f in "ab" for p in range(1, 5) for s in (0, 3)]
    order = pick_sentences(found, 4)
    assert sorted(order, key=str) == sorted(found, key=str)  # every candidate, once
    first = order[:8]
    assert all(c.score == 3 for c in first)  # facts before the rest
    assert [c.source for c in first[:4]] == ["a", "b", "a", "b"]  # files in turn
    assert {c.page for c in first if c.source == "a"} == {1, 2, 3, 4}  # all its pages
    assert [c.page for c in first[:4] if c.source == "a"] == [1, 3]  # spread, not 1 and 2


# -- question builders ----------------------------------------------------------------------
BERT = "El modelo base de BERT tiene 12 capas y 110 millones de parámetros."


def test_number_gives_a_cloze_with_the_number_blanked() -> None:
    question = fallback_question(BERT, "es")
    assert question.generated_by == "cloze" and question.answer_span == "12"
    assert question.text == (
        "Completa la frase de los apuntes: "
        "«El modelo base de BERT tiene ___ capas y 110 millones de parámetros.»"
    )
    english = fallback_question("The original transformer used 8 attention heads per layer.", "en")
    assert english.text == (
        'Fill in the blank from the notes: "The original transformer used ___ attention heads '
        'per layer."'
    )
    assert english.answer_span == "8"


def test_spans_prefer_a_number_with_its_unit_then_a_year_then_a_name() -> None:
    spans = answer_spans("GPT-3, de OpenAI, tiene 96 capas y se presentó en 2020.")
    assert [(s.text, s.kind) for s in spans] == [
        ("96", "number"),
        ("2020", "year"),
        ("OpenAI", "name"),
    ]
    name = fallback_question(
        "La arquitectura fue propuesta por Ashish Vaswani y sus colegas.", "es"
    )
    assert name.answer_span == "Ashish Vaswani" and "por ___ y sus colegas" in name.text


def test_definition_gives_a_what_is_template() -> None:
    es = fallback_question(
        "La tokenización es el proceso de dividir un texto en unidades llamadas tokens.", "es"
    )
    assert es.text == "¿Qué es la tokenización?"
    assert es.generated_by == "template:definition"
    assert es.answer_span == "el proceso de dividir un texto en unidades llamadas tokens"
    en = fallback_question("The attention mechanism is a way to weigh every other token.", "en")
    assert en.text == "What is the attention mechanism?"
    consiste = fallback_question(
        "El ajuste fino consiste en seguir entrenando un modelo con datos de una tarea.", "es"
    )
    assert consiste.text == "¿En qué consiste el ajuste fino?"


@pytest.mark.parametrize(
    "sentence",
    [
        "El modelo es muy grande y tarda semanas en entrenarse.",  # an adjective, not a noun
        "Esta técnica es una mejora sobre las redes recurrentes clásicas.",  # points back
        "El resultado que se obtiene es una matriz de pesos normalizados.",  # a clause
    ],
)
def test_no_definition_template_for_what_is_not_one(sentence: str) -> None:
    assert fallback_question(sentence, "es").generated_by == "cloze"


def test_year_gives_an_in_what_year_template_when_it_reads_well() -> None:
    es = fallback_question(
        "El transformador fue presentado en 2017 por investigadores de Google.", "es"
    )
    assert es.text == "¿En qué año el transformador fue presentado por investigadores de Google?"
    assert (es.generated_by, es.answer_span) == ("template:year", "2017")
    en = fallback_question(
        "The Lumora Observatory was founded in 1887 by the astronomer Elena Vasquez.", "en"
    )
    assert (
        en.text
        == "In what year was the Lumora Observatory founded by the astronomer Elena Vasquez?"
    )
    # a year inside commas would leave a broken question: a cloze instead
    other = fallback_question("La arquitectura, propuesta en 2017, sustituyó a las redes.", "es")
    assert other.generated_by == "cloze" and "___" in other.text


GOOD = "¿Cuántas capas tiene el modelo base de BERT?"


@pytest.mark.parametrize(
    ("reply", "why"),
    [
        ("12 capas.", "not one question"),  # an answer
        ("¿Cuántas capas tiene BERT? ¿Y cuántos parámetros?", "not one question"),
        ("¿Qué?", "not one question"),  # too short
        ("How many layers does the base BERT model have?", "language"),
        ("¿Quién tiene el modelo base de BERT?", "question word"),  # a person for a number
        ("¿Quiétería capas del modelo base de BERT?", "question word"),  # an invented word
        ("¿Cuántas capas tiene el modelo base de BERT en 2019?", "not supported by the sentence"),
        ("¿Cuántas capas tiene el modelo de Gutenberg?", "words not in the sentence"),
        ("¿Cuántas capas tiene?", "too vague"),
        ("¿Cuántas capas tiene el modelo base de BERT y 110 millones de parámetros?",
         "the sentence itself"),
        ("¿Cuántos parámetros tiene el modelo base de BERT con 12 capas?",
         "gives the answer away"),
        ("¿Cuántas capas tiene la modelo base de BERT?", "article"),
    ],
)  # fmt: skip
def test_bad_model_replies_are_rejected_and_the_fallback_used(reply: str, why: str) -> None:
    span = answer_spans(BERT)[0]
    assert check_reply(GOOD, BERT, "es", span) == GOOD  # the same checks let a good one pass
    question = one_question(reply)
    found = "not one question" if question is None else rejection(question, BERT, "es", span)
    assert found == why
    assert check_reply(reply, BERT, "es", span) is None
    made = Candidate("notas.pdf", 1, BERT, "es", 2)
    question_made, rejected = make_question(made, fake_model([reply]), "fake.gguf")
    assert rejected and question_made == fallback_question(BERT, "es")
    assert question_made.generated_by == "cloze"


def test_a_good_model_reply_is_kept() -> None:
    question = model_question(fake_model([f"Pregunta: {GOOD[1:]}"]), "fake.gguf", BERT, "es")
    assert question is not None
    assert (question.text, question.answer_span) == (GOOD, "12")  # ¿ restored
    assert question.generated_by == "model:fake.gguf"
    english = "The base BERT model has 12 layers and 110 million parameters."
    reply = "How many layers does the base BERT model have?\nIt has twelve."
    wanted = "How many layers does the base BERT model have?"
    assert check_reply(reply, english, "en", answer_spans(english)[0]) == wanted
    definition = "La atención es un mecanismo que pondera la importancia de cada palabra."
    assert check_reply("¿Qué es la atención?", definition, "es", None) == "¿Qué es la atención?"
    made = model_question(fake_model(["¿Qué es la atención?"]), "fake.gguf", definition, "es")
    assert (
        made is not None
        and made.answer_span == "un mecanismo que pondera la importancia de cada palabra"
    )
    assert check_reply("¿Cuántas atenciones hay?", definition, "es", None) is None
    # "what is X" only where the sentence defines X
    other = "En la autoatención, las consultas y las claves proceden de la misma secuencia."
    assert rejection("¿Qué es la autoatención?", other, "es", None) == "too vague"


def test_failing_model_still_fills_n(notes: Path) -> None:
    replies = ["Sí.", "GPT-3 has 96 layers.", "¿Quién ganó el mundial de fútbol?"] * 10
    rows, report = generate_qa([notes], 10, fake_model(replies), "fake.gguf")
    assert len(rows) == 10 and report.rejected == 10
    assert report.made["model"] == 0 and sum(report.made.values()) == 10
    assert {r["generated_by"] for r in rows} <= KINDS
    assert {r["source"] for r in rows} == set(NOTES)  # every file
    assert len({r["question"] for r in rows}) == 10


def test_the_models_good_question_is_kept_and_the_others_fall_back(tmp_path: Path) -> None:
    pdf = make_pdf(tmp_path / "corto.pdf", [SHORT])
    definition, year, plain = (c.sentence for c in pick_sentences(candidate_sentences([pdf]), 3))
    assert year.endswith("por Rico Sennrich en 2016.")  # the order the replies are asked in
    good = (
        "¿En qué año fue adaptada la codificación por pares de bytes al procesamiento del lenguaje?"
    )
    chat = fake_model(["GPT-3 has 96 layers.", f"{good}\nFue en 2016.", "Sí."])
    rows, report = generate_qa([pdf], 3, chat, "fake.gguf")
    made = [(r["question"], r["answer_span"], r["generated_by"]) for r in rows]
    assert made == [
        astuple(fallback_question(definition, "es")),
        (good, "2016", "model:fake.gguf"),
        astuple(fallback_question(plain, "es")),
    ]
    assert [r["answer"] for r in rows] == [definition, year, plain]
    assert report.made == {"template": 1, "model": 1, "cloze": 1} and report.rejected == 2
    # each sentence asked once, deterministically, one line, with its answer when it has one
    assert [c.kwargs for c in chat.calls] == [{"temperature": 0.0, "max_tokens": 40}] * 3
    assert [c.stop for c in chat.calls] == [["\n"]] * 3
    assert [c.messages[-1].text for c in chat.calls] == [
        f"Frase: {definition}",
        f"Frase: {year}\nRespuesta: 2016",
        f"Frase: {plain}",
    ]


def test_fewer_sentences_than_asked_gives_them_all(tmp_path: Path) -> None:
    pdf = make_pdf(tmp_path / "corto.pdf", [SHORT])
    rows, report = generate_qa([pdf], 20)
    assert len(rows) == report.usable == 3
