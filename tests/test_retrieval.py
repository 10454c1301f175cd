from dataclasses import dataclass

from rag_app.retrieval import select_relevant


@dataclass
class Hit:
    score: float


def scores(hits: list[Hit]) -> list[float]:
    return [h.score for h in hits]


def test_threshold_and_margin() -> None:
    found = [Hit(0.8), Hit(0.65), Hit(0.55), Hit(0.3)]
    assert scores(select_relevant(found, 0.2, 0.2)) == [0.8, 0.65]
    assert scores(select_relevant(found, 0.2, 1.0)) == [0.8, 0.65, 0.55, 0.3]
    assert scores(select_relevant(found, 0.6, 1.0)) == [0.8, 0.65]


def test_nothing_clears_the_threshold() -> None:
    assert select_relevant([Hit(0.1), Hit(0.05)], 0.2, 0.2) == []
    assert select_relevant([], 0.2, 0.2) == []
