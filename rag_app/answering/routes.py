"""Which way a question is answered (its route), read from its words (es and en), no model:

- ``lookup``: a fact, a definition, a short list: the few passages retrieval finds (today's
  path, and the default whenever nothing below is clearly asked);
- ``summary``: "Resume el tema 3", "What is chapter 2 about?": a document or section as a whole;
- ``comparison``: "¿Qué diferencias hay entre paginación y segmentación?", "SO vs SCD": evidence
  for each named side;
- ``enumeration``: "Enumera todas las definiciones del tema 2", "List every example in...":
  every unit of a kind within a scope.

The rules look for how a request is phrased (an imperative "resume"/"summarize", "entre A y B",
"todas las X del tema"), not for a trigger word alone: "¿Qué resume el teorema de Bayes?",
"What is the difference quotient?" and "¿Qué tipos de planificador hay?" stay look-ups. A look-up
misrouted costs more than a summary asked as a look-up (which still answers, with passages), so
every rule errs towards ``lookup``. What the route is about (a scope, the sides, the documents
named) is read here too; finding that scope in the store (by headings, and by meaning when the
words differ) is ``rag_app.answering.overview``'s. Measured on a labelled set written apart from
these rules and on every XQuAD and course-notes question (docs/ROUTING.md). Pure functions.
"""

from __future__ import annotations

import functools
import json
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path, PurePath
from typing import get_args

from rag_app.errors import RagError
from rag_app.settings import Route as RouteSetting
from rag_app.text.language import strip_accents

AUTO = "auto"  # the setting and the selectors: let the router decide
LOOKUP, SUMMARY, COMPARISON, ENUMERATION = "lookup", "summary", "comparison", "enumeration"
ROUTES: tuple[str, ...] = tuple(r for r in get_args(RouteSetting) if r != AUTO)


@dataclass(frozen=True)
class Route:
    """A question's route and what it is about."""

    kind: str
    targets: tuple[str, ...] = ()  # comparison: its sides; summary/enumeration: the scope
    documents: tuple[str, ...] = ()  # documents the question names (as the store lists them)
    topic: str = ""  # comparison: what the sides are compared on ("semáforos"); enumeration:
    # the kind of item ("definiciones", "steps")
    reason: str = ""  # the rule that decided, for the trace
    forced: bool = False  # chosen by the user, not by the router

    def to_dict(self) -> dict[str, object]:
        data: dict[str, object] = {"kind": self.kind, "reason": self.reason}
        if self.targets:
            data["targets"] = list(self.targets)
        if self.documents:
            data["documents"] = list(self.documents)
        if self.topic:
            data["topic"] = self.topic
        if self.forced:
            data["forced"] = True
        return data


def _rx(*parts: str) -> re.Pattern[str]:
    return re.compile("|".join(parts))


# What a listing is of: a plural noun ("definiciones", "steps", "órdenes").
_KINDS = (
    r"(definiciones|conceptos|terminos|ejemplos|pasos|etapas|fases|ordenes|comandos|"
    r"llamadas|funciones|algoritmos|tipos|clases|metodos|formulas|teoremas|propiedades|"
    r"ejercicios|preguntas|tablas|figuras|reglas|elementos|apartados|secciones|temas|"
    r"definitions|concepts|terms|examples|steps|stages|phases|commands|calls|functions|"
    r"algorithms|types|classes|methods|formulas|formulae|theorems|properties|exercises|"
    r"questions|tables|figures|rules|items|sections|topics|system calls)"
)
_SCOPE = (
    r"(tema|temas|capitulo|capitulos|seccion|secciones|apartado|unidad|leccion|documento|"
    r"apuntes|pdf|chapter|chapters|section|sections|unit|lesson|lecture|document|notes|"
    r"[\w.-]+\.(pdf|md|docx|txt|html))"
)
# All patterns read the question lower-cased and without accents.
_SUMMARY = _rx(
    # a request to summarise ("resume el tema 3", "resúmeme", "hazme un resumen del...")
    r"(^|[¿¡,;:.]\s*|\b(puedes|podrias|me|quiero|necesito|por favor)\s+)"
    r"(resum(e|eme|elo|ela|emelo|ir|irme|irlo|irla|id|an)|sintetiza\w*)\b",
    r"\b(un|el|breve|pequeno|dame|hazme|haz|quiero|necesito|genera\w*)\s+(un\s+)?"
    r"(breve\s+|pequeno\s+)?(resumen|sintesis|esquema)\b",
    r"\bresumen\s+(de|del|sobre)\b(?!.*\b(dice|pone|muestra|indica)\b)",
    r"\bde\s+que\s+(trata|tratan|va|van|habla|hablan)\b",
    r"\b(ideas|puntos|conceptos|aspectos)\s+(principales|clave|fundamentales|basicos|"
    r"importantes|esenciales)\b",
    r"\b(vision|idea)\s+general\b|\bpanorama\b|\bpanoramica\b",
    r"\ben\s+pocas\s+palabras\b",
    r"\b(lo\s+esencial|lo\s+mas\s+importante|lo\s+basico)\b",
    rf"\bresumen\s+(de\s+)?(l[oa]s?\s+|el\s+)?{_SCOPE}",
    # what a scope covers, as a whole ("¿Qué se explica en la sección 3?", "What does chapter
    # 7 cover?", "Explícame el tema 5")
    rf"\b(que|cuales)\s+(contenidos|temas|apartados|puntos|cosas)?\s*(se\s+)?(cubre|cubren|"
    rf"cuenta|cuentan|explica|explican|ve|ven|trata|tratan|estudia|estudian|incluye|incluyen)"
    rf"\b.*\b{_SCOPE}",
    rf"\bexplica(me|nos)?\s+(el|la|los|las|todo\s+el|toda\s+la)?\s*{_SCOPE}\s*[\w.]*",
    # English
    r"(^|[,;:.]\s*|\b(can you|could you|please|i need to|i want to|help me)\s+)"
    r"(summari[sz]e|sum up|recap|outline)\b",
    r"\b(a|an|brief|short|quick|give me|write|need|want)\s+(a\s+|an\s+)?"
    r"(brief\s+|short\s+|quick\s+)?(summary|overview|recap|outline|synopsis|gist)\b",
    r"\b(summary|overview|synopsis|gist|recap)\s+of\b(?!.*\b(say|says|show|shows|list)\b)",
    r"\bmain\s+(ideas|points|topics|concepts|takeaways)\b",
    r"\bkey\s+(ideas|points|concepts|takeaways)\b",
    r"\bin\s+a\s+nutshell\b|\btl;?dr\b",
    r"\b(big|high[- ]level|general|overall)\s+(picture|view|idea)\b|\bcondense\b|"
    r"\babstract\s+of\b|\bessentials\b",
    r"\b(what|which)\s+(topics|contents|subjects|ideas|concepts)?\s*(does|do|did)\s+.*\b"
    r"(cover|covers|discuss|explain|contain|include)\b",
    rf"\bwhat\s+(topics|contents|subjects)\b.*\b{_SCOPE}",
    rf"\b(explain|walk\s+me\s+through|go\s+over|review)\s+(the\s+)?(whole\s+)?{_SCOPE}"
    rf"\s*[\w.]*\b(?!\s+(says|said)\b)",
    r"^(what|whats|what's)\s+(is|are)\s+(the\s+)?(document|chapter|section|unit|"
    r"lesson|lecture|topic|tema|notes|file|pdf|[\w.-]+\.(pdf|md|docx|txt|html))\b[^?]*"
    r"\babout\b\??$",
    r"^(what|whats|what's)\s+(does|do)\s+(the\s+)?(document|chapter|section|unit|lesson|"
    r"lecture|notes|file|[\w.-]+\.(pdf|md|docx|txt|html))\b[^?]*\b(cover|discuss)\??$",
)
_COMPARISON = _rx(
    r"\bdiferencias?\s+(hay\s+)?(entre|de)\b",
    r"\b(se\s+)?diferencian?\b",
    r"\bdistingue[ns]?\b.*\bde\b",
    r"\b(en\s+que\s+se\s+parecen|semejanzas?|similitud(es)?|parecidos?\s+entre)\b",
    r"(^|[¿¡,;:.]\s*|\b(puedes|podrias|me|quiero|necesito)\s+)compar(a|ar|ame|en|emos)\b",
    r"\bcomparaci[oó]n\b|\bcomparativa\b|\bcontrasta\w*\b",
    r"\b(frente\s+a|versus|vs\.?)\s",
    r"\b(es\s+)?mejor\s+(usar\s+)?[\w ]+\s+o\s+[\w ]+",
    r"\b(tienen|tiene)\s+en\s+comun\b|\bse\s+parecen?\b|\bdifieren?\b|\bdistingue\b|"
    r"\bcambia\s+entre\b|\bcomparad[oa]s?\s+con\b|\ben\s+comparacion\s+con\b",
    r"\bcual\b[^?]*\b(mas|menos|mejor|peor)\b[^?]*\s(o|u)\s",
    r"\bdifferences?\s+between\b",
    r"\b(how|in what ways?)\s+(do|does|is|are)\b.*\b(differ|compare|different|similar)\b",
    r"\bdiffer(s)?\s+from\b|\bdifferent\s+from\b",
    r"\bsimilarit(y|ies)\b|\bhave\s+in\s+common\b|\b(are|is)\s+[\w ]+\bsimilar\b",
    r"\bdistinguish\s+between\b|\bsets?\s+.+\s+apart\s+from\b|\bcompared\s+(to|with)\b",
    r"\bwhich\s+(one\s+)?(is|are|was|does|do)\s+(more|less|better|worse|\w+er)\b.*\bor\b",
    r"\b(better|best|rather)\s+(to\s+)?(use|choose|pick|go\s+with)\b.*\bor\b|"
    r"\bshould\s+i\s+(use|choose|pick)\b.*\bor\b",
    r"(^|[,;:.]\s*|\b(can you|could you|please)\s+)(compare|contrast)\b",
    r"\bcomparison\s+(of|between)\b",
    r"\bpros\s+and\s+cons\s+of\b.*\b(vs|versus|or|over|compared)\b",
    r"\b(is|are)\s+[\w ]+\s+better\s+than\b|\bwhich\s+is\s+better\b.*\bor\b",
)
_ENUMERATION = _rx(
    r"\b(enumera\w*|listame|lista|listar|listado|relaciona|recopila\w*|extrae\w*|dime|"
    r"dame|muestra\w*|indica\w*|senala\w*|cita\w*)\b.*\b(tod[oa]s|cada\s+un[oa])\b",
    r"(^|[¿¡,;:.]\s*)enumera\w*\b",
    r"\blista\s+(completa|exhaustiva|entera)\b|\b(haz|hazme|dame|quiero)\s+una\s+lista\b",
    r"\b(complete|full|exhaustive|comprehensive)\s+list\b|\bmake\s+a\s+list\b|"
    r"\bevery\s+single\b|\bpull\s+out\s+(all|every)\b",
    rf"\b(each|every|cada)\s+(\w+\s+)?(in|of|from|de|del|en)\s+(the\s+|el\s+|la\s+)?{_SCOPE}",
    # "¿Qué ejemplos de código hay en pdoo.pdf?", "Which exercises in X involve...", "What
    # experiments are described in the biology notes?": the items of a kind in a scope
    rf"^(que|cuales|cuantos\s+y\s+cuales|which|what)\s+(\w+\s+){{0,3}}?\w+s\s+(\w+\s+){{0,3}}?"
    rf"(hay|aparecen|salen|vienen|se\s+\w+n|appear|are\s+\w+ed|involve|occur)\b.*"
    rf"\b(en|in|de|from)\s+(el\s+|la\s+|los\s+|las\s+|the\s+|this\s+)?(\w+\s+)?{_SCOPE}",
    rf"^(which|what|que|cuales)\s+\w+s\s+(in|en|de|from)\s+(the\s+)?{_SCOPE}",
    r"\b(cuales|que)\s+son\s+tod[oa]s\b",
    rf"\btod[oa]s\s+(l[oa]s\s+)?{_KINDS}\b",
    rf"\b(que|cuales)\s+(son\s+l[oa]s\s+)?{_KINDS}\s+(que\s+)?(aparecen|hay|salen|se\s+\w+)"
    rf"\s+(en|a\s+lo\s+largo\s+de)\s+(el|la|los|las|este|esta|estos|estas)?\s*{_SCOPE}",
    r"\b(list|enumerate|give me|show me|show|name|find|extract|collect|tell me)\s+"
    r"(all|every|each)\b",
    r"(^|[,;:.]\s*)enumerate\b",
    r"\bwhat\s+are\s+all\s+(the|of\s+the)\b",
    rf"\b(all|every|each)\s+(of\s+the\s+|the\s+)?{_KINDS}\b.*\b(in|of|from|on|across)\b",
    r"\b(every|each)\s+\w+\s+(defined|mentioned|listed|given|shown|introduced)\b",
    rf"\bwhich\s+{_KINDS}\s+(appear|are\s+(defined|mentioned|listed|given|shown|"
    rf"introduced|covered))\s+in\b",
)
# A short list the question counts itself is a look-up ("List the three states of a process",
# "Enumera las 4 condiciones de Coffman"): the passage that lists them answers it.
_COUNTED = re.compile(
    r"\b(los|las|the)\s+(\d+|dos|tres|cuatro|cinco|seis|siete|two|three|four|five|six|seven)"
    r"\s+\w+"
)
# A question asking what something does ("¿Qué resume el teorema?", "¿Qué compara Peterson?",
# "What does the summary table say?") names the verb but does not ask for it.
_ASKS_WHAT_IT_DOES = re.compile(
    r"^(que|what)\s+(resume|resumen|compara|comparan)\b|"
    r"^what\s+(does|do)\s+.*\b(summary|summari[sz]es?|compares?|comparison|list)\b"
)
_YES_NO_ALL = re.compile(r"^(tod[oa]s|are\s+all|do\s+all|does\s+every|is\s+every)\b.*\?$")
# "¿Qué es un resumen criptográfico?", "Resume brevemente qué es un semáforo": one concept.
_ONE_CONCEPT = re.compile(r"(^|\b(brevemente|briefly)\s+)(que\s+(es|son)|what\s+(is|are))\s")


def _normal(question: str) -> str:
    text = strip_accents(question.lower()).strip()
    text = re.sub(r"\s+", " ", text)
    return text.strip(" ¿¡").strip()


def named_documents(question: str, documents: Sequence[str]) -> tuple[str, ...]:
    """The documents a question names: by file name ("so.pdf"), or by its stem as a word
    ("los apuntes de FBD"); a stem of three letters or fewer only in capitals ("SO", not the
    English "so"), or followed by ".pdf"."""
    found: list[tuple[int, str]] = []
    lowered = question.lower()
    for name in documents:
        stem = PurePath(name).stem
        if name.lower() in lowered:
            found.append((lowered.index(name.lower()), name))
            continue
        if len(stem) < 2:
            continue
        short = len(stem) <= 3
        pattern = re.escape(stem.upper() if short else stem)
        match = re.search(rf"(?<![\w.]){pattern}(?!\w)", question, 0 if short else re.IGNORECASE)
        if match:
            found.append((match.start(), name))
    return tuple(dict.fromkeys(name for _, name in sorted(found)))


_SIDE_SPLIT = re.compile(r"\s+(?:y|e|and|vs\.?|versus|frente a|con|with|to|or|o|u)\s+|\s*,\s*")
_TOPIC_TAIL = re.compile(
    r"\s+(?:sobre|acerca de|respecto a|respecto de|en cuanto a|en relacion (?:a|con)|"
    r"on|about|regarding|in terms of|with respect to|when it comes to|para|for)\s+(.+)$"
)
_SIDES = [
    re.compile(r"\b(?:entre|between)\s+(.+)$"),
    re.compile(r"\b(?:compar\w*|contrast\w*)\s+(.+)$"),
    re.compile(r"\b(?:se\s+diferencian|se\s+parecen|differ|compare)\s+(.+)$"),
    re.compile(r"^(?:how|in what ways?)\s+(?:do|does|is|are)\s+(.+?)\s+(?:differ|compare)\b"),
    re.compile(r"^(?:es\s+)?mejor\s+(?:usar\s+)?(.+)$"),
    re.compile(r"^(.+?)\s+(?:vs\.?|versus|frente a)\s+(.+)$"),
    re.compile(r"^(?:what\s+)?(?:is|are)\s+(.+?)\s+better\s+than\s+(.+)$"),
    re.compile(
        r"\b(?:diferencias?|differences?|similarit(?:y|ies)|semejanzas?)\s+(?:de|of)\s+(.+)$"
    ),
    # "¿Qué distingue A de B?", "¿En qué difiere A de B?", "How is A different from B?",
    # "What sets A apart from B?"
    re.compile(
        r"\b(?:distingue\w*|difiere\w*|se\s+parece\w*(?:\s+en\s+algo)?|sets?|is|are)\s+(.+?)\s+"
        r"(?:different\s+from|apart\s+from|de\s+la\s+de|de\s+los\s+de|de|del|al|from|than)\s+(.+)$"
    ),
]
# With none of those shapes: the words around "y"/"and"/"or" ("¿Qué tienen en común los
# semáforos y los monitores?", "Which is faster, the mean or the median?").
_CONJUNCTION = re.compile(r"\s(?:y|e|o|u|and|or|vs\.?|versus)\s")
_NOT_A_SIDE = frozenset(
    "que cual cuales como en comun tienen tiene se parecen parece es son mas menos mejor peor "
    "what which how do does is are have has in common similar more less better worse should i "
    "use to it one entre between".split()
)
_SIDE_END = re.compile(
    r"\s(?:para|for|en|in|segun|according|here|aqui|cuando|when|si|if|have|tienen|son|are|is)\b"
)


def _around_conjunction(text: str) -> tuple[str, ...]:
    parts = [p for p in text.split(",") if _CONJUNCTION.search(strip_accents(p.lower()))]
    if not parts:
        return ()
    part = parts[-1].strip(" ?¿!¡.")
    match = _CONJUNCTION.search(strip_accents(part.lower()))
    if match is None:
        return ()
    kept: list[str] = []
    for word in reversed(part[: match.start()].split()):
        if strip_accents(word.lower()) in _NOT_A_SIDE:
            break
        kept.insert(0, word)
    right = part[match.end() :]
    end = _SIDE_END.search(strip_accents(right.lower()))
    sides = [_clean_side(" ".join(kept[-5:])), _clean_side(right[: end.start()] if end else right)]
    return tuple(sides) if all(sides) else ()


_ARTICLE = re.compile(
    r"^(?:el|la|los|las|lo|un|una|the|a|an|de|del|of|los de|las de|la de|el de|those of|"
    r"that of|los apuntes de|las notas de|the notes (?:of|on)|apuntes de)\s+"
)


def _clean_side(side: str) -> str:
    side = side.strip(" ?¿!¡.,;:\"'")
    for _ in range(3):
        side = _ARTICLE.sub("", side)
    return side.strip()


def comparison_sides(question: str) -> tuple[tuple[str, ...], str]:
    """The sides a comparison names ("paginación", "segmentación") and what they are compared
    on ("semáforos"), read from the question as written (accents kept)."""
    text = " ".join(question.strip().strip("¿¡").split())
    lowered = strip_accents(text.lower())
    for pattern in _SIDES:
        match = pattern.search(lowered)
        if not match:
            continue
        parts = [text[match.start(i) : match.end(i)] for i in range(1, (match.lastindex or 0) + 1)]
        topic = ""
        tail = _TOPIC_TAIL.search(strip_accents(parts[-1].lower()))
        if tail:
            topic = _clean_side(parts[-1][tail.start(1) :])
            parts[-1] = parts[-1][: tail.start()]
        sides = [_clean_side(s) for part in parts for s in _SIDE_SPLIT.split(part)]
        sides = [s for s in sides if s and len(s) <= 80]
        if len(sides) >= 2:
            return tuple(dict.fromkeys(sides)), topic
    return _around_conjunction(text), ""


_SCOPE_PHRASE = re.compile(
    rf"\b(?:de|del|en|of|in|from|on|about|sobre|across)\s+((?:el|la|los|las|este|esta|the|"
    rf"this|all\s+the)?\s*{_SCOPE}\b.*)$"
)
_SUMMARY_OBJECT = re.compile(
    r"\b(?:resum\w*|sintetiza\w*|summari[sz]e|sum up|recap|outline|resumen|sintesis|esquema|"
    r"summary|overview|synopsis|gist|recap|trata|tratan|va|van|habla|hablan|ideas|points|"
    r"puntos|conceptos|aspectos|vision general|panorama|about|cover|discuss|takeaways|topics)"
    r"\s+(?:\w+\s+){0,2}?(?:de|del|sobre|of|on|for|about)?\s*(.+)$"
)


def _scope(question: str, kind: str) -> str:
    """The part of the question naming what to summarise or enumerate in ("el tema 3",
    "chapter 2", "la sección de planificación"), as written."""
    text = " ".join(question.strip().strip("¿¡").split()).rstrip("?!. ")
    lowered = strip_accents(text.lower())
    match = _SCOPE_PHRASE.search(lowered)
    if match is None and kind == SUMMARY:
        match = _SUMMARY_OBJECT.search(lowered)
    if match is None:
        return ""
    return _clean_side(text[match.start(1) : match.end(1)])


_EXPLICIT_COMPARE = re.compile(r"(^|[¿¡,;:.]\s*)(compar[ae]\w*|contrast\w*)\b")
_KIND_WORD = re.compile(rf"\b{_KINDS}\b")


MODEL_FILE = Path(__file__).with_name("route_model.json")


@dataclass(frozen=True)
class MeaningModel:
    """The router's second opinion, by meaning: a softmax regression over the embedder's
    vector of the question (``bench.studies.route_train`` fits it on labelled questions and
    writes ``route_model.json``). It is asked only when no rule decides, and it routes away
    from a look-up only when it is sure (``threshold``): a look-up misrouted costs most."""

    embedder: str  # the vectors it was fitted on: only this embedder's are read
    classes: tuple[str, ...]
    weights: tuple[tuple[float, ...], ...]  # one row per class
    bias: tuple[float, ...]
    threshold: float
    # Each coordinate is standardised first (an embedder's vectors of questions differ in
    # small parts of a few coordinates; unscaled, a linear model barely sees them).
    mean: tuple[float, ...] = ()
    scale: tuple[float, ...] = ()

    def probabilities(self, vector: Sequence[float]) -> dict[str, float]:
        if self.mean:
            vector = [(v - m) / s for v, m, s in zip(vector, self.mean, self.scale, strict=True)]
        logits = [
            b + sum(w * v for w, v in zip(row, vector, strict=True))
            for row, b in zip(self.weights, self.bias, strict=True)
        ]
        top = max(logits)
        exps = [math.exp(x - top) for x in logits]
        total = sum(exps)
        return {c: e / total for c, e in zip(self.classes, exps, strict=True)}

    @classmethod
    def load(cls, path: Path = MODEL_FILE) -> MeaningModel | None:
        """The fitted model, or None where there is none (then the rules route alone)."""
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return cls(
            str(data["embedder"]),
            tuple(data["classes"]),
            tuple(tuple(row) for row in data["weights"]),
            tuple(data["bias"]),
            float(data["threshold"]),
            tuple(data.get("mean", ())),
            tuple(data.get("scale", ())),
        )


@functools.cache
def meaning_model() -> MeaningModel | None:
    return MeaningModel.load()


Embed = Callable[[str], Sequence[float]]  # a question's vector, as the search embeds it


def route_question(
    question: str,
    documents: Sequence[str] = (),
    embed: Embed | None = None,
    model: MeaningModel | None = None,
) -> Route:
    """The route of ``question`` (see the module's doc); ``documents``: the names of the
    documents that may be asked about, to recognise them in the question. With ``embed`` (the
    embedder ``model`` was fitted on), a question no rule routes is routed by meaning when the
    model is sure."""
    found = _by_rules(question, documents)
    if found.kind != LOOKUP or found.reason != NO_RULE or embed is None or model is None:
        return found
    vector = embed(question)
    if len(vector) != len(model.weights[0]):  # another embedder's vectors than it was fitted on
        return found
    chances = model.probabilities(vector)
    kind = max(chances, key=lambda c: chances[c])
    if kind == LOOKUP or chances[kind] < model.threshold:
        return found
    routed = _about(kind, question, found.documents, f"by meaning (p={chances[kind]:.2f})")
    if kind == COMPARISON and len(routed.targets) < 2:
        return found  # nothing to compare: passages answer it
    return routed


def _about(kind: str, question: str, named: tuple[str, ...], reason: str) -> Route:
    """A route with what the question says it is about: a comparison's
    sides (the documents named, when it names no other two) and their topic; a summary's or an
    enumeration's scope, and an enumeration's kind of item."""
    if kind == COMPARISON:
        sides, topic = comparison_sides(question)
        if len(sides) < 2 and len(named) >= 2:
            sides = named
        return Route(kind, sides, named, topic, reason)
    word = _KIND_WORD.search(_normal(question)) if kind == ENUMERATION else None
    return Route(
        kind, _nonempty(_scope(question, kind)), named, word.group(1) if word else "", reason
    )


NO_RULE = "a question passages answer"


def _by_rules(question: str, documents: Sequence[str]) -> Route:
    text = _normal(question)
    named = named_documents(question, documents)
    if not text:
        return Route(LOOKUP, reason="empty")
    if _ASKS_WHAT_IT_DOES.search(text):
        return Route(LOOKUP, documents=named, reason="asks what something does")
    if _COMPARISON.search(text):  # "What is the difference between A and B?" compares
        compared = _about(COMPARISON, question, named, "asks to compare two sides")
        if len(compared.targets) >= 2 or _EXPLICIT_COMPARE.search(text):
            return compared
    if _ONE_CONCEPT.search(text) and "about" not in text:
        return Route(LOOKUP, documents=named, reason="asks what something is")
    if _ENUMERATION.search(text) and not _COUNTED.search(text) and not _YES_NO_ALL.search(text):
        return _about(ENUMERATION, question, named, "asks for every item of a kind")
    if _SUMMARY.search(text):
        return _about(SUMMARY, question, named, "asks for a summary")
    return Route(LOOKUP, documents=named, reason=NO_RULE)


def _nonempty(text: str) -> tuple[str, ...]:
    return (text,) if text else ()


def forced(
    route: str,
    question: str,
    documents: Sequence[str] = (),
    embed: Embed | None = None,
    model: MeaningModel | None = None,
) -> Route:
    """The route the user chose (``--route``, the UI's selector), with what the router reads
    of the question for it; ``auto`` routes as usual."""
    if route == AUTO:
        return route_question(question, documents, embed, model)
    if route not in ROUTES:
        raise RagError(f"route {route!r}: unknown; use one of {', '.join((AUTO, *ROUTES))}")
    found = route_question(question, documents)
    if found.kind == route:
        return replace(found, forced=True)
    chosen = _about(route, question, found.documents, "chosen")
    if route == COMPARISON and not chosen.targets:  # one document named: that is the side
        chosen = replace(chosen, targets=found.documents)
    return replace(chosen, forced=True)
