"""Language and words: which language a text is in, stop words, accents, content-word
stems, numbers, and the search tokens of the keyword index. Pure functions, no model."""

from __future__ import annotations

import re
import string
import unicodedata
from functools import cache, lru_cache
from typing import Any

ES_WORDS = frozenset(
    "el la los las un una unos unas de del al y o que qué en es son fue por para con sin cuál "
    "cuáles cuándo cuánto cuántos cuántas dónde cómo quién quiénes porque pero como se su sus "
    "lo le les este esta estos estas ese esa hay muy más también según entre sobre desde "
    "hasta donde cuando ser está están tiene tienen".split()
)
EN_WORDS = frozenset(
    "the a an of and or that what which who whom whose when where why how is are was were be "
    "been by for with without in on at to from this these those there it its has have had do "
    "does did can could would should will about into than also according".split()
)
LANGUAGE_NAMES = {"en": "English", "es": "Spanish"}


def strip_accents(text: str) -> str:
    if text.isascii():
        return text
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


# -- language -------------------------------------------------------------------------------
_LETTERS = re.compile(r"[a-záéíóúüñ]+")


def _language_votes(text: str) -> tuple[int, int, list[str]]:
    lowered = text.lower()
    words = _LETTERS.findall(lowered)
    spanish = sum(w in ES_WORDS for w in words) + 2 * ("¿" in lowered or "¡" in lowered)
    english = sum(w in EN_WORDS for w in words)
    return spanish, english, words


def detect_language(text: str) -> str:
    """'es' or 'en' for a question, from function words and Spanish-only marks; 'en' if unsure."""
    if "¿" in text or "¡" in text:
        return "es"
    spanish, english, words = _language_votes(text)
    if spanish == english:  # no function words either way: accented words tip it
        spanish += sum(bool(re.search(r"[áéíóúñ]", w)) for w in words) > len(words) / 3
    return "es" if spanish > english else "en"


def language_of(text: str, min_votes: int = 2) -> str | None:
    """The language of a longer text (an answer), or None when too few function words tell."""
    spanish, english, _ = _language_votes(text)
    if max(spanish, english) < min_votes or spanish == english:
        return None
    return "es" if spanish > english else "en"


# -- words ----------------------------------------------------------------------------------
# SQuAD removes English articles; Spanish ones are removed too, so that "la fotosíntesis" and
# "fotosíntesis" match. Both lists apply whatever the language (no detection to get wrong).
ARTICLES = frozenset("a an the el la los las lo un una unos unas".split())
_PUNCT = set(string.punctuation) | set("¿¡«»\u201c\u201d\u2018\u2019\u2013\u2014\u2026\u00b7")
STOPWORDS = frozenset(strip_accents(w) for w in ES_WORDS | EN_WORDS)
# Words compare by their first five letters: "telescopes" ~ "telescope", "fundó" ~ "fundador".
STEM = 5


def normalize(text: str) -> str:
    """SQuAD's normalisation (lower case, no punctuation, no articles, single spaces), plus
    accents removed and Spanish articles dropped, so "Fotosíntesis." equals "la fotosintesis"."""
    text = strip_accents(text.lower())
    text = "".join(" " if c in _PUNCT else c for c in text)
    return " ".join(w for w in text.split() if w not in ARTICLES)


@lru_cache(maxsize=8192)
def contains_span(text: str, span: str) -> bool:
    """The answer span occurs in the text, as whole words after ``normalize`` (accents, case,
    punctuation and articles aside): how evidence is scored against a reference."""
    return f" {normalize(span)} " in f" {normalize(text)} "


@lru_cache(maxsize=8192)
def content_stems(text: str) -> frozenset[str]:
    """Content words (not stop words; numbers kept) cut to their first letters. Cached: the
    evidence scorer and the answer check ask it of the same passages and sentences again."""
    words = normalize(text).split()
    return frozenset(w[:STEM] for w in words if (len(w) >= 3 or w.isdigit()) and w not in STOPWORDS)


# -- numbers --------------------------------------------------------------------------------
# Small cardinals written as words, so "dos capas" is compared with "96 capas". "one"/"uno"
# are left out: they are mostly pronouns and articles ("one of", "una de").
_NUMBER_WORDS = {
    **dict.fromkeys(("two", "dos"), 2),
    **dict.fromkeys(("three", "tres"), 3),
    **dict.fromkeys(("four", "cuatro"), 4),
    **dict.fromkeys(("five", "cinco"), 5),
    **dict.fromkeys(("six", "seis"), 6),
    **dict.fromkeys(("seven", "siete"), 7),
    **dict.fromkeys(("eight", "ocho"), 8),
    **dict.fromkeys(("nine", "nueve"), 9),
    **dict.fromkeys(("ten", "diez"), 10),
    **dict.fromkeys(("eleven", "once"), 11),
    **dict.fromkeys(("twelve", "doce"), 12),
    **dict.fromkeys(("twenty", "veinte"), 20),
    **dict.fromkeys(("thirty", "treinta"), 30),
    **dict.fromkeys(("forty", "cuarenta"), 40),
    **dict.fromkeys(("fifty", "cincuenta"), 50),
    **dict.fromkeys(("hundred", "cien"), 100),
}
_DIGITS = re.compile(r"\d+(?:[.,]\d+)*")


@lru_cache(maxsize=8192)
def numbers(text: str) -> frozenset[str]:
    """The numbers a text states, as digit strings without separators ("1,000" and "1.000"
    are "1000"; "4.6" and "4,6" are "46"), small number words included ("twelve" is "12")."""
    found = {re.sub(r"[.,]", "", n).lstrip("0") or "0" for n in _DIGITS.findall(text)}
    for word in _LETTERS.findall(text.lower()):
        if word in _NUMBER_WORDS:
            found.add(str(_NUMBER_WORDS[word]))
    return frozenset(found)


# -- search tokens (BM25) -------------------------------------------------------------------
_SEARCH_WORD = re.compile(r"\w\w+", re.UNICODE)


@cache
def _stopwords() -> frozenset[str]:
    from bm25s.stopwords import STOPWORDS_EN, STOPWORDS_SPANISH

    return frozenset(STOPWORDS_EN) | frozenset(STOPWORDS_SPANISH)


@cache
def _stemmer(language: str) -> Any:
    import Stemmer

    return Stemmer.Stemmer("spanish" if language == "es" else "english")


def tokenize(text: str, language: str | None = None) -> list[str]:
    """Search tokens of a text; ``language`` ('es' or 'en') is detected when not given."""
    stop = _stopwords()
    words = [w for w in _SEARCH_WORD.findall(text.lower()) if w not in stop]
    stems = _stemmer(language or detect_language(text)).stemWords(words)
    return [strip_accents(s) for s in stems]


def query_tokens(text: str) -> list[str]:
    """A query is short, so its language is a guess: search the stems of both languages."""
    return list(dict.fromkeys(tokenize(text, "es") + tokenize(text, "en")))


class SearchTokens:
    """These rules as the keyword index takes them (``vectorstore.keyword.Tokenizer``)."""

    def language(self, text: str) -> str:
        return detect_language(text)

    def tokens(self, text: str, language: str) -> list[str]:
        return tokenize(text, language)

    def query(self, text: str) -> list[str]:
        return query_tokens(text)


SEARCH = SearchTokens()
