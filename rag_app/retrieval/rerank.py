"""Re-ranking: a slower, stronger judge reorders the strategy's candidates (``retrieval.rerank``).

A ``Reranker`` scores (question, passage) pairs together, which a retriever cannot: it reads
both at once. Three kinds, each wrapping a model the models layer loaded
(``rag_app.models.rerankers``) or the chat model: a sentence-transformers ``CrossEncoder``, a
GGUF reranker run by llama.cpp with rank pooling, and ``llm`` (the chat model grades each
passage 0-10). Only the order changes: a hit keeps its cosine ``score``, so the relevance
threshold and margin filter what reaches the model exactly as without re-ranking.

Nothing here loads a model or imports torch or llama.cpp at import time; ``hub_snapshot`` is
here because the settings check a cross-encoder's hub name with it, and they sit above this
layer.
"""

from __future__ import annotations

import math
import os
import re
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from rag_app.errors import RagError

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel
    from langchain_core.messages import BaseMessage

    from rag_app.retrieval.strategies import Hit


class Reranker(Protocol):
    """Scores passages for a question; higher is more relevant. Scores are compared only
    within one call, so any scale will do (logits, probabilities, grades)."""

    name: str

    def score(self, question: str, texts: Sequence[str]) -> list[float]: ...


@dataclass
class Reranked:
    hits: list[Hit]  # best first by the reranker, cut to k
    scores: list[float]  # each kept hit's reranker score
    fused_ranks: list[int]  # each kept hit's 1-based rank before re-ranking
    candidates: int  # how many were scored
    seconds: float


def rerank(reranker: Reranker, question: str, hits: Sequence[Hit], k: int) -> Reranked:
    """The ``k`` hits the reranker scores best, best first. Ties (a grade scale has many) keep
    the strategy's order; a score that is not a number counts as the lowest."""
    clock = time.perf_counter()
    scores = [_number(s) for s in reranker.score(question, [h.doc.page_content for h in hits])]
    if len(scores) != len(hits):
        raise RagError(
            f"reranker {reranker.name}: gave {len(scores)} scores for {len(hits)} passages; "
            "set retrieval.rerank to another reranker, or to none"
        )
    order = sorted(range(len(hits)), key=lambda i: -scores[i])[:k]  # sorted() is stable
    return Reranked(
        hits=[hits[i] for i in order],
        scores=[scores[i] for i in order],
        fused_ranks=[i + 1 for i in order],
        candidates=len(hits),
        seconds=time.perf_counter() - clock,
    )


def _number(value: Any) -> float:
    number = float(value)
    return -math.inf if math.isnan(number) else number


# -- the chat model as a judge ---------------------------------------------------------------
LLM_SYSTEM = "You judge search results. Answer yes or no."
LLM_MAX_PASSAGE = 1200  # characters of a passage shown to the judge (chunks are 800 by default)
LLM_MAX_TOKENS = 4
YES, NO = ["Yes", "yes", "YES"], ["No", "no", "NO"]  # a reply's first token, as odds
NEUTRAL_GRADE = 0.5  # a reply with no readable answer: no opinion, between yes (1) and no (0)
_GRADE = re.compile(r"(?<![\d.])(\d{1,3}(?:[.,]\d+)?)(?:\s*/\s*(\d{1,3}))?")
_YES = re.compile(r"^\W*(yes|s[ií]|relevant|relevante)\b", re.IGNORECASE)
_NO = re.compile(r"^\W*(no|not|irrelevant|irrelevante|none|ninguna?)\b", re.IGNORECASE)


def llm_messages(question: str, passage: str) -> list[BaseMessage]:
    """The judge's prompt: the question before the passage, so the prompt's start is the same
    for every candidate of a question (llama.cpp reuses what it computed for it)."""
    from langchain_core.messages import HumanMessage, SystemMessage

    text = passage.strip()[:LLM_MAX_PASSAGE]
    return [
        SystemMessage(LLM_SYSTEM),
        HumanMessage(
            f"Question: {question.strip()}\n\nPassage: {text}\n\n"
            "Does the passage answer the question? Answer yes or no."
        ),
    ]


def parse_grade(reply: str) -> float | None:
    """A judge's reply as a grade from 0 to 1: yes/no (English or Spanish) as 1/0, or a
    number ("7", "Grade: 8/10", "**9**", "7.5", "80%": 0-10, x/N, or a percentage up to
    100); None when the reply holds none."""
    text = reply.strip()
    if _YES.match(text):
        return 1.0
    if _NO.match(text):
        return 0.0
    match = _GRADE.search(text)
    if not match:
        return None
    value = float(match[1].replace(",", "."))
    if match[2] and float(match[2]) > 0:
        value = value / float(match[2])
    elif value <= 10:
        value = value / 10.0
    elif value <= 100:
        value = value / 100.0
    return value if 0.0 <= value <= 1.0 else None


def yes_odds(logits: Sequence[float]) -> float:
    """log P(yes) - log P(no) over the first-token logits of ``YES + NO``."""
    yes, no = logits[: len(YES)], logits[len(YES) :]
    return _logsumexp(yes) - _logsumexp(no)


def _logsumexp(values: Sequence[float]) -> float:
    top = max(values)
    return top + math.log(sum(math.exp(v - top) for v in values))


class LlmReranker:
    """The chat model judges each passage: one short call per passage, so it costs a prompt's
    prefill per candidate. With the app's in-process model (``ChatLlamaCpp``) the score is the
    log-odds of "yes" over "no" as the reply's first token, read from one prefill: a small
    model's text is rarely a usable answer, its odds still rank. Any other LangChain chat model
    answers in a few tokens, read by ``parse_grade``. With the bundled 135M model expect
    little (docs/RERANKING.md measures it)."""

    def __init__(self, chat_model: Callable[[], BaseChatModel], name: str = "llm") -> None:
        self.chat_model, self.name = chat_model, name

    def score(self, question: str, texts: Sequence[str]) -> list[float]:
        model = self.chat_model()
        logits = getattr(model, "next_token_logits", None)
        scores = []
        for text in texts:
            messages = llm_messages(question, text)
            if callable(logits):
                scores.append(yes_odds(logits(messages, YES + NO)))
                continue
            reply = model.invoke(messages, temperature=0.0, max_tokens=LLM_MAX_TOKENS, stop=["\n"])
            grade = parse_grade(str(reply.content))
            scores.append(NEUTRAL_GRADE if grade is None else grade)
        return scores


# -- cross-encoders (sentence-transformers) --------------------------------------------------
class CrossEncoderReranker:
    """A loaded ``sentence_transformers.CrossEncoder`` (``rag_app.models.rerankers`` loads it
    from a folder or the Hugging Face cache, offline)."""

    def __init__(self, model: Any, name: str, batch_size: int = 16) -> None:
        self.model, self.name, self.batch_size = model, name, batch_size

    def score(self, question: str, texts: Sequence[str]) -> list[float]:
        if not texts:
            return []
        scores = self.model.predict(
            [(question, text) for text in texts],
            batch_size=self.batch_size,
            show_progress_bar=False,
            convert_to_numpy=True,
        )
        return [float(s) for s in scores]


# -- GGUF rerankers (llama.cpp, rank pooling) ------------------------------------------------
class GgufReranker:
    """A GGUF reranker loaded by llama-cpp-python with ``pooling_type`` RANK and embeddings on:
    llama.cpp puts the classification head on the graph and gives one score per sequence.
    The pair is built as llama.cpp's server builds it (``format_prompt_rerank``): the GGUF's
    ``rerank`` chat template with ``{query}`` and ``{document}`` when it has one (Qwen3
    rerankers), else [BOS] query [EOS] [SEP] document [EOS], each special token where the
    vocabulary asks for it."""

    def __init__(self, llama: Any, name: str) -> None:
        self.llama, self.name = llama, name
        self._lock = threading.Lock()  # a llama.cpp context is not thread-safe

    def score(self, question: str, texts: Sequence[str]) -> list[float]:
        with self._lock:
            return [self._score(self.pair_tokens(question, text)) for text in texts]

    def pair_tokens(self, question: str, document: str) -> list[int]:
        """The tokens of one (question, document) pair, the document cut to fit one batch."""
        import llama_cpp

        llama = self.llama
        room = min(llama.n_batch, llama.context_params.n_ubatch)  # one pair, one ubatch
        template = _rerank_template(llama)
        if template is not None:
            tokens = self._templated(template, question, document)
            while len(tokens) > room and document:  # cut the document, keep the template
                document = document[: int(len(document) * room / len(tokens) * 0.95)]
                tokens = self._templated(template, question, document)
            return tokens[:room]
        vocab = llama._model.vocab
        query = llama.tokenize(question.encode(), add_bos=False, special=False)
        doc = llama.tokenize(document.encode(), add_bos=False, special=False)
        eos = llama_cpp.llama_vocab_eos(vocab)
        if eos == -1:  # LLAMA_TOKEN_NULL: the SEP token stands in, as in the server
            eos = llama_cpp.llama_vocab_sep(vocab)
        add_bos = bool(llama_cpp.llama_vocab_get_add_bos(vocab))
        add_eos = bool(llama_cpp.llama_vocab_get_add_eos(vocab))
        add_sep = bool(llama_cpp.llama_vocab_get_add_sep(vocab))
        sep = llama_cpp.llama_vocab_sep(vocab)
        head = [llama_cpp.llama_vocab_bos(vocab)] if add_bos else []
        middle = ([eos] if add_eos else []) + ([sep] if add_sep else [])
        tail = [eos] if add_eos else []
        query = query[: max(room // 2, room - len(head) - len(middle) - len(tail) - len(doc))]
        doc = doc[: max(0, room - len(head) - len(query) - len(middle) - len(tail))]
        return head + query + middle + doc + tail

    def _templated(self, template: str, question: str, document: str) -> list[int]:
        prompt = template.replace("{query}", question).replace("{document}", document)
        return list(self.llama.tokenize(prompt.encode(), add_bos=False, special=True))

    def _score(self, tokens: list[int]) -> float:
        import llama_cpp

        llama = self.llama
        llama._batch.reset()
        llama._batch.add_sequence(tokens, 0, True)
        llama._ctx.kv_cache_clear()
        llama._ctx.decode(llama._batch)
        values = llama_cpp.llama_get_embeddings_seq(llama._ctx.ctx, 0)
        if not values:
            raise RagError(
                f"reranker {self.name}: llama.cpp gave no score (not a rank-pooling model?); "
                "set retrieval.rerank to another reranker, or to none"
            )
        return float(values[0])


def _rerank_template(llama: Any) -> str | None:
    """The GGUF's ``tokenizer.chat_template.rerank``, if it has one."""
    import llama_cpp

    found = llama_cpp.llama_model_chat_template(llama._model.model, b"rerank")
    text = found.decode("utf-8", errors="replace") if found else None
    return text if text and "{query}" in text and "{document}" in text else None


# -- where the Hugging Face hub keeps its downloads ------------------------------------------
HUB_NAME = re.compile(r"^[\w.-]+(/[\w.-]+)?$")


def hub_cache(home: Path | None = None, env: Mapping[str, str] | None = None) -> Path:
    """Where huggingface_hub downloads to, by the same variables it reads."""
    env = os.environ if env is None else env
    home = Path.home() if home is None else home
    if env.get("HF_HUB_CACHE"):
        return Path(env["HF_HUB_CACHE"]).expanduser()
    if env.get("HF_HOME"):
        return Path(env["HF_HOME"]).expanduser() / "hub"
    cache = Path(env["XDG_CACHE_HOME"]) if env.get("XDG_CACHE_HOME") else home / ".cache"
    return cache / "huggingface" / "hub"


def hub_snapshot(name: str, cache: Path | None = None) -> Path | None:
    """The downloaded snapshot of a hub model ("org/name") that has a config.json: the one
    ``refs/main`` names, else the newest; None when the cache has none (nothing is fetched)."""
    if not HUB_NAME.match(name):
        return None
    repo = (cache or hub_cache()) / f"models--{name.replace('/', '--')}"
    snapshots = repo / "snapshots"
    try:
        ref = (repo / "refs" / "main").read_text(encoding="utf-8").strip()
    except OSError:
        ref = ""
    if ref and (snapshots / ref / "config.json").is_file():
        return snapshots / ref
    try:
        found = [p for p in snapshots.iterdir() if (p / "config.json").is_file()]
    except OSError:
        return None
    return max(found, key=lambda p: p.stat().st_mtime, default=None)
