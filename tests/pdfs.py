"""PDFs made by the tests themselves (reportlab), so the suite needs no data from outside."""

from __future__ import annotations

import textwrap
from pathlib import Path

from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas


def make_pdf(path: Path, pages: list[str], *, encrypt: object = None) -> Path:
    """One string per page; lines wrapped to the page width. An empty string is a blank page."""
    path.parent.mkdir(parents=True, exist_ok=True)
    pdf = canvas.Canvas(str(path), pagesize=A4, encrypt=encrypt)  # type: ignore[arg-type]
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
