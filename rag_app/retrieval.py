"""Choosing which retrieved passages reach the model."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, TypeVar


class Scored(Protocol):
    @property
    def score(self) -> float: ...


S = TypeVar("S", bound=Scored)


def select_relevant(found: Sequence[S], threshold: float, margin: float) -> list[S]:
    """Keep passages at or above ``threshold`` and within ``margin`` of the best one.

    ``found`` is best first. The margin drops weak tail passages that only lengthen the prompt
    (docs/RELEVANCE_THRESHOLD.md measures both numbers on XQuAD).
    """
    if not found:
        return []
    floor = max(threshold, found[0].score - margin)
    return [passage for passage in found if passage.score >= floor]
