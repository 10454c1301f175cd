from dataclasses import dataclass

from langchain_core.documents import Document

from rag_app.answering.prompts import format_history, usable_rewrite
from rag_app.retrieval.strategies import (
    Fusion,
    Retriever,
    Weights,
    asked_across_languages,
    convex_fusion,
    parse_queries,
    rrf,
    select_relevant,
)


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


def test_selection_keeps_the_strategy_order() -> None:
    found = [Hit(0.5), Hit(0.7), Hit(0.1)]
    assert scores(select_relevant(found, 0.2, 0.3)) == [0.5, 0.7]


def test_rrf_fuses_and_weights() -> None:
    assert rrf({"a": ["x", "y", "z"]}) == ["x", "y", "z"]
    assert rrf({"a": ["x", "y"], "b": ["y", "z"]})[0] == "y"
    weighted = rrf({"dense": ["x", "y"], "bm25": ["y", "x"]}, {"bm25": 2.0})
    assert weighted == ["y", "x"]


def test_parse_queries_cleans_numbering_and_duplicates() -> None:
    reply = '1. "Lumora founder name"\n2) Lumora founder name\n- who built the observatory\nok\n'
    assert parse_queries(reply, "Who founded Lumora?") == [
        "Lumora founder name",
        "who built the observatory",
    ]


def test_condensed_question_is_used_only_when_sane() -> None:
    original = "And what is its body made of?"
    good = "What is the body of the Gamma valve made of?"
    assert usable_rewrite(original, good) == good
    assert usable_rewrite(original, "Rewritten question: " + good) == good
    assert usable_rewrite(original, "The Gamma valve is made of brass.") == original
    assert usable_rewrite(original, "") == original
    assert usable_rewrite(original, "¿De qué está hecho el cuerpo?") == original
    spanish = "¿Cuántos parques tiene la ciudad?"
    assert usable_rewrite("¿Y cuántos tiene?", spanish) == spanish


def test_history_is_short_and_labelled() -> None:
    turns = [("user", "q1"), ("assistant", "a1 " * 200), ("user", "q2")]
    text = format_history(turns)
    assert text.startswith("User: q1\nAssistant: a1")
    assert len(text.splitlines()[1]) <= len("Assistant: ") + 300


def test_convex_fusion_keeps_a_confident_retriever_ahead() -> None:
    # BM25 is sure of "b"; dense scores are bunched with "a" barely first.
    lists = {
        "dense": [("a", 0.52), ("b", 0.51), ("c", 0.50)],
        "bm25": [("b", 12.0), ("c", 1.0), ("a", 0.5)],
    }
    assert convex_fusion(lists, {"dense": 0.3, "bm25": 0.7})[0] == "b"
    assert convex_fusion(lists, {"dense": 1.0, "bm25": 0.0})[0] == "a"
    assert convex_fusion({"one": [("x", 3.0), ("y", 3.0)]}, {}) == ["x", "y"]  # equal scores


def test_fusion_weights_split_and_switch_on_the_question_language() -> None:
    within = Weights.split(0.5, 0.7)
    assert (within.dense, round(within.chunks, 3), round(within.pages, 3)) == (0.5, 0.15, 0.35)
    assert within.of("dense#2") == 0.5 and within.of("pages#1") == within.pages
    fusion = Fusion(within, Weights.split(0.7, 0.0))
    assert fusion.weights(across=True).pages == 0.0 and fusion.weights(across=False) is within

    english = [
        Document(page_content="The cell wall of the plant is made of cellulose and pectin.")
    ] * 5
    spanish = [Document(page_content="La pared de la célula vegetal es de celulosa y pectina.")] * 5
    assert asked_across_languages("¿De qué está hecha la pared celular?", english)
    assert not asked_across_languages("¿De qué está hecha la pared celular?", spanish)
    assert not asked_across_languages("What is the cell wall made of?", english)
    assert asked_across_languages("What is the cell wall made of?", spanish)
    # passages too short to show a language say nothing
    assert not asked_across_languages("What is it?", [Document(page_content="42 mm")])


def test_hybrid_fetches_only_the_keyword_chunks_it_keeps() -> None:
    """Keyword lists carry chunk ids; the fusion reads from the store just the chunks of its
    top k that no dense list brought, and skips one deleted since the search."""
    chunk = {n: Document(id=n, page_content=f"text {n}") for n in "abcdefg"}
    fetched: list[list[str]] = []

    class Backend:
        def embed(self, text: str) -> list[float]:
            return [1.0, 0.0]

        def dense(self, vector: list[float], k: int, with_vectors: bool = False) -> list:
            return [(chunk["a"], 0.9, None), (chunk["b"], 0.8, None), (chunk["c"], 0.1, None)]

        def keyword(self, query: str, k: int) -> list[tuple[str, float]]:
            return [("gone", 9.0), ("d", 8.0), ("e", 7.0), ("a", 1.0), ("f", 0.5), ("g", 0.1)]

        def pages(self, query: str, k: int) -> list[tuple[str, float]]:
            return [("gone", 6.0), ("d", 5.0), ("e", 5.0), ("f", 4.0), ("g", 1.0)]

        def documents(self, ids: list[str]) -> dict[str, Document]:
            fetched.append(list(ids))
            return {i: chunk[i] for i in ids if i in chunk}

        def cosine(self, vector: list[float], docs: list) -> list[float]:
            return [0.5 for _ in docs]

    fusion = Fusion(Weights.split(0.5, 0.5), Weights.split(0.5, 0.5))
    retriever = Retriever(Backend(), lambda kind, q: "", fusion)  # type: ignore[arg-type]
    hits = retriever.run("hybrid", "What is d?", 3).hits
    # fused: a 0.525, gone 0.5, b 0.44, d 0.42, e 0.39; "gone" no longer exists
    assert [h.doc.id for h in hits] == ["a", "b", "d"]
    assert fetched == [["gone"], ["d"]]  # a and b came with the dense list
    assert hits[2].ranks == {"bm25": 2, "pages": 2}
