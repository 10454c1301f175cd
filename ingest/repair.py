"""Repairs of extracted and exported text: what PDF readers and Markdown exports leave in it.

Applied to every format's text (``ingest.loaders.clean_text``); the glyph repairs also to a
PDF's text runs before their structure is read (``ingest.layout``), so a numbered heading
("/one.osf./two.osf. Paginación") starts with its number.
"""

from __future__ import annotations

import re

# Glyph names that pypdf writes for glyphs it cannot map to Unicode, as LaTeX's old-style and
# tabular figures come out of some fonts: "/one.osf./two.osf." is "1.2.", "/equal.tosf" "=".
_GLYPH_CHARS = {
    **{name: str(digit) for digit, name in enumerate(
        "zero one two three four five six seven eight nine".split())},
    "equal": "=", "plus": "+", "minus": "-", "hyphen": "-", "less": "<", "greater": ">",
    "numbersign": "#", "percent": "%", "period": ".", "comma": ",", "colon": ":",
    "semicolon": ";", "parenleft": "(", "parenright": ")", "bracketleft": "[",
    "bracketright": "]", "braceleft": "{", "braceright": "}", "slash": "/", "asterisk": "*",
    "ampersand": "&", "quotesingle": "'", "quotedbl": '"', "underscore": "_", "bar": "|",
    "exclam": "!", "question": "?", "dollar": "$", "at": "@", "asciitilde": "~",
    "asciicircum": "^", "sterling": "£", "backslash": "\\",
}  # fmt: skip
_GLYPH = re.compile(rf"/({'|'.join(_GLYPH_CHARS)})\.(?:t?osf|t?lf|sups|sinf|numr|dnom|sc)")
_LIGATURES = str.maketrans(
    {"\ufb00": "ff", "\ufb01": "fi", "\ufb02": "fl", "\ufb03": "ffi", "\ufb04": "ffl",
     "\ufb05": "st", "\ufb06": "st"}
)  # fmt: skip
# Some fonts' "¿" comes out of pypdf as "£": a pound sign before a word of a question is one.
_POUND_QUESTION = re.compile(r"£(?=[^\W\d_][^£?]{0,300}\?)")
# Markdown left in exported text: images go, links keep their text ("[Chroma](https://...)").
_MD_IMAGE = re.compile(r"!\[[^\]\n]*\]\([^)\s]*(?:\s+\"[^\"\n]*\")?\)")
_MD_LINK = re.compile(r"\[([^\]\n]+)\]\((?:[a-z]+:|www\.|[/#.])[^)\s]*(?:\s+\"[^\"\n]*\")?\)")
# A label glued to its text by the extraction ("Parámetros:La versión"): a space after it.
_GLUED_LABEL = re.compile(r"(?<=[^\W\d_]{3}):(?=[A-ZÁÉÍÓÚÑ][a-záéíóúñ])")


def repair_glyphs(text: str) -> str:
    """Glyph names as their characters, ligatures as their letters."""
    return _GLYPH.sub(lambda m: _GLYPH_CHARS[m.group(1)], text).translate(_LIGATURES)


def repair_text(text: str) -> str:
    """Undo what extraction and exports leave in text: glyph names, ligatures, "£" for "¿",
    Markdown image and link syntax, labels glued to their text."""
    text = _POUND_QUESTION.sub("¿", repair_glyphs(text))
    text = _MD_LINK.sub(r"\1", _MD_IMAGE.sub("", text))
    return _GLUED_LABEL.sub(": ", text)
