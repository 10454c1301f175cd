"""Interface strings in English and Spanish. Answers follow the question's language instead."""

from __future__ import annotations

LANGUAGES = {"en": "English", "es": "Español"}

STRINGS: dict[str, dict[str, str]] = {
    "title": {"en": "Ask your PDFs", "es": "Pregunta a tus PDF"},
    "nav_chat": {"en": "Chat", "es": "Chat"},
    "caption": {
        "en": "Answers come from a model on this machine, with the page of every passage.",
        "es": "Las respuestas salen de un modelo en este equipo, con la página de cada pasaje.",
    },
    "language": {"en": "Interface language", "es": "Idioma de la interfaz"},
    "upload": {"en": "Add PDF files", "es": "Añadir archivos PDF"},
    "ingesting": {
        "en": "Reading and indexing {n} file(s)…",
        "es": "Leyendo e indexando {n} archivo(s)…",
    },
    "ingest_done": {
        "en": "Indexed {files} file(s): {pages} pages, {chunks} chunks.",
        "es": "Indexados {files} archivo(s): {pages} páginas, {chunks} fragmentos.",
    },
    "reused": {
        "en": "{chunks} passage(s) unchanged from the earlier version kept their vectors: only "
        "the new text was embedded.",
        "es": "{chunks} fragmento(s) sin cambios respecto a la versión anterior conservan sus "
        "vectores: solo se ha procesado el texto nuevo.",
    },
    "unchanged": {
        "en": "{name} is already indexed and unchanged: nothing added.",
        "es": "{name} ya está indexado y no ha cambiado: no se añade nada.",
    },
    "failed": {"en": "Not added: {line}", "es": "No añadido: {line}"},
    "documents": {"en": "Documents ({n})", "es": "Documentos ({n})"},
    "no_documents": {
        "en": "No documents yet. Add PDFs above, then ask about them.",
        "es": "Todavía no hay documentos. Añade PDF arriba y luego pregunta.",
    },
    "pages_chunks": {
        "en": "{pages} pages · {chunks} chunks",
        "es": "{pages} páginas · {chunks} fragmentos",
    },
    "delete": {"en": "Delete", "es": "Eliminar"},
    "confirm_delete": {
        "en": "Delete {name} and all its passages?",
        "es": "¿Eliminar {name} y todos sus pasajes?",
    },
    "yes_delete": {"en": "Yes, delete", "es": "Sí, eliminar"},
    "cancel": {"en": "Cancel", "es": "Cancelar"},
    "deleted": {"en": "Deleted {name}.", "es": "Eliminado {name}."},
    "chat_placeholder": {"en": "Ask about your documents", "es": "Pregunta sobre tus documentos"},
    "upload_first": {
        "en": "There are no documents yet: upload PDFs first, then ask.",
        "es": "Todavía no hay documentos: sube primero algún PDF y luego pregunta.",
    },
    "sources": {"en": "Sources", "es": "Fuentes"},
    "page": {"en": "page", "es": "página"},
    "score": {"en": "score", "es": "puntuación"},
    "draws_on": {"en": "the answer draws on it", "es": "la respuesta se basa en él"},
    "timings": {
        "en": "First token {first:.1f} s · total {total:.1f} s · {tps:.0f} tokens/s",
        "es": "Primer token {first:.1f} s · total {total:.1f} s · {tps:.0f} tokens/s",
    },
    "trace": {"en": "Retrieval details", "es": "Detalles de la búsqueda"},
    "settings": {"en": "Answer settings", "es": "Ajustes de respuesta"},
    "k": {"en": "Passages per answer", "es": "Pasajes por respuesta"},
    "strategy": {"en": "Retrieval strategy", "es": "Estrategia de búsqueda"},
    "strategy_help": {
        "en": "hybrid: keywords + meaning (best measured); similarity: meaning only; "
        "bm25: keywords only; mmr: varied passages; multi-query / hyde: the model rewrites "
        "the question first (slower).",
        "es": "hybrid: palabras clave + significado (la mejor medida); similarity: solo "
        "significado; bm25: solo palabras clave; mmr: pasajes variados; multi-query / hyde: "
        "el modelo reescribe la pregunta antes (más lento).",
    },
    "temperature": {"en": "Temperature", "es": "Temperatura"},
    "max_tokens": {"en": "Longest answer (tokens)", "es": "Respuesta más larga (tokens)"},
    "models": {"en": "Models in use", "es": "Modelos en uso"},
    "clear": {"en": "Clear chat", "es": "Borrar conversación"},
    "error": {"en": "Error: {message}", "es": "Error: {message}"},
    "eval_title": {"en": "Evaluate answers", "es": "Evaluar respuestas"},
    "eval_caption": {
        "en": "Run a QA set through each strategy and see the scores, worst questions first. "
        "The same as `rag eval`; docs/EVALUATION.md says how each score is computed.",
        "es": "Pasa un conjunto de preguntas por cada estrategia y mira las puntuaciones, las "
        "peores preguntas primero. Igual que `rag eval`; docs/EVALUATION.md explica cada una.",
    },
    "eval_upload": {
        "en": "QA set (.jsonl, .json or .csv with a 'question' column)",
        "es": "Preguntas (.jsonl, .json o .csv con una columna 'question')",
    },
    "eval_n": {"en": "Questions to generate", "es": "Preguntas a generar"},
    "eval_generate": {
        "en": "Or generate a QA set from my documents",
        "es": "O generar preguntas a partir de mis documentos",
    },
    "eval_generating": {"en": "Writing questions…", "es": "Escribiendo preguntas…"},
    "eval_no_docs": {
        "en": "no documents to write questions from; add PDFs on the main page first",
        "es": "no hay documentos de los que sacar preguntas; añade PDF en la página principal",
    },
    "eval_strategies": {"en": "Strategies to compare", "es": "Estrategias a comparar"},
    "eval_judge": {
        "en": "Also judge with the LLM (slow; a small model is a weak judge)",
        "es": "Juzgar también con el LLM (lento; un modelo pequeño juzga mal)",
    },
    "eval_count": {"en": "{n} question(s) loaded.", "es": "{n} pregunta(s) cargadas."},
    "eval_run": {"en": "Run the evaluation", "es": "Ejecutar la evaluación"},
    "eval_running": {"en": "Answering…", "es": "Respondiendo…"},
    "eval_chart": {"en": "Mean score per strategy", "es": "Puntuación media por estrategia"},
    "eval_worst": {"en": "Questions, worst first", "es": "Preguntas, las peores primero"},
    "eval_download": {"en": "Download the HTML report", "es": "Descargar el informe HTML"},
}


def t(key: str, language: str, **values: object) -> str:
    text = STRINGS[key].get(language) or STRINGS[key]["en"]
    return text.format(**values) if values else text


def default_language(locale: str | None) -> str:
    """The browser's language when it is one we have, else English."""
    code = (locale or "").split("-")[0].lower()
    return code if code in LANGUAGES else "en"
