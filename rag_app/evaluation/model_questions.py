"""The chat model's rewording of a sentence into a question, kept only when it passes checks.

The bundled 135M model echoes the sentence, answers it, switches language, gives the answer
away or invents words ("¿Quiétería...?"); ``check_reply`` lets none of that through, and the
caller falls back to ``questions.fallback_question``. A larger model passes more often.
"""

from __future__ import annotations

import re

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage

from rag_app.evaluation.questions import Question, Span, answer_spans, definition
from rag_app.text.claims import support, supported
from rag_app.text.language import content_stems, detect_language, normalize, numbers

# Worked examples as earlier chat turns: with a bare instruction the 135M model echoed the
# sentence or answered it; with examples it writes questions (checked below all the same).
SHOTS = {
    "es": [
        ("El Sol está a unos 150 millones de kilómetros de la Tierra.", "150",
         "¿A cuántos millones de kilómetros de la Tierra está el Sol?"),
        ("La teoría de la relatividad fue formulada por Albert Einstein.", "Albert Einstein",
         "¿Quién formuló la teoría de la relatividad?"),
        ("La penicilina fue descubierta por Alexander Fleming en 1928.", "1928",
         "¿En qué año fue descubierta la penicilina?"),
        ("La fotosíntesis es el proceso por el que las plantas producen glucosa con luz.", None,
         "¿Qué es la fotosíntesis?"),
    ],
    "en": [
        ("The Sun is about 150 million kilometres from the Earth.", "150",
         "How many million kilometres from the Earth is the Sun?"),
        ("The theory of relativity was formulated by Albert Einstein.", "Albert Einstein",
         "Who formulated the theory of relativity?"),
        ("Penicillin was discovered by Alexander Fleming in 1928.", "1928",
         "In what year was penicillin discovered?"),
        ("Photosynthesis is the process by which plants make glucose from light.", None,
         "What is photosynthesis?"),
    ],
}  # fmt: skip
SYSTEM = {
    "en": "Turn each sentence into one question in English whose answer is the given answer. "
    "Reply with the question only.",
    "es": "Convierte cada frase en una pregunta en español cuya respuesta sea la respuesta "
    "dada. Responde solo con la pregunta.",
}
LABELS = {"es": ("Frase", "Respuesta"), "en": ("Sentence", "Answer")}
MIN_QUESTION_WORDS, MAX_QUESTION_WORDS = 3, 30
RESTATEMENT = 0.8  # a "question" holding this share of the sentence's words gives it away
_LABEL = re.compile(r"^(?:[-*•\d.)\s]+|(?:question|pregunta|q|p)\s*:\s*)+", re.IGNORECASE)
# The question word must fit what is asked for: "¿Quién...?" cannot ask for a number.
INTERROGATIVES = frozenset(
    "qué quién quiénes cuál cuáles cuándo cuánto cuánta cuántos cuántas cómo dónde "
    "what which who whom whose when how where why".split()
)
FITS = {
    "number": {"cuánto", "cuánta", "cuántos", "cuántas", "how many", "how much"},
    "year": {"cuándo", "qué año", "when", "what year", "which year"},
    "name": {"quién", "quiénes", "qué", "cuál", "cuáles", "who", "whom", "what", "which"},
    "none": {"qué", "cuál", "cuáles", "cómo", "what", "which", "how"},
}
FITS["other-number"] = FITS["number"] | {"qué valor", "what value"}
# Words a question may use that its sentence need not contain.
QUESTION_STEMS = content_stems(
    "año year número number cantidad amount nombre name tipo type kind tamaño size valor value "
    "many much según apuntes notes"
)


def _fits(question: str, kind: str) -> bool:
    """The first question word (within the first three words) suits the kind of answer."""
    words = re.findall(r"[^\W\d_]+", question.lower())
    for i, word in enumerate(words[:3]):
        if word in INTERROGATIVES:
            pair = f"{word} {words[i + 1]}" if i + 1 < len(words) else word
            allowed = FITS[kind]
            if pair in allowed:
                return True
            if word == "how":  # "how" alone asks for a way, "how many" for a number
                return pair not in {"how many", "how much"} and "how" in allowed
            return word in allowed
    return False


_ARTICLE = re.compile(r"\b(el|la|los|las|un|una|unos|unas|del|al)\s+(\w+)", re.IGNORECASE)
_MASCULINE = frozenset("el los un unos del al".split())


def _articles_agree(question: str, sentence: str) -> bool:
    """No "la ajuste fino" where the notes say "el ajuste fino": a slip a small model makes
    and a reader notices at once."""
    said: dict[str, set[bool]] = {}
    for article, word in _ARTICLE.findall(sentence.lower()):
        said.setdefault(word, set()).add(article in _MASCULINE)
    return all(
        said.get(word, set()) in (set(), {True, False}) or {article in _MASCULINE} == said[word]
        for article, word in _ARTICLE.findall(question.lower())
    )


def _gives_away(question: str, span: str | None) -> bool:
    if span is None:
        return False
    if numbers(span) and numbers(span) <= numbers(question):
        return True
    return f" {normalize(span)} " in f" {normalize(question)} "


def one_question(reply: str) -> str | None:
    """The first line of the reply, without labels or quotes, if it is exactly one question."""
    lines = [line.strip() for line in reply.strip().splitlines() if line.strip()]
    if not lines:
        return None
    question = _LABEL.sub("", lines[0]).strip().strip("\"'“”«»*").strip()
    body = question.lstrip("¿")
    if not question.endswith("?") or body.count("?") != 1 or "¿" in body:
        return None
    return question if MIN_QUESTION_WORDS <= len(question.split()) <= MAX_QUESTION_WORDS else None


_ASKS_WHAT_IS = re.compile(r"^¿?\s*(?:qué (?:es|son)|what (?:is|are))\b", re.IGNORECASE)


def _specific(question: str, sentence: str, language: str) -> bool:
    """ "¿Qué es la palabra?" could be asked of any notes: a "what is X" question only where the
    sentence defines X, and any other question names at least two things from the sentence."""
    stems = content_stems(question) - QUESTION_STEMS
    if _ASKS_WHAT_IS.match(question):
        found = definition(sentence, language)
        return found is not None and stems == content_stems(found[0])
    return len(stems) >= 2


def rejection(question: str, sentence: str, language: str, span: Span | None) -> str | None:
    """Why a question made by the model is not one a person would accept, or None."""
    if detect_language(question) != language:
        return "language"
    if not _fits(question, span.kind if span else "none"):
        return "question word"  # none, invented, or not fitting the answer
    if not supported(question, [sentence]):
        return "not supported by the sentence"  # most of its words, and all its numbers
    if content_stems(question) - content_stems(sentence) - QUESTION_STEMS:
        return "words not in the sentence"  # invented ones included
    if not _specific(question, sentence, language):
        return "too vague"
    if support(sentence, [question]) >= RESTATEMENT:
        return "the sentence itself"
    if _gives_away(question, span.text if span else None):
        return "gives the answer away"
    if not _articles_agree(question, sentence):
        return "article"
    return None


def check_reply(reply: str, sentence: str, language: str, span: Span | None) -> str | None:
    """The model's reply as a question a person would accept, or None. It must be one question
    of a sensible length, in the sentence's language, opening with a question word that fits
    the answer ("¿Cuántas...?" for a number), answerable from the sentence (every content word
    in it, or a question word such as "año"; its numbers too), specific, not giving the answer
    away and not the sentence itself. A 135M model invents words ("¿Quiétería...?"): none may
    pass."""
    question = one_question(reply)
    if question is None or rejection(question, sentence, language, span):
        return None
    body = question.lstrip("¿")
    return f"¿{body}" if language == "es" else question


def _messages(sentence: str, span: Span | None, language: str) -> list[BaseMessage]:
    said, answer = LABELS[language]

    def ask(text: str, wanted: str | None) -> HumanMessage:
        return HumanMessage(f"{said}: {text}" + (f"\n{answer}: {wanted}" if wanted else ""))

    messages: list[BaseMessage] = [SystemMessage(SYSTEM[language])]
    for example, wanted, question in SHOTS[language]:
        messages += [ask(example, wanted), AIMessage(question)]
    return [*messages, ask(sentence, span.text if span else None)]


def model_question(
    chat_model: BaseChatModel, model_name: str, sentence: str, language: str
) -> Question | None:
    """The model's question for the sentence's best span (or for the sentence when it has
    none), if it passes ``check_reply``. Its expected answer is that span, or for "what is X"
    of a definition the definition, as the template would give."""
    spans = answer_spans(sentence)
    span = spans[0] if spans else None
    reply = chat_model.invoke(
        _messages(sentence, span, language), temperature=0.0, max_tokens=40, stop=["\n"]
    )
    question = check_reply(str(reply.content), sentence, language, span)
    if question is None:
        return None
    found = definition(sentence, language)
    expected = span.text if span else found[2] if found else None
    return Question(question, expected, f"model:{model_name}")
