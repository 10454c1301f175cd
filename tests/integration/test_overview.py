"""Summaries, comparisons and enumerations on real parts: notes written by the test (Markdown
and a PDF), real Chroma and the bundled embedder; the chat model is never called.

Every line of such an answer quotes a unit of the documents verbatim and cites its file and
page or section; the route is in the trace and can be forced."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from rag_app.service import RagService
from rag_app.settings import Settings
from tests.support.fakes import NoChatModel
from tests.support.pdfs import make_pdf
from tests.support.spanish_notes import SO_NOTES

pytestmark = pytest.mark.slow


DB_PAGES = [
    "Bases de datos relacionales\n"
    "Una base de datos es un conjunto de datos relacionados entre sí. El modelo relacional "
    "organiza los datos en tablas llamadas relaciones. Cada fila de una relación es una tupla "
    "y cada columna es un atributo.",
    "Transacciones\n"
    "Una transacción es una unidad de trabajo que se ejecuta de forma atómica. Las "
    "transacciones cumplen las propiedades ACID: atomicidad, consistencia, aislamiento y "
    "durabilidad.",
]


@pytest.fixture
def service(settings: Settings, real_models: tuple, tmp_path: Path) -> RagService:
    folder = tmp_path / "notes"
    folder.mkdir()
    notes = folder / "so.md"
    notes.write_text(SO_NOTES, encoding="utf-8")
    pdf = make_pdf(folder / "bd.pdf", DB_PAGES)
    built = RagService(settings, embeddings=real_models[0], chat_model=NoChatModel())
    assert not built.ingest([notes, pdf]).failed
    return built


def chunk_texts(service: RagService) -> str:
    return "\n".join(" ".join(c.page_content.split()) for c in service.store.all_chunks())


def assert_quotes_verbatim(service: RagService, answer: Any) -> None:
    stored = chunk_texts(service)
    assert answer.evidence
    for quoted in answer.evidence:
        first_line = quoted.text.splitlines()[0]
        assert " ".join(first_line.split()) in stored, quoted.text
        assert f"[{quoted.number}]" in answer.answer
        assert answer.sources[quoted.number - 1].source == quoted.source


def test_a_summary_of_a_numbered_section_covers_its_subsections(service: RagService) -> None:
    answer = service.ask("Resume el tema 1", mode="both")  # never calls the model
    route = answer.trace.route or {}
    assert route["kind"] == "summary" and route["scope"] == "section 1"
    for heading in ("1.1. Conceptos", "1.2. Estados de un proceso", "1.3. Planificación"):
        assert heading in answer.answer
    assert "Paginación" not in answer.answer  # tema 2 is not in tema 1's summary
    assert "Nuevo: el proceso se está creando." in answer.answer  # the list, with its lead-in
    assert {s.source for s in answer.sources} == {"so.md"}
    assert route["headings_quoted"] == route["headings"] == 3
    assert_quotes_verbatim(service, answer)


def test_a_summary_of_a_named_document(service: RagService) -> None:
    answer = service.ask("¿De qué trata bd.pdf?", mode="evidence")
    assert (answer.trace.route or {})["kind"] == "summary"
    assert {s.source for s in answer.sources} == {"bd.pdf"}
    assert {s.page for s in answer.sources} == {1, 2}
    assert_quotes_verbatim(service, answer)


def test_an_enumeration_lists_every_definition_of_its_scope(service: RagService) -> None:
    answer = service.ask("Enumera todas las definiciones del tema 1", mode="evidence")
    assert (answer.trace.route or {})["kind"] == "enumeration"
    quoted = [e.text for e in answer.evidence]
    assert "Un proceso es un programa en ejecución." in quoted
    assert "Una hebra es una unidad básica de uso de la CPU." in quoted
    assert any(q.startswith("La latencia de despacho es el tiempo") for q in quoted)
    assert not any("paginación" in q.lower() for q in quoted)  # tema 2's are not listed
    assert_quotes_verbatim(service, answer)


def test_a_comparison_quotes_each_side_aligned(service: RagService) -> None:
    answer = service.ask("¿Qué diferencias hay entre la paginación y la segmentación?")
    route = answer.trace.route or {}
    assert route["kind"] == "comparison" and route["targets"] == ["paginación", "segmentación"]
    first, second = answer.answer.split("**segmentación**")
    assert "La paginación es un esquema" in first
    assert "La segmentación es un esquema" in second
    assert_quotes_verbatim(service, answer)


def test_a_route_can_be_forced_and_a_lookup_is_unchanged(service: RagService) -> None:
    question = "¿Qué es la latencia de despacho?"
    looked_up = service.ask(question, mode="evidence")
    assert (looked_up.trace.route or {})["kind"] == "lookup"
    assert looked_up.trace.candidates  # today's path: retrieval, with its trace
    forced = service.ask("planificación", mode="evidence", route="summary")
    route = forced.trace.route or {}
    assert route["kind"] == "summary" and route["forced"] is True
    assert "1.3. Planificación" in forced.answer
    data = forced.to_dict()
    assert data["trace"]["route"]["kind"] == "summary"


def test_with_a_capable_model_setting_the_model_writes_it_from_the_units_checked(
    settings: Settings, real_models: tuple, tmp_path: Path
) -> None:
    notes = tmp_path / "so.md"
    notes.write_text(SO_NOTES, encoding="utf-8")
    chosen = settings.model_copy(
        update={"answer": settings.answer.model_copy(update={"overview_model": True})}
    )
    service = RagService(chosen, embeddings=real_models[0], chat_model=real_models[1])
    assert not service.ingest([notes]).failed
    answer = service.ask("Resume el tema 2", mode="both", max_tokens=80)
    route = answer.trace.route or {}
    assert route["kind"] == "summary" and route["scope"] == "section 2"
    assert answer.generated is not None  # the model wrote it...
    assert answer.mode == "both" and answer.evidence  # ...from the quoted units,
    quoted = {e.text for e in answer.evidence}
    assert any(q.startswith("La paginación es un esquema") for q in quoted)
    # ...and what the user reads was checked: a sentence the units lack is not shown as fact
    for sentence in answer.unsupported:
        assert sentence not in answer.answer or answer.fallback is not None
    evidence_only = service.ask("Resume el tema 2", mode="evidence")
    assert evidence_only.generated is None and "2.1. Paginación" in evidence_only.answer
