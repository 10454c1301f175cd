"""What a question asks for, read from its words alone (es and en): the type of answer ("how
many" wants a number, "when" a date, "who" a name), the n-th item of a list, a definition of
a term, or several things. Evidence scoring weighs units by these cues. Pure functions."""

from __future__ import annotations

import re

from rag_app.text.language import content_stems, numbers, strip_accents

# -- the answer's type, from the question's words ---------------------------------------------
_CUES: dict[str, re.Pattern[str]] = {
    "number": re.compile(
        r"\b(how (many|much|long|far|old|large|big|tall|high|wide|heavy)|what (percentage|"
        r"proportion|number|amount)|cu[aá]nt[oa]s?|qu[eé] (porcentaje|cantidad|n[uú]mero))\b"
    ),
    "date": re.compile(
        r"\b(when|what (year|decade|century|date)|in which (year|century)|cu[aá]ndo|"
        r"(en )?qu[eé] (a[nñ]o|d[eé]cada|siglo|fecha))\b"
    ),
    # "where"/"dónde" is not here: places are often common nouns ("en los cloroplastos").
    "name": re.compile(r"\b(who|whom|whose|qui[eé]n(es)?)\b"),
}
_YEAR = re.compile(r"\b(1[0-9]{3}|20[0-9]{2})\b")
_MONTHS = re.compile(
    r"\b(january|february|march|april|may|june|july|august|september|october|november|"
    r"december|enero|febrero|marzo|abril|mayo|junio|julio|agosto|septiembre|setiembre|"
    r"octubre|noviembre|diciembre|century|siglo)\b",
    re.IGNORECASE,
)
_NAME = re.compile(r"(?<![.!?¿¡]\s)(?<!^)\b[A-ZÁÉÍÓÚÑ][\w'\u2019-]+")


_ORDINALS = {
    **dict.fromkeys(("primer", "primero", "primera", "first", "1st"), 1),
    **dict.fromkeys(("segundo", "segunda", "second", "2nd"), 2),
    **dict.fromkeys(("tercer", "tercero", "tercera", "third", "3rd"), 3),
    **dict.fromkeys(("cuarto", "cuarta", "fourth", "4th"), 4),
    **dict.fromkeys(("quinto", "quinta", "fifth", "5th"), 5),
    **dict.fromkeys(("sexto", "sexta", "sixth", "6th"), 6),
    **dict.fromkeys(("septimo", "septima", "seventh", "7th"), 7),
    **dict.fromkeys(("octavo", "octava", "eighth", "8th"), 8),
    **dict.fromkeys(("noveno", "novena", "ninth", "9th"), 9),
    **dict.fromkeys(("decimo", "decima", "tenth", "10th"), 10),
}
_ORDINAL_DIGITS = re.compile(r"\b(\d{1,2})\s*(?:\.?\s*[ºª°]|(?:st|nd|rd|th)\b)")


def ordinal(question: str) -> int | None:
    """The position an ordinal question asks for: "el tercer paso", "the 3rd step", "3º"."""
    for word in re.findall(r"\w+", strip_accents(question.lower())):
        if word in _ORDINALS:
            return _ORDINALS[word]
    match = _ORDINAL_DIGITS.search(question)
    return int(match.group(1)) if match else None


# "What is the name of...?" and "¿Cómo se llama...?" ask for a fact, not a definition.
_DEFINITION_QUESTION = re.compile(
    r"\b(qu[eé] (es|son)(?! lo\b)|qu[eé] significa|c[oó]mo se definen?|se entiende por|defin[ea]|"
    r"what (is|are) (a|an)|what does .* mean|what is meant by|define)\b",
    re.IGNORECASE,
)
# "Base de datos: conjunto de...", "Un proceso es un programa...": a term, then what it is.
# The term runs up to the copula with nothing between: "These clades (which are thought...)"
# does not define "clades".
_DEFINES = re.compile(
    r"^[\W\d]*(?P<term>[^:.;(),]{2,60}?)(?::\s| (?:es|son|is|are|se define como) )"
)


# "¿Qué tipos...?", "¿En qué áreas...?", "¿Cuáles son...?", "What steps...?", "¿Qué tres
# procesos...?": the question asks for several things, which a list gives.
_SET_WORD = re.compile(
    r"\b(?:qu[eé]|cu[aá]l(?:es)?|what|which)\s+(?:(?:son|are|were)\s+(?:l[oa]s|the)\s+)?"
    r"(?:\d+|dos|tres|cuatro|cinco|seis|siete|ocho|two|three|four|five|six|seven|eight)?\s*"
    r"(?P<noun>\w+)",
    re.IGNORECASE,
)
_COLLECTIVE = frozenset("información informacion datos contenido information data contents".split())
_NOT_PLURAL = frozenset("es is was has does más mas tras después despues".split())


def wants_list(question: str) -> bool:
    """The question asks for several things: a plural (or collective) noun after its question
    word, or "cuáles"/"which are"."""
    lowered = question.lower()
    if re.search(r"\bcu[aá]les\b|\b(what|which) (are|were)\b", lowered):
        return True
    for match in _SET_WORD.finditer(lowered):
        noun = match.group("noun")
        plural = len(noun) > 3 and noun.endswith("s") and noun not in _NOT_PLURAL
        if plural or noun in _COLLECTIVE:
            return True
    return False


def defined_term(unit: str) -> str | None:
    """The term a unit defines ("Base de datos: conjunto de...", "Un proceso es un..."), or None."""
    match = _DEFINES.match(unit)
    return match.group("term").strip() if match else None


def defines_asked(question: str, unit: str) -> bool:
    """A definition question ("¿Qué es X?", "How is X defined?") and a unit that defines a
    term made of the question's words ("X: ...", "X es ...")."""
    if not _DEFINITION_QUESTION.search(question):
        return False
    term = content_stems(defined_term(unit) or "")
    return bool(term) and term <= content_stems(question)


def answer_type(question: str) -> str | None:
    lowered = question.lower()
    for kind, pattern in _CUES.items():
        if pattern.search(lowered):
            return kind
    return None


def has_answer_type(kind: str | None, sentence: str, question: str) -> bool:
    """The sentence holds something of the wanted type that the question does not."""
    if kind is None:
        return True
    if kind == "number":
        return bool(numbers(sentence) - numbers(question))
    if kind == "date":
        years = set(_YEAR.findall(sentence)) - set(_YEAR.findall(question))
        return bool(years or _MONTHS.search(sentence))
    asked = {w.lower() for w in re.findall(r"\w+", question)}
    return any(m.group().lower() not in asked for m in _NAME.finditer(sentence))
