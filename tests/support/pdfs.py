"""PDFs made by the tests themselves (reportlab), so the suite needs no data from outside."""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas


def make_pdf(path: Path, pages: list[str], *, encrypt: object = None) -> Path:
    """One string per page; lines wrapped to the page width. An empty string is a blank page."""
    path.parent.mkdir(parents=True, exist_ok=True)
    pdf = canvas.Canvas(str(path), pagesize=A4, encrypt=encrypt)
    _, height = A4
    for text in pages:
        y = height - 72
        pdf.setFont("Helvetica", 11)
        for paragraph in text.split("\n"):
            for line in textwrap.wrap(paragraph, 90) or [""]:
                pdf.drawString(72, y, line)
                y -= 15
        pdf.showPage()
    pdf.save()
    return path


COURSE_PAGES = [
    "Astronomy 101, unit 3. This handout covers the history of the Lumora Observatory, "
    "its instruments and the people who worked there. Read it before the seminar.",
    "History. The Lumora Observatory was founded in 1887 by the astronomer Elena Vasquez "
    "in the mountain town of Brindlemoor. She directed it for thirty years.",
    "Instruments. The main telescope of the observatory is a reflector whose mirror is "
    "2.4 metres wide. The mirror weighs twelve tonnes and was cast in Glasgow.",
]

SPANISH_PAGES = [
    "Biología, tema 2. Este apunte resume la fotosíntesis y la respiración celular.",
    "La fotosíntesis ocurre en los cloroplastos. Las plantas transforman la luz solar, el agua "
    "y el dióxido de carbono en glucosa y oxígeno.",
]

# Spanish course notes on language models, as in the issue that found the wrong answer
# ("¿Cuántas capas de transformador tiene GPT-3?" answered "dos capas").
LLM_NOTES_PAGES = [
    "Introducción a los modelos de lenguaje. Tema 1. Estos apuntes resumen la arquitectura "
    "transformer y los grandes modelos de lenguaje.",
    "El transformador tiene dos partes: el codificador y el decodificador. La atención "
    "permite que cada palabra mire a todas las demás palabras de la frase.",
    "GPT-3 es un modelo muy grande, con 96 capas de transformador y 175 mil millones de "
    "parámetros. Fue presentado por OpenAI en 2020 y se entrenó con textos de internet.",
]


# A structured page: (kind, text) blocks. Kinds: "title" (bold 20 pt), "h1" (bold 15 pt),
# "h2" (bold 12.5 pt), "p" (a paragraph, 11 pt, first line indented), "li" (a bullet item with a
# hanging indent), "ol" (a numbered item), "label" (a bold label, then its text on the line).
Block = tuple[str, str]


# Course notes as a word processor sets them: headings, labelled lines, a bulleted list after
# its lead-in, a numbered list of steps (tests/unit/test_structure.py, the browser test).
NOTES = [
    [
        ("title", "Modelos de lenguaje"),
        ("h1", "1. Modelos abiertos"),
        (
            "p",
            "Los modelos abiertos publican sus pesos. Cada uno tiene su licencia y sus "
            "requisitos de hardware para ejecutarse en local.",
        ),
        ("h2", "Modelo Zeta"),
        ("label", "Soporte: principalmente en TPUs de la nube de Google"),
        ("label", "Parámetros: siete mil millones"),
        ("h2", "Modelo Omega"),
        ("label", "Soporte: tarjetas gráficas de consumo con ocho gigas de memoria"),
    ],
    [
        ("h1", "2. Inferencia"),
        ("p", "Los sistemas de inferencia tienen tres variantes:"),
        (
            "li",
            "Inferencia local en la CPU del portátil, sin conexión a ninguna red ni a "
            "servicios externos de ningún tipo.",
        ),
        ("li", "Inferencia acelerada en una tarjeta gráfica dedicada."),
        ("li", "Inferencia remota en un servidor compartido."),
        ("p", "El resto del tema trata de la cuantización de los pesos en cuatro bits."),
        ("h2", "2.1. Fallos de página"),
        ("p", "Al tratar un fallo de página el sistema operativo sigue estos pasos:"),
        ("ol", "Comprobar que la dirección pedida es válida."),
        ("ol", "Buscar un marco libre en la memoria principal."),
        ("ol", "Cargar la página desde el disco al marco elegido."),
        ("ol", "Actualizar la tabla de páginas y reanudar el proceso."),
    ],
]


def make_structured_pdf(path: Path, pages: list[list[Block]]) -> Path:
    """Pages laid out as a word processor or LaTeX sets them: headings larger and bold, list
    items indented with their continuation lines under the item's text, no blank lines."""
    path.parent.mkdir(parents=True, exist_ok=True)
    pdf = canvas.Canvas(str(path), pagesize=A4)
    _, height = A4
    for blocks in pages:
        y = height - 72
        number = 0
        for kind, text in blocks:
            if kind in ("title", "h1", "h2"):
                size = {"title": 20, "h1": 15, "h2": 12.5}[kind]
                y -= 8
                pdf.setFont("Helvetica-Bold", size)
                pdf.drawString(72, y, text)
                y -= size + 8
                number = 0
                continue
            indent, hang, marker = 72, 72, ""
            if kind == "li":
                indent, hang, marker = 90, 102, "-"
            elif kind == "ol":
                number += 1
                indent, hang, marker = 90, 106, f"{number}."
            elif kind == "p":
                indent, number = 84, 0
            label, body = ("", text)
            if kind == "label":
                label, body = text.split(": ", 1)
                label += ":"
            lines = textwrap.wrap(body, 80 if kind == "p" else 74) or [""]
            for i, line in enumerate(lines):
                x = indent if i == 0 else hang if kind in ("li", "ol") else 72
                if i == 0 and marker:
                    pdf.setFont("Helvetica", 11)
                    pdf.drawString(indent, y, marker)
                    x = hang
                if i == 0 and label:
                    pdf.setFont("Helvetica-Bold", 11)
                    pdf.drawString(x, y, label)
                    x += pdf.stringWidth(label + " ", "Helvetica-Bold", 11)
                pdf.setFont("Helvetica", 11)
                pdf.drawString(x, y, line)
                y -= 14
        pdf.showPage()
    pdf.save()
    return path


def make_table_pdf(
    path: Path, title: str, rows: list[list[str]], spans: Sequence[tuple[Any, ...]] = ()
) -> Path:
    """A page with a heading, a sentence and a ruled table (a grid, as reports draw them);
    ``spans`` are reportlab's SPAN commands' cell ranges, ((col, row), (col, row)) each."""
    from reportlab.lib import colors
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Table, TableStyle

    path.parent.mkdir(parents=True, exist_ok=True)
    styles = getSampleStyleSheet()
    table = Table(rows)
    table.setStyle(
        TableStyle(
            [("GRID", (0, 0), (-1, -1), 0.5, colors.black)]
            + [("SPAN", start, end) for start, end in spans]
        )
    )
    story = [
        Paragraph(title, styles["Heading1"]),
        Paragraph(
            "Los resultados del ejercicio se resumen en la tabla siguiente.", styles["Normal"]
        ),
        table,
    ]
    SimpleDocTemplate(str(path), pagesize=A4).build(story)
    return path


# Many pages of distinct, numbered facts: files whose embedding takes a while (crash tests).
TOPICS = ["rivers", "glaciers", "volcanoes", "deserts", "forests", "islands"]
TOPIC_FILES = [f"{topic}.pdf" for topic in TOPICS]


def topic_pages(topic: str, pages: int = 5) -> list[str]:
    return [
        f"Chapter {n} on {topic}. "
        + " ".join(
            f"Fact {n}.{i}: the {topic} survey of year {1900 + 7 * n + i} measured site "
            f"{topic[:3].upper()}-{n}{i} at {n * 37 + i} units, a value recorded by team {i}."
            for i in range(12)
        )
        for n in range(1, pages + 1)
    ]
