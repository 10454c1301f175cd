"""The question router (``answering.routes``): pure rules over the question's words."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from rag_app.answering.routes import (
    COMPARISON,
    ENUMERATION,
    LOOKUP,
    ROUTES,
    SUMMARY,
    MeaningModel,
    comparison_sides,
    forced,
    named_documents,
    route_question,
)
from rag_app.errors import RagError

DOCS = ["so.pdf", "fbd.pdf", "scd.pdf", "Teoria de Grafos.pdf"]


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("Resume el tema 3", SUMMARY),
        ("¿De qué trata el documento so.pdf?", SUMMARY),
        ("Give me a summary of the chapter on memory management", SUMMARY),
        ("What does chapter 7 cover?", SUMMARY),
        ("¿En qué se diferencian la paginación y la segmentación?", COMPARISON),
        ("Compare FIFO and LRU", COMPARISON),
        ("paging vs segmentation", COMPARISON),
        ("Enumera todas las definiciones del tema 2", ENUMERATION),
        ("List every definition in chapter 2", ENUMERATION),
        ("¿Qué ejemplos hay en el tema 4?", ENUMERATION),
        # look-ups that use the words of the other routes
        ("¿Qué resume el teorema de Bayes?", LOOKUP),
        ("What is the difference quotient?", LOOKUP),
        ("¿Qué es un resumen criptográfico?", LOOKUP),
        ("¿Qué tipos de planificador de procesos hay según el plazo en el que actúan?", LOOKUP),
        ("List the three states of a process", LOOKUP),
        ("¿Todos los procesos tienen un PCB?", LOOKUP),
        ("¿Cuál es la lista de espacio libre?", LOOKUP),
        ("Who founded the Lumora Observatory?", LOOKUP),
    ],
)
def test_routes(question: str, kind: str) -> None:
    assert route_question(question, DOCS).kind == kind


def test_what_a_route_is_about() -> None:
    summary = route_question("Hazme un resumen de la sección de planificación", DOCS)
    assert summary.targets == ("sección de planificación",)
    compared = route_question(
        "¿Qué diferencias hay entre los apuntes de SO y los de SCD sobre semáforos?", DOCS
    )
    assert compared.targets == ("SO", "SCD") and compared.topic == "semáforos"
    assert compared.documents == ("so.pdf", "scd.pdf")
    listed = route_question("Enumera todas las definiciones del tema 2", DOCS)
    assert listed.targets == ("tema 2",) and listed.topic == "definiciones"
    assert comparison_sides("¿Qué tienen en común los semáforos y los monitores?")[0] == (
        "semáforos",
        "monitores",
    )


def test_documents_are_named_by_file_or_stem_and_short_stems_only_in_capitals() -> None:
    assert named_documents("Resume so.pdf", DOCS) == ("so.pdf",)
    assert named_documents("los apuntes de FBD y SO", DOCS) == ("fbd.pdf", "so.pdf")
    assert named_documents("So what is a semaphore?", DOCS) == ()
    assert named_documents("resume teoria de grafos", DOCS) == ("Teoria de Grafos.pdf",)


def test_a_route_can_be_forced_and_an_unknown_one_is_refused() -> None:
    chosen = forced("summary", "Paginación", DOCS)
    assert chosen.kind == SUMMARY and chosen.forced and chosen.reason == "chosen"
    assert forced("auto", "Resume el tema 3", DOCS).kind == SUMMARY
    assert forced("lookup", "Resume el tema 3", DOCS).kind == LOOKUP
    with pytest.raises(RagError, match="route 'digest': unknown; use one of auto, lookup"):
        forced("digest", "Resume el tema 3", DOCS)
    assert route_question("Resume el tema 3").to_dict() == {
        "kind": "summary",
        "reason": "asks for a summary",
        "targets": ["tema 3"],
    }


def model(sure: float) -> MeaningModel:
    """A two-dimensional meaning model: the vector's first coordinate says "summary"."""
    return MeaningModel(
        "test-embedder",
        ("lookup", "summary", "comparison", "enumeration"),
        ((0.0, 1.0), (10.0, 0.0), (0.0, 0.0), (0.0, 0.0)),
        (0.0, 0.0, 0.0, 0.0),
        sure,
    )


def test_the_meaning_model_routes_only_what_no_rule_routes_and_only_when_sure() -> None:
    asked: list[str] = []

    def embed(question: str) -> list[float]:
        asked.append(question)
        return [1.0, 0.0]  # p(summary) ≈ 1

    found = route_question(
        "¿Qué hay que saber del tema 4 para el parcial?", DOCS, embed, model(0.9)
    )
    assert found.kind == SUMMARY and found.reason.startswith("by meaning (p=1.00")
    assert found.targets == ("tema 4 para el parcial",)
    # not sure enough: the look-up stays
    assert route_question("¿Qué hay del tema 4?", DOCS, embed, model(1.01)).kind == LOOKUP
    # a rule decides first: the model is not asked
    asked.clear()
    assert route_question("Compare FIFO and LRU", DOCS, embed, model(0.5)).kind == COMPARISON
    assert asked == []
    # a look-up by meaning: [0, 1] favours lookup
    assert route_question("¿Y eso?", DOCS, lambda _: [0.0, 1.0], model(0.5)).kind == LOOKUP


def test_the_meaning_model_is_read_from_its_file(tmp_path: Path) -> None:
    assert MeaningModel.load(tmp_path / "missing.json") is None
    path = tmp_path / "route_model.json"
    path.write_text(
        json.dumps(
            {
                "embedder": "e",
                "classes": ["lookup", "summary"],
                "weights": [[1.0], [0.0]],
                "bias": [0.0, 0.0],
                "threshold": 0.7,
            }
        )
    )
    loaded = MeaningModel.load(path)
    assert loaded is not None and loaded.threshold == 0.7
    chances = loaded.probabilities([2.0])
    assert chances["lookup"] == pytest.approx(1 / (1 + math.exp(-2.0)))
    shipped = MeaningModel.load()
    assert shipped is not None and shipped.classes == tuple(ROUTES)
