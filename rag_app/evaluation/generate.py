"""A synthetic QA set from the user's own PDFs, for someone without one.

Sentences that state something (6 to 40 words) are picked evenly across the pages; the chat
model writes the question each sentence answers. The sentence is the reference answer and its
page the expected source. A reply that is not a question, or shares no content word with its
sentence, is dropped and the next sentence tried: a small model's bad questions are not kept.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import HumanMessage, SystemMessage

from ingest.loaders import find_pdfs, load_pdf
from ingest.pipeline import ProgressFn, no_progress
from rag_app.errors import RagError
from rag_app.evaluation import metrics
from rag_app.evaluation.judge import clean_question
from rag_app.prompts import detect_language

ASK = {
    "en": "Sentence: {sentence}\n\nWrite one question that this sentence answers.",
    "es": "Frase: {sentence}\n\nEscribe una pregunta que esta frase responda.",
}
SYSTEM = {"en": "Reply with one question only.", "es": "Responde solo con una pregunta."}
ATTEMPTS_PER_QUESTION = 3


def candidate_sentences(paths: Sequence[Path]) -> list[tuple[str, int, str]]:
    """(document, page, sentence) for every usable sentence, in document and page order."""
    files, errors = find_pdfs(list(paths))
    if errors:
        raise RagError(errors[0])
    found = []
    for path in files:
        pdf = load_pdf(path)
        for page in pdf.pages:
            for sentence in re.split(r"(?<=[.!?])\s+", " ".join(page.text.split())):
                if 6 <= len(sentence.split()) <= 40 and sentence[-1:] in ".!":
                    found.append((pdf.name, page.number, sentence))
    return found


def spread(items: Sequence[Any], n: int) -> list[Any]:
    """Every item, reordered so that any first n are spread evenly over the whole list."""
    if len(items) <= n:
        return list(items)
    step = len(items) / n
    first = [int(i * step) for i in range(n)]
    chosen = set(first)
    return [items[i] for i in first] + [x for i, x in enumerate(items) if i not in chosen]


def generate_qa(
    paths: Sequence[Path],
    n: int,
    chat_model: BaseChatModel,
    model_name: str,
    progress: ProgressFn = no_progress,
) -> tuple[list[dict[str, Any]], int]:
    """Up to n rows (question, answer, source, page, generated_by) and the replies dropped."""
    sentences = candidate_sentences(paths)
    if not sentences:
        raise RagError(
            f"{', '.join(map(str, paths))}: no sentence of 6 to 40 words found; "
            "are the PDFs scanned images without text?"
        )
    rows: list[dict[str, Any]] = []
    dropped = 0
    for source, page, sentence in spread(sentences, n)[: n * ATTEMPTS_PER_QUESTION]:
        if len(rows) == n:
            break
        progress("generate", len(rows), n, source)
        language = detect_language(sentence)
        reply = chat_model.invoke(
            [
                SystemMessage(SYSTEM[language]),
                HumanMessage(ASK[language].format(sentence=sentence)),
            ],
            temperature=0.0,
            max_tokens=48,
        )
        question = clean_question(str(reply.content))
        if question is None or not metrics.content_stems(question) & metrics.content_stems(
            sentence
        ):
            dropped += 1
            continue
        rows.append(
            {
                "id": f"gen{len(rows) + 1}",
                "question": question,
                "answer": sentence,
                "source": source,
                "page": page,
                "generated_by": model_name,
            }
        )
    progress("generate", len(rows), n, "")
    return rows, dropped
