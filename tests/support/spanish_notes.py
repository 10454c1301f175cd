"""Spanish course notes as PDFs: headings, list items, a question, a footer repeated on every
page; the documents the QA-set generator is tested on."""

from __future__ import annotations

from pathlib import Path

from tests.support.pdfs import make_pdf

FOOTER = "Apuntes de Inteligencia Artificial, curso 2024-2025."
NOTES = {
    "transformadores.pdf": [
        "Tema 4: Modelos de lenguaje basados en transformadores\n"
        "La arquitectura del transformador fue presentada en 2017 en el artículo «Attention Is "
        "All You Need». Sus autores, Ashish Vaswani y otros siete investigadores de Google, "
        "propusieron prescindir de las redes recurrentes. El transformador original tenía 6 "
        "capas en el codificador y 6 capas en el decodificador. Cada capa combina un bloque de "
        "atención con una red neuronal de alimentación directa.\n" + FOOTER,
        "Modelos preentrenados\n"
        "BERT es un modelo codificador que Google publicó en 2018. El modelo base de BERT tiene "
        "12 capas y 110 millones de parámetros, mientras que BERT grande tiene 24 capas. GPT-3 "
        "es un modelo muy grande, con 96 capas de transformador y 175 mil millones de "
        "parámetros. OpenAI presentó GPT-3 en 2020. Estos modelos se entrenan primero con "
        "grandes cantidades de texto sin etiquetar.\n" + FOOTER,
        "Ajuste fino\n"
        "El ajuste fino consiste en seguir entrenando un modelo preentrenado con datos de una "
        "tarea concreta. Por ejemplo, un clasificador de sentimientos puede ajustarse con unos "
        "pocos miles de reseñas etiquetadas. Esto reduce mucho el coste del entrenamiento.\n"
        "- Ventaja: hacen falta menos datos etiquetados.\n"
        "- Inconveniente: existe riesgo de olvido catastrófico.\n" + FOOTER,
    ],
    "atencion.pdf": [
        "Tema 5: El mecanismo de atención\n"
        "La atención es un mecanismo que permite a cada palabra ponderar la importancia de las "
        "demás palabras de la frase. En la autoatención, las consultas, las claves y los "
        "valores proceden de la misma secuencia. Las puntuaciones se dividen por la raíz "
        "cuadrada de la dimensión de las claves, que en el transformador original es 64. "
        "Después se aplica la función softmax para obtener pesos que suman uno.\n" + FOOTER,
        "Atención multicabeza\n"
        "El transformador original usa 8 cabezas de atención en cada capa. Cada cabeza aprende "
        "a fijarse en relaciones distintas, como la concordancia entre sujeto y verbo. La "
        "dimensión del modelo en el transformador base es de 512 valores. ¿Por qué no basta "
        "con una sola cabeza? Porque una sola cabeza promedia todas las relaciones en una "
        "única distribución de pesos.\n" + FOOTER,
        "Coste computacional\n"
        "El coste de la autoatención crece de forma cuadrática con la longitud de la "
        "secuencia. Con una ventana de 2048 tokens, la matriz de atención tiene más de cuatro "
        "millones de entradas por cabeza. Por eso se han propuesto variantes eficientes como "
        "Longformer y la atención dispersa.\n" + FOOTER,
    ],
    "tokenizacion.pdf": [
        "Tema 3: Tokenización\n"
        "La tokenización es el proceso de dividir un texto en unidades más pequeñas llamadas "
        "tokens. Los primeros sistemas usaban palabras completas, pero el vocabulario crecía "
        "sin límite. La codificación por pares de bytes fue adaptada al procesamiento del "
        "lenguaje por Rico Sennrich en 2016.\n" + FOOTER,
        "Subpalabras\n"
        "El algoritmo BPE empieza con caracteres sueltos y fusiona en cada paso el par más "
        "frecuente. GPT-2 utiliza un vocabulario de 50257 tokens. WordPiece, el tokenizador "
        "de BERT, tiene un vocabulario de unas 30000 subpalabras. En español, una palabra "
        "como «desafortunadamente» puede dividirse en cuatro o cinco tokens.\n" + FOOTER,
        "Resumen\n"
        "Un buen tokenizador equilibra el tamaño del vocabulario y la longitud de las "
        "secuencias. Un vocabulario pequeño produce secuencias largas y un vocabulario grande "
        "ocupa más memoria en la capa de embeddings.\n" + FOOTER,
    ],
}
SHORT = NOTES["tokenizacion.pdf"][0].replace(f"\n{FOOTER}", "")  # three sentences
KINDS = {"template:definition", "template:year", "cloze"}


def write_notes(folder: Path) -> Path:
    """NOTES as PDFs in ``folder``."""
    for name, pages in NOTES.items():
        make_pdf(folder / name, pages)
    return folder


# Notes in Markdown with numbered headings, a definition per concept and a list: what
# summaries, comparisons and enumerations are tested on (tests/integration/test_overview.py).
SO_NOTES = """# Tema 1. Procesos

## 1.1. Conceptos

Un proceso es un programa en ejecución. Cada proceso tiene su propio espacio de direcciones
y un bloque de control que guarda su estado.

Una hebra es una unidad básica de uso de la CPU. Las hebras de un proceso comparten su
memoria y sus archivos abiertos.

## 1.2. Estados de un proceso

Un proceso pasa por los siguientes estados:

- Nuevo: el proceso se está creando.
- Listo: espera a que se le asigne la CPU.
- Ejecutando: sus instrucciones se están ejecutando.
- Bloqueado: espera a que ocurra un suceso.

## 1.3. Planificación

El planificador a corto plazo elige el siguiente proceso que se ejecuta. La latencia de
despacho es el tiempo que tarda el despachador en cambiar de proceso. Un buen planificador
reduce el tiempo de espera medio de los procesos.

# Tema 2. Memoria

## 2.1. Paginación

La paginación es un esquema que divide la memoria física en marcos de tamaño fijo. Cada
página de un proceso se carga en un marco libre y la tabla de páginas traduce las
direcciones. La paginación evita la fragmentación externa.

## 2.2. Segmentación

La segmentación es un esquema que divide el programa en segmentos de tamaño variable según
su estructura lógica. Cada segmento tiene una base y un límite en la tabla de segmentos. La
segmentación sufre fragmentación externa.
"""
