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
    "conversations": {"en": "Conversations", "es": "Conversaciones"},
    "new_chat": {"en": "New conversation", "es": "Nueva conversación"},
    "this_chat": {"en": "This conversation", "es": "Esta conversación"},
    "title_label": {"en": "Title", "es": "Título"},
    "rename": {"en": "Rename", "es": "Renombrar"},
    "export": {"en": "Export as Markdown", "es": "Exportar en Markdown"},
    "delete_chat": {"en": "Delete conversation", "es": "Eliminar conversación"},
    "confirm_delete_chat": {
        "en": "Delete the conversation “{title}”?",
        "es": "¿Borrar la conversación «{title}»?",
    },
    "knowledge_base": {"en": "Knowledge base", "es": "Base de conocimiento"},
    "new_knowledge_base": {"en": "New knowledge base", "es": "Nueva base de conocimiento"},
    "kb_name": {"en": "Name", "es": "Nombre"},
    "create": {"en": "Create", "es": "Crear"},
    "only_documents": {"en": "Only these documents", "es": "Solo estos documentos"},
    "only_documents_help": {
        "en": "Questions search only the chosen documents (all of them when none is chosen).",
        "es": "Las preguntas buscan solo en los documentos elegidos (en todos si no hay ninguno).",
    },
    "upload": {
        "en": "Add documents (PDF, Markdown, HTML, Word, text, JSON)",
        "es": "Añadir documentos (PDF, Markdown, HTML, Word, texto, JSON)",
    },
    "ingesting": {
        "en": "Reading and indexing {n} file(s)…",
        "es": "Leyendo e indexando {n} archivo(s)…",
    },
    "ingest_done": {
        "en": "Indexed {files} file(s): {pages} pages, {chunks} chunks.",
        "es": "Indexados {files} archivo(s): {pages} páginas, {chunks} fragmentos.",
    },
    "embedding_later": {
        "en": "Searchable by keywords now; the meaning index is being built in the background "
        "(answers say so until it is done).",
        "es": "Ya se puede buscar por palabras; el índice de significado se construye en segundo "
        "plano (las respuestas lo indican hasta que termine).",
    },
    "meaning_index": {
        "en": "Meaning index: {percent}% built",
        "es": "Índice de significado: {percent}% construido",
    },
    "embedding_failed": {
        "en": "Building the meaning index stopped: {error}",
        "es": "La construcción del índice de significado se detuvo: {error}",
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
    "uploads_waiting": {
        "en": "Not indexed yet: {names}. They will be when you go back to Chat.",
        "es": "Aún sin indexar: {names}. Se indexarán al volver al Chat.",
    },
    "documents": {"en": "Documents ({n})", "es": "Documentos ({n})"},
    "no_documents": {
        "en": "No documents yet. Add documents above, then ask about them.",
        "es": "Todavía no hay documentos. Añade documentos arriba y luego pregunta.",
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
    "evidence": {
        "en": "Evidence (quoted from your documents)",
        "es": "Evidencia (citada de tus documentos)",
    },
    "model_wording": {
        "en": "The model's wording (checked against the sources)",
        "es": "Redacción del modelo (comprobada con las fuentes)",
    },
    "not_found": {"en": "not found in the sources", "es": "no está en las fuentes"},
    "fallback_language": {
        "en": "The model's answer was not used: it was not in the question's language. "
        "The evidence above is the answer.",
        "es": "No se ha usado la respuesta del modelo: no estaba en el idioma de la pregunta. "
        "La evidencia de arriba es la respuesta.",
    },
    "fallback_uncertain": {
        "en": "This evidence may not answer your question: it is the closest the documents "
        "come, and it matches the question only weakly.",
        "es": "Puede que esta evidencia no responda a tu pregunta: es lo más cercano que hay "
        "en los documentos, y se parece poco a la pregunta.",
    },
    "fallback_unsupported": {
        "en": "The model's answer was not used: nothing it said is in the sources. "
        "The evidence above is the answer.",
        "es": "No se ha usado la respuesta del modelo: nada de lo que decía está en las "
        "fuentes. La evidencia de arriba es la respuesta.",
    },
    "fallback_unanswered": {
        "en": "The model's answer was not used: it did not state what the evidence gives "
        "(the number, date or name asked for). The evidence above is the answer.",
        "es": "No se ha usado la respuesta del modelo: no decía lo que da la evidencia (el "
        "número, la fecha o el nombre que se pregunta). La evidencia de arriba es la respuesta.",
    },
    "dropped": {
        "en": "{n} sentence(s) of the model's answer were left out: not found in the sources.",
        "es": "Se han omitido {n} frase(s) de la respuesta del modelo: no están en las fuentes.",
    },
    "answer_mode": {"en": "Answer with", "es": "Responder con"},
    "route": {"en": "Kind of answer", "es": "Tipo de respuesta"},
    "route_help": {
        "en": "Automatic: read from the question. Look-up: the passages that answer it. "
        "Summary: a named document or section, a quoted sentence or list per sub-section. "
        "Comparison: evidence for each named side, side by side. Every item: all the "
        "definitions, steps or examples of a section. The last three quote your documents "
        "and need no model.",
        "es": "Automático: se deduce de la pregunta. Consulta: los pasajes que la responden. "
        "Resumen: de un documento o sección, una frase o lista citada por apartado. "
        "Comparación: la evidencia de cada parte nombrada, una junto a otra. Todos los "
        "elementos: todas las definiciones, pasos o ejemplos de una sección. Las tres últimas "
        "citan tus documentos y no necesitan modelo.",
    },
    "route_auto": {"en": "Automatic", "es": "Automático"},
    "route_lookup": {"en": "Look-up", "es": "Consulta"},
    "route_summary": {"en": "Summary", "es": "Resumen"},
    "route_comparison": {"en": "Comparison", "es": "Comparación"},
    "route_enumeration": {"en": "Every item", "es": "Todos los elementos"},
    "route_chosen": {"en": "chosen by you", "es": "elegido por ti"},
    "route_also": {"en": "Also covered", "es": "También trata"},
    "answer_mode_help": {
        "en": "Every answer starts with its evidence: the sentences of your documents that "
        "answer, quoted. Evidence only: nothing more (no model, instant). Model, from "
        "passages: then the model's answer, written from the passages. Evidence + model: "
        "then the model's wording of the evidence. The model's sentences are checked against "
        "the sources.",
        "es": "Cada respuesta empieza por su evidencia: las frases de tus documentos que "
        "responden, citadas. Solo la evidencia: nada más (sin modelo, al instante). Modelo, "
        "con los pasajes: después la respuesta del modelo, escrita a partir de los pasajes. "
        "Evidencia + modelo: después la redacción del modelo a partir de la evidencia. Las "
        "frases del modelo se comprueban con las fuentes.",
    },
    "mode_evidence": {"en": "Evidence only", "es": "Solo la evidencia"},
    "mode_generate": {"en": "Model, from passages", "es": "Modelo, con los pasajes"},
    "mode_both": {"en": "Evidence + model", "es": "Evidencia + modelo"},
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
    "catalog": {"en": "Switch model ({n} found)", "es": "Cambiar de modelo ({n} encontrados)"},
    "catalog_none": {
        "en": "No GGUF models found. Add their folders to llm.model_dirs.",
        "es": "No se han encontrado modelos GGUF. Añade sus carpetas a llm.model_dirs.",
    },
    "catalog_use": {"en": "Use", "es": "Usar"},
    "catalog_in_use": {"en": "in use", "es": "en uso"},
    "catalog_context": {"en": "{n} context", "es": "contexto {n}"},
    "catalog_unusable": {"en": "unusable: {reason}", "es": "no se puede usar: {reason}"},
    "catalog_switched": {
        "en": "Now using {name} (saved in {file}).",
        "es": "Ahora se usa {name} (guardado en {file}).",
    },
    "catalog_overridden": {
        "en": "Saved in {file}, but not in use: {reason}.",
        "es": "Guardado en {file}, pero no se usa: {reason}.",
    },
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
        "en": "no documents to write questions from; add some on the main page first",
        "es": "no hay documentos de los que sacar preguntas; añade PDF en la página principal",
    },
    "eval_strategies": {"en": "Strategies to compare", "es": "Estrategias a comparar"},
    "eval_modes": {
        "en": "Answer modes to compare (evidence: quotes only; generate; both)",
        "es": "Modos de respuesta a comparar (evidence: solo citas; generate; both)",
    },
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
    "folder_title": {"en": "Linked folder", "es": "Carpeta enlazada"},
    "folder_none": {
        "en": "This knowledge base follows no folder. Link one and it takes in what you add to it.",
        "es": "Esta base no sigue ninguna carpeta. Enlaza una y recogerá lo que añadas en ella.",
    },
    "folder_linked": {"en": "Follows {folder}", "es": "Sigue {folder}"},
    "folder_last_sync": {
        "en": "Last sync: {when} (UTC)",
        "es": "Última sincronización: {when} (UTC)",
    },
    "folder_never": {"en": "Not synced yet.", "es": "Aún sin sincronizar."},
    "folder_missing": {
        "en": "{n} file(s) gone from the folder: left out of answers, removed after the grace "
        "period unless they come back.",
        "es": "{n} archivo(s) ya no están en la carpeta: fuera de las respuestas; se borran "
        "tras el plazo de gracia si no vuelven.",
    },
    "folder_missing_names": {"en": "Gone files ({n})", "es": "Archivos que faltan ({n})"},
    "folder_waiting": {
        "en": "{n} passage(s) still wait for their vectors (searchable by keywords meanwhile).",
        "es": "{n} fragmento(s) esperan aún sus vectores (mientras, se buscan por palabras).",
    },
    "folder_sync_now": {"en": "Sync now", "es": "Sincronizar ahora"},
    "folder_syncing": {"en": "Syncing the folder…", "es": "Sincronizando la carpeta…"},
    "folder_synced": {
        "en": "Synced: {added} added, {changed} changed, {renamed} renamed, {missing} gone, "
        "{restored} back, {removed} removed.",
        "es": "Sincronizada: {added} nuevos, {changed} cambiados, {renamed} renombrados, "
        "{missing} desaparecidos, {restored} recuperados, {removed} borrados.",
    },
    "folder_still_writing": {
        "en": "Still being written, skipped: {path} (the next sync takes it).",
        "es": "Aún se está escribiendo, omitido: {path} (la próxima sincronización lo recoge).",
    },
    "folder_unplugged": {
        "en": "The folder is not there (unplugged?): nothing changed.",
        "es": "La carpeta no está (¿desconectada?): no se ha cambiado nada.",
    },
    "folder_link_title": {"en": "Link a folder", "es": "Enlazar una carpeta"},
    "folder_change_title": {
        "en": "Change or unlink the folder",
        "es": "Cambiar o desenlazar la carpeta",
    },
    "folder_path": {"en": "Folder on this machine", "es": "Carpeta en este equipo"},
    "folder_link": {"en": "Link", "es": "Enlazar"},
    "folder_unlink": {
        "en": "Unlink (documents stay)",
        "es": "Desenlazar (los documentos se quedan)",
    },
}


def t(key: str, language: str, **values: object) -> str:
    text = STRINGS[key].get(language) or STRINGS[key]["en"]
    return text.format(**values) if values else text


def default_language(locale: str | None) -> str:
    """The browser's language when it is one we have, else English."""
    code = (locale or "").split("-")[0].lower()
    return code if code in LANGUAGES else "en"
