"""The shared text rules: sentence splitting (es/en edge cases), numbers, support, language."""

from __future__ import annotations

import pytest

from rag_app.text.claims import statements, supported
from rag_app.text.language import language_of, numbers
from rag_app.text.units import split_sentences


@pytest.mark.parametrize(
    ("passage", "expected"),
    [
        (
            "¿Qué es un transformador? Es una red neuronal. ¡Funciona muy bien!",
            ["¿Qué es un transformador?", "Es una red neuronal.", "¡Funciona muy bien!"],
        ),
        (
            "El Dr. García llegó a las 9. Luego habló el Sr. Pérez.",
            ["El Dr. García llegó a las 9.", "Luego habló el Sr. Pérez."],
        ),
        (
            "The value is 4.6 on average. It rose to 5.2 in 2020.",
            ["The value is 4.6 on average.", "It rose to 5.2 in 2020."],
        ),
        (
            "El modelo pesa 2,5 kg, p. ej. en la versión base. Otros pesan más.",
            ["El modelo pesa 2,5 kg, p. ej. en la versión base.", "Otros pesan más."],
        ),
        (
            "J. R. R. Tolkien wrote it. Mr. Smith read it, e.g. at night.",
            ["J. R. R. Tolkien wrote it.", "Mr. Smith read it, e.g. at night."],
        ),
        (
            "Los EE. UU. tienen 50 estados. México tiene 32.",
            ["Los EE. UU. tienen 50 estados.", "México tiene 32."],
        ),
        (
            "Ventajas:\n- es rápido\n- es barato\n1. Primero, leer.\n2. Después, resumir.",
            [
                "Ventajas:",
                "- es rápido",
                "- es barato",
                "1. Primero, leer.",
                "2. Después, resumir.",
            ],
        ),
        (
            "## Tema 2\n**GPT-3** es un modelo muy grande, con 96 capas\nde transformador. Fin.",
            ["Tema 2", "GPT-3 es un modelo muy grande, con 96 capas de transformador.", "Fin."],
        ),
        (
            'He said "Stop." Then he left. (It was late.) She stayed.',
            ['He said "Stop."', "Then he left.", "(It was late.)", "She stayed."],
        ),
        (
            "A line wrapped\nin the middle of a sentence.",
            ["A line wrapped in the middle of a sentence."],
        ),
        (
            "Paragraph one.\n\nparagraph two has no capital",
            ["Paragraph one.", "paragraph two has no capital"],
        ),
        ("", []),
    ],
)
def test_split_sentences(passage: str, expected: list[str]) -> None:
    assert split_sentences(passage) == expected


def test_numbers_compare_digits_and_small_number_words() -> None:
    assert numbers("96 capas y 175 mil millones") == {"96", "175"}
    assert numbers("dos capas de encabezado") == {"2"}
    assert numbers("It weighs twelve tonnes, 1,000 kg") == {"12", "1000"}
    assert numbers("one of the 4.6 and 4,6") == {"46"}


def test_supported_needs_the_words_and_the_numbers() -> None:
    passage = "GPT-3 es un modelo muy grande, con 96 capas de transformador."
    assert supported("GPT-3 tiene 96 capas de transformador.", [passage])
    assert not supported("GPT-3 tiene dos capas de transformador.", [passage])
    assert not supported("El transformador tiene 12 capas.", [passage])
    assert not supported("Los gatos duermen mucho.", [passage])


def test_language_of_an_answer_needs_enough_words() -> None:
    assert language_of("The mirror is 2.4 metres wide and it was cast in Glasgow.") == "en"
    assert language_of("El espejo mide 2,4 metros y se fundió en Glasgow.") == "es"
    assert language_of("96") is None
    assert language_of("Elena Vasquez.") is None


def test_statements_drop_citations_and_empty_claims() -> None:
    assert statements("It is 2.4 m wide [1]. It weighs twelve tonnes [2].\nOk") == [
        "It is 2.4 m wide.",
        "It weighs twelve tonnes.",
    ]
