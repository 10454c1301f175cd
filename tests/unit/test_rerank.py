"""Re-ranking's pure logic: the reorder, the LLM judge's parsing, the trace, the settings'
errors, and finding rerankers on a machine (a temporary home, with small GGUF files written by
hand and hub-cache folders; no model is loaded). The cross-encoder itself runs in
tests/integration/test_rerank.py."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from langchain_core.documents import Document
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage, BaseMessage

from rag_app.errors import RagError
from rag_app.models.catalog import find_models
from rag_app.models.gguf_header import read_header
from rag_app.models.rerankers import find_rerankers, use_reranker
from rag_app.retrieval.rerank import (
    NEUTRAL_GRADE,
    LlmReranker,
    hub_snapshot,
    parse_grade,
    rerank,
    yes_odds,
)
from rag_app.retrieval.strategies import Hit
from rag_app.retrieval.trace import Candidate, RetrieverScore, Trace
from rag_app.settings import load_settings
from tests.support.gguf import STR, U32, chat_metadata, gguf_bytes


class WordOverlap:
    """A real reranker for the pure logic: the share of the question's words in the passage."""

    name = "overlap"

    def score(self, question: str, texts: Sequence[str]) -> list[float]:
        asked = set(question.lower().split())
        return [len(asked & set(t.lower().split())) / len(asked) for t in texts]


class Fixed:
    def __init__(self, scores: list[float]) -> None:
        self.name, self.scores = "fixed", scores

    def score(self, question: str, texts: Sequence[str]) -> list[float]:
        return self.scores


def hits(*texts: str) -> list[Hit]:
    return [
        Hit(Document(id=f"c{i}", page_content=t), score=0.9 - i / 10) for i, t in enumerate(texts)
    ]


# -- the reorder ---------------------------------------------------------------------------------


def test_rerank_orders_by_score_and_cuts_to_k() -> None:
    found = hits("the cat sat", "a dog barked at the cat", "the dog and the cat sat together")
    reranked = rerank(WordOverlap(), "dog sat", found, k=2)
    assert [h.doc.id for h in reranked.hits] == ["c2", "c0"]  # c0 and c1 tie: c0 was first
    assert reranked.fused_ranks == [3, 1] and reranked.candidates == 3
    assert reranked.scores == [1.0, 0.5]
    assert [h.score for h in reranked.hits] == [found[2].score, found[0].score]  # cosine kept


def test_ties_keep_the_strategy_order_and_nan_goes_last() -> None:
    reranked = rerank(Fixed([1.0, math.nan, 1.0, 2.0]), "q", hits("a", "b", "c", "d"), k=4)
    assert [h.doc.id for h in reranked.hits] == ["c3", "c0", "c2", "c1"]


def test_a_reranker_giving_the_wrong_number_of_scores_is_one_line() -> None:
    with pytest.raises(RagError, match="reranker fixed: gave 1 scores for 2 passages"):
        rerank(Fixed([1.0]), "q", hits("a", "b"), k=2)


# -- the LLM as a judge --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("reply", "grade"),
    [
        ("Yes", 1.0),
        ("yes, it does", 1.0),
        ("Sí", 1.0),
        ("No, the passage", 0.0),
        ("not relevant", 0.0),
        ("8", 0.8),
        ("Grade: 7/10", 0.7),
        ("**9**", 0.9),
        ("7.5", 0.75),
        ("3,5", 0.35),
        ("80%", 0.8),
        ("4/5", 0.8),
        ("0", 0.0),
        ("The passage provides", None),
        ("", None),
        ("250", None),
    ],
)
def test_parse_grade(reply: str, grade: float | None) -> None:
    assert parse_grade(reply) == (pytest.approx(grade) if grade is not None else None)


def test_llm_judge_reads_any_chat_models_replies() -> None:
    """A chat model without token odds answers in text; an unreadable reply is neutral."""
    replies = iter([AIMessage("Yes"), AIMessage("2/10"), AIMessage("I think that")])
    model = GenericFakeChatModel(messages=replies)
    scores = LlmReranker(lambda: model).score("q?", ["a", "b", "c"])
    assert scores == [1.0, pytest.approx(0.2), NEUTRAL_GRADE]


class OddsModel:
    """A chat model that gives its first token's logits (as ``ChatLlamaCpp`` does)."""

    def __init__(self, logits: list[list[float]]) -> None:
        self.logits, self.asked = iter(logits), []

    def next_token_logits(self, messages: list[BaseMessage], words: list[str]) -> list[float]:
        self.asked.append((messages[-1].text, words))
        return next(self.logits)


def test_llm_judge_uses_yes_no_odds_when_the_model_gives_logits() -> None:
    model = OddsModel([[2.0, 0.0, -5.0, 1.0, 0.0, -5.0], [-1.0, -3.0, -9.0, 3.0, 1.0, -9.0]])
    scores = LlmReranker(lambda: model).score("Who?", ["first passage", "second passage"])  # type: ignore[arg-type, return-value]
    assert scores[0] > 0 > scores[1]
    assert scores[0] == pytest.approx(yes_odds([2.0, 0.0, -5.0, 1.0, 0.0, -5.0]))
    prompt, words = model.asked[0]
    assert prompt.index("Who?") < prompt.index("first passage")  # question first: shared prefix
    assert words == ["Yes", "yes", "YES", "No", "no", "NO"]


# -- the trace -----------------------------------------------------------------------------------


def test_trace_carries_the_rerank_and_reads_old_traces() -> None:
    trace = Trace(strategy="hybrid", queries=["q"])
    candidate = Candidate(1, "a.pdf", 2, 0.61, {"dense": RetrieverScore(4, 0.61)})
    candidate.retrievers["rerank"] = RetrieverScore(1, 7.25)
    trace.candidates = [candidate]
    assert "rerank" not in trace.to_dict()  # left out when None
    trace.rerank = {"model": "m", "seconds": 0.5, "candidates": 20, "fused_ranks": [4]}
    data = json.loads(json.dumps(trace.to_dict()))
    again = Trace.from_dict(data)
    assert again.rerank == trace.rerank
    assert again.candidates[0].retrievers["rerank"] == RetrieverScore(1, 7.25)
    old = {k: v for k, v in data.items() if k != "rerank"}
    assert Trace.from_dict(old).rerank is None


# -- the settings --------------------------------------------------------------------------------


def hub_model(cache: Path, name: str, config: dict[str, Any]) -> Path:
    """A hub-cache folder as huggingface_hub leaves it: refs/main names the snapshot."""
    repo = cache / f"models--{name.replace('/', '--')}"
    snapshot = repo / "snapshots" / ("a" * 40)
    snapshot.mkdir(parents=True)
    (snapshot / "config.json").write_text(json.dumps(config))
    (snapshot / "model.safetensors").write_bytes(b"\0" * 1000)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text("a" * 40)
    return snapshot


CROSS_ENCODER = {"architectures": ["XLMRobertaForSequenceClassification"], "id2label": {"0": "L"}}


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("/nowhere/reranker", "no such file or folder"),
        ("~/nowhere", "no such file or folder"),
        ("someone/not-downloaded", "not in the Hugging Face cache"),
        ("bad name!", "no such file or folder"),
    ],
)
def test_bad_rerank_settings_are_one_line(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, value: str, expected: str
) -> None:
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
    monkeypatch.setenv("RAG_RETRIEVAL__RERANK", value)
    with pytest.raises(RagError) as caught:
        load_settings(data_dir=tmp_path)
    message = str(caught.value)
    assert message.startswith("setting retrieval.rerank:") and expected in message
    assert "RAG_RETRIEVAL__RERANK" in message and "\n" not in message


def test_rerank_files_and_folders_are_checked(tmp_path: Path) -> None:
    text, folder = tmp_path / "notes.txt", tmp_path / "empty-folder"
    text.write_text("not a model")
    folder.mkdir()
    for value, expected in ((text, "not a GGUF file"), (folder, "no config.json")):
        with pytest.raises(RagError, match=expected):
            load_settings(data_dir=tmp_path, retrieval={"rerank": str(value)})
    with pytest.raises(RagError, match=r"setting retrieval\.rerank_candidates"):
        load_settings(data_dir=tmp_path, retrieval={"rerank_candidates": 0})


def test_good_rerank_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    cache = tmp_path / "hub"
    monkeypatch.setenv("HF_HUB_CACHE", str(cache))
    snapshot = hub_model(cache, "BAAI/bge-reranker-v2-m3", CROSS_ENCODER)
    assert hub_snapshot("BAAI/bge-reranker-v2-m3", cache) == snapshot
    gguf = tmp_path / "reranker.gguf"
    gguf.write_bytes(gguf_bytes(chat_metadata("r", arch="bert")))
    for value, kept in (
        ("NONE", "none"),
        ("llm", "llm"),
        ("", "none"),
        ("BAAI/bge-reranker-v2-m3", "BAAI/bge-reranker-v2-m3"),
        (str(snapshot), str(snapshot)),
        (str(gguf), str(gguf)),
    ):
        settings = load_settings(data_dir=tmp_path, retrieval={"rerank": value})
        assert settings.retrieval.rerank == kept
    assert load_settings(data_dir=tmp_path).retrieval.rerank == "none"  # never unasked
    assert load_settings(data_dir=tmp_path).retrieval.rerank_candidates == 20


# -- finding and choosing rerankers --------------------------------------------------------------


def rerank_gguf(path: Path, name: str = "tiny reranker") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    metadata = [*chat_metadata(name, arch="bert", context=512), ("bert.pooling_type", U32, 4)]
    path.write_bytes(gguf_bytes(metadata))
    return path


def reranker_machine(tmp_path: Path) -> dict[str, Path]:
    home = tmp_path / "home"
    cache = home / ".cache" / "huggingface" / "hub"
    hub_model(cache, "BAAI/bge-reranker-v2-m3", CROSS_ENCODER)
    hub_model(cache, "someone/sentiment", {**CROSS_ENCODER, "id2label": {"0": "N", "1": "P"}})
    hub_model(cache, "someone/embedder", {"architectures": ["BertModel"]})
    (cache / "models--broken--config").mkdir(parents=True)
    models = tmp_path / "models"
    gguf = rerank_gguf(models / "tiny-reranker-f16.gguf")
    (models / "chat.gguf").write_bytes(gguf_bytes(chat_metadata("chat")))
    (models / "qwen3-ranker.gguf").write_bytes(
        gguf_bytes([*chat_metadata("q", arch="qwen3"), ("qwen3.pooling_type", U32, 4)])
    )
    return {"home": home, "models": models, "gguf": gguf}


def test_rerankers_found_on_a_machine(tmp_path: Path) -> None:
    machine = reranker_machine(tmp_path)
    settings = load_settings(
        data_dir=tmp_path / "data", llm={"model_dirs": [str(machine["models"])]}
    )
    found = {e.name: e for e in find_rerankers(settings, machine["home"], {})}
    assert set(found) == {"BAAI/bge-reranker-v2-m3", "tiny-reranker-f16", "qwen3-ranker"}
    cross = found["BAAI/bge-reranker-v2-m3"]
    assert (cross.kind, cross.origin, cross.setting) == ("cross-encoder", "huggingface", cross.name)
    assert cross.architecture == "XLMRobertaForSequenceClassification" and cross.size_mb >= 0
    gguf = found["tiny-reranker-f16"]
    assert (gguf.kind, gguf.origin, gguf.architecture) == ("gguf", "model_dirs", "bert")
    assert gguf.setting == str(machine["gguf"].absolute()) and not gguf.in_use
    # and a GGUF reranker is not offered as a chat model
    chats = {e.name: e for e in find_models(settings, machine["home"], {})}
    assert "reranker (rank pooling)" in (chats["qwen3-ranker"].error or "")
    assert chats["chat"].usable


def test_rank_pooling_is_read_from_the_header(tmp_path: Path) -> None:
    assert read_header(rerank_gguf(tmp_path / "r.gguf")).is_reranker
    plain = tmp_path / "plain.gguf"
    plain.write_bytes(gguf_bytes([*chat_metadata("p", arch="bert"), ("bert.pooling_type", U32, 2)]))
    assert not read_header(plain).is_reranker
    odd = tmp_path / "odd.gguf"
    odd.write_bytes(gguf_bytes([*chat_metadata("p"), ("llama.pooling_type", STR, "rank")]))
    assert not read_header(odd).is_reranker


def test_choosing_a_reranker_saves_the_setting(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    machine = reranker_machine(tmp_path)
    monkeypatch.setenv("HF_HUB_CACHE", str(machine["home"] / ".cache" / "huggingface" / "hub"))
    data = tmp_path / "data"
    settings = load_settings(data_dir=data, llm={"model_dirs": [str(machine["models"])]})
    env = {"HF_HUB_CACHE": str(machine["home"] / ".cache" / "huggingface" / "hub")}

    choice = use_reranker("baai/BGE-reranker-v2-m3", settings, None, machine["home"], env)
    assert choice.settings_file == data / "settings.toml" and choice.overridden_by is None
    again = load_settings(data_dir=data, llm={"model_dirs": [str(machine["models"])]})
    assert again.retrieval.rerank == "BAAI/bge-reranker-v2-m3"
    assert (
        next(e for e in find_rerankers(again, machine["home"], env) if e.in_use).kind
        == "cross-encoder"
    )

    use_reranker(str(machine["gguf"]), again, None, machine["home"], env)  # by its path
    assert load_settings(data_dir=data).retrieval.rerank == str(machine["gguf"].absolute())
    use_reranker("LLM", again, None, machine["home"], env)
    assert load_settings(data_dir=data).retrieval.rerank == "llm"
    overridden = use_reranker(
        "none", again, None, machine["home"], {"RAG_RETRIEVAL__RERANK": "llm"}
    )
    assert overridden.overridden_by and "RAG_RETRIEVAL__RERANK" in overridden.overridden_by
    with pytest.raises(RagError, match="reranker nothing-like-it: not found"):
        use_reranker("nothing-like-it", again, None, machine["home"], env)
