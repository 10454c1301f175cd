"""Flags for passages that may try to steer the model (prompt injection).

A flag is a warning for the user, shown next to the source; it removes nothing. Two kinds:
instruction-like wording aimed at an AI model (English and Spanish patterns), found here in the
passage text, and text drawn invisibly in the PDF (white or tiny), found when the PDF was read
(``hidden_text`` in the chunk's metadata, see ``ingest.loaders``). Pure functions, no model.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

INSTRUCTIONS = "instructions"  # wording that addresses the model
HIDDEN_TEXT = "hidden_text"  # drawn white or under 2 pt in the PDF

_PATTERNS = [
    # English
    r"\b(ignore|disregard|forget|override)\b.{0,40}\b(previous|prior|above|earlier|all|any|"
    r"your|the)\b.{0,30}\b(instructions?|prompts?|rules|directions|context)\b",
    r"\b(reply|respond|answer)\s+(only|with only|just)\b",
    r"\byou (are|will) now\b|\bfrom now on\b|\bact as\b|\bpretend (to be|you are)\b",
    r"\b(system|developer) (prompt|message|instructions?)\b",
    r"\b(new|updated|real) instructions?\b",
    r"\bdo not (tell|mention|reveal|cite)\b",
    r"\b(ignore|disregard)\b.{0,20}\b(above|previous|preceding|earlier)\b",
    r"\b(note|message|instructions?) (for|to) the (ai|assistant|model|language model|chatbot)\b",
    # Spanish
    r"\b(ignora|ignore|olvida|olvide|omite|descarta)\b.{0,40}\b(instrucciones|indicaciones|"
    r"[oó]rdenes|reglas|lo anterior)\b",
    r"\b(responde|contesta|responda|conteste)\s+(s[oó]lo|solamente|[uú]nicamente)\b",
    r"\ba partir de ahora\b|\bahora eres\b|\bact[uú]a como\b|\bfinge (ser|que)\b",
    r"\b(nuevas|verdaderas) instrucciones\b|\binstrucciones del sistema\b",
    r"\bno (menciones|cites|reveles|digas)\b",
    r"\b(ignora|olvida|omite|descarta)\b.{0,30}\banterior(es)?\b",
    r"\b(nota|mensaje|instrucciones?) para (el|la) (ia|asistente|modelo)\b",
]
_INSTRUCTION = re.compile("|".join(f"(?:{p})" for p in _PATTERNS), re.IGNORECASE | re.DOTALL)


def instruction_like(text: str) -> str | None:
    """The first stretch of text that reads like an instruction to a model, or None."""
    match = _INSTRUCTION.search(" ".join(text.split()))
    return match.group(0) if match else None


def passage_flags(text: str, metadata: Mapping[str, Any]) -> list[str]:
    """The flags of one retrieved passage: ``instructions`` and/or ``hidden_text``."""
    flags = []
    if instruction_like(text):
        flags.append(INSTRUCTIONS)
    if metadata.get(HIDDEN_TEXT):
        flags.append(HIDDEN_TEXT)
    return flags


DESCRIPTIONS = {
    INSTRUCTIONS: {
        "en": "reads like instructions to the AI (possible prompt injection)",
        "es": "parece dar instrucciones a la IA (posible inyección de instrucciones)",
    },
    HIDDEN_TEXT: {
        "en": "holds text hidden in the PDF (white or tiny)",
        "es": "contiene texto oculto en el PDF (blanco o diminuto)",
    },
}


def describe(flags: list[str], language: str = "en") -> str:
    """One line for a user: what the flags mean."""
    return "; ".join(DESCRIPTIONS[f].get(language, DESCRIPTIONS[f]["en"]) for f in flags)
