"""Course material as it is: a PDF's headings, lists and labels read at ingest, its text
repaired, and evidence that quotes a list whole, finds a subject named only by a heading and
answers an ordinal question with the right item. Generated PDFs, no model."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest.loaders import clean_text, load_pdf
from ingest.splitter import split_document
from ingest.tables import write_table
from rag_app.answering.answers import Source
from rag_app.answering.evidence import defines_asked, ordinal, select_evidence, wants_list
from rag_app.service import RagService
from rag_app.settings import Settings
from rag_app.text.claims import location
from rag_app.text.units import units
from tests.support.embeddings import BagOfWordsEmbeddings
from tests.support.pdfs import NOTES, make_pdf, make_structured_pdf, make_table_pdf


@pytest.fixture(scope="module")
def notes(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_structured_pdf(tmp_path_factory.mktemp("structure") / "apuntes.pdf", NOTES)


def _passages(path: Path) -> list[Source]:
    chunks = split_document(load_pdf(path), chunk_size=800, chunk_overlap=120)
    return [Source.from_hit(i, chunk, 0.5) for i, chunk in enumerate(chunks, start=1)]


def test_headings_get_levels_by_size(notes: Path) -> None:
    first, second = load_pdf(notes).pages
    lines = first.text.splitlines()
    assert "# Modelos de lenguaje" in lines
    assert "## 1. Modelos abiertos" in lines
    assert "### Modelo Zeta" in lines and "### Modelo Omega" in lines
    assert "## 2. Inferencia" in second.text.splitlines()
    # a bold label is not a heading: it stays on its line with its value
    assert "Soporte: principalmente en TPUs de la nube de Google" in lines


def test_list_items_keep_their_continuation_and_end_before_the_next_paragraph(
    notes: Path,
) -> None:
    found = units(load_pdf(notes).pages[1].text)
    items = [u for u in found if u.kind == "item"]
    assert [u.item for u in items[:3]] == [1, 2, 3]
    assert items[0].text.endswith("servicios externos de ningún tipo.")
    assert items[2].text == "- Inferencia remota en un servidor compartido."
    assert items[0].lead == "Los sistemas de inferencia tienen tres variantes:"
    lists = [u for u in found if u.kind == "list"]
    assert lists[0].text.splitlines()[0] == "Los sistemas de inferencia tienen tres variantes:"
    assert len(lists[0].text.splitlines()) == 4  # the lead-in and its three items
    # the paragraph after the list is a sentence of its own, not part of the last item
    assert any(u.kind == "sentence" and u.text.startswith("El resto del tema") for u in found)
    numbered = [u for u in items if u.heading.endswith("2.1. Fallos de página")]
    assert [u.item for u in numbered] == [1, 2, 3, 4]


def test_chunks_carry_their_section_path_across_pages(notes: Path) -> None:
    chunks = split_document(load_pdf(notes), chunk_size=200, chunk_overlap=20)
    zeta = next(c for c in chunks if "TPUs" in c.page_content)
    assert zeta.metadata["page"] == 1
    assert str(zeta.metadata["section"]).endswith("Modelo Zeta")
    assert zeta.page_content.startswith(f"{zeta.metadata['section']}\n")  # searched with it
    steps = next(c for c in chunks if "marco libre" in c.page_content)
    assert steps.metadata["page"] == 2
    assert str(steps.metadata["section"]).endswith("2. Inferencia › 2.1. Fallos de página")
    where = location("apuntes.pdf", 1, str(zeta.metadata["section"]))
    assert where.startswith("page 1 › ") and where.endswith("Modelo Zeta")


def test_a_slide_is_a_title_and_its_bullets(tmp_path: Path) -> None:
    slide = make_structured_pdf(
        tmp_path / "slides.pdf",
        [
            [
                ("title", "Ventajas de la paginación"),
                ("li", "No hay fragmentación externa."),
                ("li", "Los marcos se asignan de uno en uno."),
                ("li", "Compartir páginas entre procesos es sencillo."),
            ]
        ],
    )
    text = load_pdf(slide).pages[0].text
    assert text.splitlines()[0] == "# Ventajas de la paginación"
    found = units(text)
    assert [u.item for u in found if u.kind == "item"] == [1, 2, 3]
    (whole,) = [u for u in found if u.kind == "list"]
    assert whole.heading == "Ventajas de la paginación" and len(whole.text.splitlines()) == 3


def test_a_pdf_without_styles_reads_as_before(tmp_path: Path) -> None:
    plain = make_pdf(tmp_path / "plain.pdf", ["One line of text.\nAnother line of text."])
    assert load_pdf(plain).pages[0].text == "One line of text.\nAnother line of text."


def test_a_list_question_quotes_the_lead_in_and_every_item(notes: Path) -> None:
    evidence = select_evidence(
        "¿Qué variantes tienen los sistemas de inferencia?", _passages(notes)
    )
    best = evidence[0].text.splitlines()
    assert best[0] == "Los sistemas de inferencia tienen tres variantes:"
    assert len(best) == 4 and "servidor compartido" in best[3]
    assert evidence[0].page == 2


def test_a_subject_named_only_by_its_heading_is_found(notes: Path) -> None:
    for question, wanted in [
        ("¿En qué infraestructura se ejecuta el modelo Zeta? ¿Qué soporte tiene?", "TPUs"),
        ("¿Qué soporte necesita el modelo Omega?", "tarjetas gráficas de consumo"),
    ]:
        evidence = select_evidence(question, _passages(notes))
        assert wanted in evidence[0].text, (question, evidence)
        assert evidence[0].section.endswith(question.split("modelo ")[1].split("?")[0])


@pytest.mark.parametrize(
    ("question", "wanted"),
    [
        ("Al tratar un fallo de página, ¿qué se hace en el tercer paso?", "Cargar la página"),
        ("When handling a page fault, what is the fourth step?", "Actualizar la tabla"),
        ("¿Cuál es el 2º paso al tratar un fallo de página?", "Buscar un marco libre"),
    ],
)
def test_an_ordinal_question_picks_that_item(notes: Path, question: str, wanted: str) -> None:
    evidence = select_evidence(question, _passages(notes))
    assert wanted in evidence[0].text, evidence


def test_ordinals_in_spanish_and_english() -> None:
    assert ordinal("¿Cuál es el tercer paso?") == 3
    assert ordinal("¿Y la cuarta fase?") == 4
    assert ordinal("What is the second step?") == 2
    assert ordinal("the 3rd item") == 3 and ordinal("el 5º punto") == 5
    assert ordinal("¿Cuántos pasos tiene?") is None


@pytest.mark.parametrize(
    ("raw", "repaired"),
    [
        ("/one.osf./two.osf. Paginación", "1.2. Paginación"),
        ("x /equal.tosf 3; #include /less.tosfstdio.h/greater.tosf", "x = 3; #include <stdio.h>"),
        ("£Cómo se crea un proceso? Cuesta £5.", "¿Cómo se crea un proceso? Cuesta £5."),
        ("la planiﬁcación de ﬂujos", "la planificación de flujos"),
        (
            "Usa [Chroma](https://docs.trychroma.com) y ![diagrama](img/a.png) [LangChain](#x).",
            "Usa Chroma y LangChain.",
        ),
        ("Parámetros:La versión más reciente", "Parámetros: La versión más reciente"),
        ("a las 10:30 en http://ejemplo.org", "a las 10:30 en http://ejemplo.org"),
        ("procedimien-\ntos del servicio", "procedimientos del servicio"),
    ],
)
def test_text_repairs(raw: str, repaired: str) -> None:
    assert clean_text(raw) == repaired


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_table_pdf(
        tmp_path_factory.mktemp("tables") / "informe.pdf",
        "Informe financiero",
        [
            ["Región", "Ingresos", "", "Gastos", ""],
            ["", "2022", "2023", "2022", "2023"],
            ["Norte", "1.200", "1.450", "900", "950"],
            ["Sur", "800", "1.100", "700", "720"],
        ],
        spans=[((1, 0), (2, 0)), ((3, 0), (4, 0)), ((0, 0), (0, 1))],
    )


def test_a_table_row_travels_with_both_header_rows(report: Path) -> None:
    lines = load_pdf(report).pages[0].text.splitlines()
    assert "Región | Ingresos 2022 | Ingresos 2023 | Gastos 2022 | Gastos 2023:" in lines
    assert (
        "- Norte | Ingresos 2022: 1.200 | Ingresos 2023: 1.450 | Gastos 2022: 900 | "
        "Gastos 2023: 950"
    ) in lines


def test_a_table_question_quotes_the_row_with_its_headers(report: Path) -> None:
    evidence = select_evidence("¿Cuáles fueron los gastos de la región Sur?", _passages(report))
    assert "Sur | Ingresos 2022: 800" in evidence[0].text
    assert "Gastos 2023: 720" in evidence[0].text


def test_a_framed_box_or_a_header_alone_is_not_a_table() -> None:
    assert write_table([["int main() {"], ["return 0;"], ["}"]]) == ""  # one column: a frame
    assert write_table([["Nombre", "Valor"]]) == ""  # no row under the header
    assert (
        write_table([["Nombre", "Valor"], ["pi", "3.14"]]) == "Nombre | Valor:\n- pi | Valor: 3.14"
    )


def test_a_list_cut_by_the_chunk_boundary_is_quoted_whole(settings: Settings) -> None:
    """The chunk that holds a list's lead-in ends inside the list: the evidence reads on into
    the next chunk of the same page, so every item is quoted (chunks of 300 characters)."""
    settings.chunking.chunk_size, settings.chunking.chunk_overlap = 300, 40
    settings.answer.evidence_threshold, settings.retrieval.relevance_threshold = 0.0, -1.0
    service = RagService(settings, embeddings=BagOfWordsEmbeddings())
    lead = "El sublenguaje de datos de un gestor de bases de datos tiene tres partes:"
    items = [
        "- DDL: el sublenguaje de definición de datos, con el que se definen las estructuras "
        "y los esquemas de la base de datos.",
        "- DML: el sublenguaje de manipulación, con el que se introducen, modifican, borran y "
        "consultan los datos de los esquemas.",
        "- DCL: el sublenguaje de control, que gestiona los permisos de acceso y otras tareas "
        "de administración.",
    ]
    page = "\n".join(["Introducción a los lenguajes de una base de datos.", "", lead, *items])
    service.ingest_texts([("lenguajes.pdf", [page])])
    chunks = service.store.chunk_documents([f"{service.documents()[0].doc_id}-000000"])
    assert "DCL" not in next(iter(chunks.values())).page_content  # the list is cut
    answer = service.ask("¿Qué partes tiene el sublenguaje de datos?", mode="evidence", k=1)
    quoted = answer.evidence[0].text.splitlines()
    assert quoted[0] == lead and [q[:5] for q in quoted[1:]] == ["- DDL", "- DML", "- DCL"]


def test_a_numbered_list_whose_items_have_paragraphs_is_one_list() -> None:
    text = (
        "El sistema controla el espacio libre.\n\n"
        "La lista de espacio libre tiene varias implementaciones:\n"
        "1. Mapa o vector de bits:\n\nCada bloque se representa con un bit.\n\n"
        "2. Lista enlazada:\n\nEnlaza todos los bloques libres del disco.\nNo derrocha espacio.\n\n"
        "3. Cuenta:\n\nGuarda la dirección del primer bloque libre."
    )
    found = units(text)
    (whole,) = [u for u in found if u.kind == "list"]
    assert whole.text.splitlines() == [
        "La lista de espacio libre tiene varias implementaciones:",
        "1. Mapa o vector de bits:",
        "2. Lista enlazada:",
        "3. Cuenta:",
    ]
    assert any(u.text == "No derrocha espacio." for u in found)  # the paragraphs stay


def test_a_lead_in_that_says_little_takes_the_sentence_before() -> None:
    found = units("El planificador asigna la CPU a los procesos. Puede ser:\n- a largo plazo\n"
                  "- a corto plazo\n- a medio plazo")  # fmt: skip
    (whole,) = [u for u in found if u.kind == "list"]
    assert whole.text.splitlines()[0] == "El planificador asigna la CPU a los procesos. Puede ser:"


@pytest.mark.parametrize(
    ("question", "several"),
    [
        ("¿Qué tipos de planificador hay?", True),
        ("¿En qué áreas generales tienen requisitos propios?", True),
        ("¿Cuáles son los elementos de un protocolo?", True),
        ("¿Qué información guarda cada entrada?", True),
        ("What steps does the algorithm take?", True),
        ("What are the parts of a cell?", True),
        ("¿Qué es un proceso?", False),
        ("¿Qué tamaño tienen los marcos?", False),
        ("¿En qué año se fundó?", False),
        ("What is the capital of France?", False),
    ],
)
def test_a_question_that_asks_for_several_things(question: str, several: bool) -> None:
    assert wants_list(question) is several


def test_a_definition_is_told_from_a_use_of_the_words() -> None:
    asked = "¿Cómo se define una base de datos?"
    assert defines_asked(asked, "Base de datos: conjunto de datos comunes a un proyecto.")
    assert defines_asked("What is a process?", "A process is a program in execution.")
    assert not defines_asked(asked, "Elementos de una base de datos:")
    assert not defines_asked("¿Cuándo se fundó?", "Base: un dato.")


def test_a_definition_question_quotes_the_definition_over_a_list_using_its_words() -> None:
    passage = Source(
        1, "bd.pdf", 6,
        "Elementos de una base de datos:\n- Datos: integrados y compartidos.\n"
        "- Software: programas que gestionan la base de datos.\n\n"
        "Base de datos: conjunto de datos comunes a un proyecto almacenados sin redundancia.",
        0.5, "c1",
    )  # fmt: skip
    evidence = select_evidence("¿Cómo se define una base de datos?", [passage])
    assert evidence[0].text.startswith("Base de datos: conjunto de datos comunes")


def test_a_chunk_that_starts_with_its_heading_names_it_once() -> None:
    found = units(
        "Apuntes › 2. Inferencia\n## 2. Inferencia\n\nHay tres variantes de ella.",
        "Apuntes › 2. Inferencia",
    )
    assert found[0].heading == "Apuntes › 2. Inferencia"


def test_the_page_image_marks_the_whole_list(notes: Path) -> None:
    from ingest.render import render_page
    from tests.support.images import yellow_pixels

    listed = next(u for u in units(load_pdf(notes).pages[1].text) if u.kind == "list")
    lead, *items = listed.text.splitlines()
    whole = yellow_pixels(render_page(notes, 2, highlight=[listed.text]))
    assert whole > yellow_pixels(render_page(notes, 2, highlight=[lead])) + yellow_pixels(
        render_page(notes, 2, highlight=[items[-1]])
    )


def test_a_long_list_is_quoted_up_to_a_bound() -> None:
    items = [f"- paso número {n} del proceso de arranque" for n in range(1, 13)]
    found = units("El arranque sigue estos pasos:\n" + "\n".join(items))
    whole = next(u for u in found if u.kind == "list").text.splitlines()
    assert whole[0] == "El arranque sigue estos pasos:" and whole[1:9] == items[:8]
    assert whole[9:] == ["… 4 more"]
