"""Why the user reads something other than the model's wording (``Answer.fallback``), named
once: the answer JSON, the CLI's notes, the UI and the evaluation all compare against these."""

from __future__ import annotations

from enum import StrEnum


class Fallback(StrEnum):
    """A ``str``: it compares with and serialises to its value ("abstained", ...)."""

    ABSTAINED = "abstained"  # no evidence cleared the floor: the no-answer reply
    UNCERTAIN = "uncertain"  # evidence between floor and bar: shown, labelled
    LANGUAGE = "language"  # the model answered in another language than the question
    UNSUPPORTED = "unsupported"  # nothing the model wrote is in the passages
    UNANSWERED = "unanswered"  # it did not state the number, date or name the evidence gives


# The model wrote, and its text was replaced by the evidence.
CHECK_FALLBACKS = (Fallback.LANGUAGE, Fallback.UNSUPPORTED, Fallback.UNANSWERED)
