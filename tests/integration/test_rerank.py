"""Re-ranking through ``RagService`` with a real cross-encoder built here: a tiny
``BertForSequenceClassification`` with a vocabulary made from this test's text, trained for
150 steps (seconds on a CPU) on this test's pairs, saved with its tokenizer, and loaded by
``sentence_transformers.CrossEncoder`` through the ``retrieval.rerank`` setting. Real Chroma,
the real bundled embedder."""

from __future__ import annotations

from pathlib import Path

import pytest

from rag_app.retrieval.backend import StoreBackend
from rag_app.retrieval.strategies import Retriever
from rag_app.service import RagService
from rag_app.settings import Settings, load_settings
from tests.support.guides import CITY, OTHER_CITY

QUESTION = "¿Quién fundó la universidad?"
K = 3


def train_cross_encoder(
    folder: Path, question: str, texts: list[str], targets: list[float]
) -> Path:
    """A 2-layer BERT (hidden 32) whose sigmoid output learns ``targets`` for (question, text)."""
    torch = pytest.importorskip("torch")
    from tokenizers.normalizers import BertNormalizer
    from tokenizers.pre_tokenizers import BertPreTokenizer
    from transformers import BertConfig, BertForSequenceClassification, BertTokenizer

    normalizer, splitter = BertNormalizer(lowercase=True, strip_accents=True), BertPreTokenizer()
    words = sorted(
        {
            w
            for text in [question, *texts]
            for w, _ in splitter.pre_tokenize_str(normalizer.normalize_str(text))
        }
    )
    specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    tokenizer = BertTokenizer({w: i for i, w in enumerate(specials + words)}, do_lower_case=True)
    torch.manual_seed(0)
    config = BertConfig(
        vocab_size=len(specials) + len(words),
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=256,
        num_labels=1,
    )
    model = BertForSequenceClassification(config)
    batch = tokenizer([question] * len(texts), texts, padding=True, return_tensors="pt")
    wanted = torch.tensor(targets)
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    model.train()
    for _ in range(150):
        predicted = torch.sigmoid(model(**batch).logits.squeeze(-1))
        loss = torch.nn.functional.mse_loss(predicted, wanted)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    model.eval()
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


@pytest.fixture
def plain(settings: Settings, real_models: tuple) -> RagService:
    embeddings, chat = real_models
    service = RagService(settings, embeddings=embeddings, chat_model=chat)
    service.ingest_texts([("ciudad", CITY), ("otra", OTHER_CITY)])
    return service


def service_with(plain: RagService, **retrieval: object) -> RagService:
    """A service on the same store whose settings are read (and checked) with these values."""
    settings = load_settings(data_dir=plain.settings.data_dir, retrieval=retrieval)
    return RagService(settings, embeddings=plain.embeddings, chat_model=plain.chat_model)


@pytest.fixture
def trained(plain: RagService, tmp_path: Path) -> tuple[Path, list, str]:
    """Every chunk in the plain order, and a cross-encoder that prefers the chunk with the
    lowest cosine (ranked last by plain retrieval), then the others in the plain order."""
    everything = plain.retrieve(QUESTION, k=len(CITY) + len(OTHER_CITY))
    favourite = min(everything, key=lambda s: s.score)
    assert favourite.chunk_id != everything[0].chunk_id
    order = [favourite] + [s for s in everything if s is not favourite]
    targets = {s.chunk_id: 0.95 - 0.9 * i / (len(order) - 1) for i, s in enumerate(order)}
    folder = train_cross_encoder(
        tmp_path / "cross-encoder",
        QUESTION,
        [s.text for s in everything],
        [targets[s.chunk_id] for s in everything],
    )
    return folder, everything, favourite.chunk_id


def test_the_cross_encoder_scores_decide_the_order(plain: RagService, trained: tuple) -> None:
    from sentence_transformers import CrossEncoder

    folder, everything, favourite = trained
    reranking = service_with(plain, rerank=str(folder))
    sources, trace = reranking.retrieve_traced(QUESTION, K)

    scores = CrossEncoder(str(folder), local_files_only=True).predict(
        [(QUESTION, s.text) for s in everything]
    )
    by_score = sorted(zip(scores, everything, strict=True), key=lambda pair: -pair[0])
    assert len({round(float(s), 3) for s in scores}) == len(scores)  # no near-ties to hide behind
    assert [s.chunk_id for s in sources] == [s.chunk_id for _, s in by_score[:K]]
    assert sources[0].chunk_id == favourite != everything[0].chunk_id  # not first without it
    assert sources[0].chunk_id not in [s.chunk_id for s in everything[:K]]  # from beyond k
    cosine = {s.chunk_id: s.score for s in everything}
    assert all(s.score == cosine[s.chunk_id] for s in sources)  # the score stays the cosine

    assert trace.rerank is not None
    assert trace.rerank["model"] == str(folder)
    assert trace.rerank["candidates"] == len(everything) and trace.rerank["seconds"] > 0
    plain_rank = {s.chunk_id: i for i, s in enumerate(everything, start=1)}
    _, plain_trace = plain.retrieve_traced(QUESTION, len(everything))
    before = {(c.source, c.page): c.retrievers for c in plain_trace.candidates}
    assert trace.rerank["fused_ranks"] == [plain_rank[s.chunk_id] for s in sources]
    for candidate, (score, _) in zip(trace.candidates, by_score, strict=False):
        assert candidate.retrievers["rerank"].rank == candidate.rank
        assert candidate.retrievers["rerank"].score == pytest.approx(float(score), abs=1e-4)
        seen = {k: v for k, v in candidate.retrievers.items() if k != "rerank"}
        assert seen == before[(candidate.source, candidate.page)]  # what each retriever said
    assert "rerank" in trace.to_dict()


def test_without_a_reranker_retrieval_is_what_the_strategy_gives(plain: RagService) -> None:
    """rerank=none runs the strategy for k, as before re-ranking existed: the same chunks,
    order and scores as the strategy itself, and no rerank in the trace."""
    assert plain.settings.retrieval.rerank == "none" and plain.reranker is None
    sources, trace = plain.retrieve_traced(QUESTION, K)
    checked = plain.check_askable(QUESTION)
    backend = StoreBackend(plain.store, plain.sentence_embeddings, checked.pending, checked.only)
    strategy = Retriever(backend, plain._generate, plain.tuned().fusion())
    hits = strategy.run(checked.strategy, QUESTION, K).hits
    assert [(s.chunk_id, s.score) for s in sources] == [
        (str(h.doc.id), round(h.score, 4)) for h in hits
    ]
    assert trace.rerank is None and "rerank" not in trace.to_dict()
    assert all("rerank" not in c.retrievers for c in trace.candidates)


def test_a_passage_below_the_threshold_is_dropped_whatever_its_rerank_score(
    plain: RagService, trained: tuple
) -> None:
    folder, everything, favourite = trained
    low = next(s.score for s in everything if s.chunk_id == favourite)
    threshold = round(low + 0.01, 4)
    reranking = service_with(
        plain, rerank=str(folder), relevance_threshold=threshold, relevance_margin=2.0
    )
    answer = reranking.ask(QUESTION, k=K, mode="evidence")

    first = answer.trace.candidates[0]
    assert (first.source, first.score) == (
        next(s.source for s in everything if s.chunk_id == favourite),
        low,
    )
    top_score = max(c.retrievers["rerank"].score for c in answer.trace.candidates)
    assert first.retrievers["rerank"].score == top_score  # the reranker's favourite...
    assert first.used is False  # ...is below the threshold: left out of the answer
    assert favourite not in {s.chunk_id for s in answer.sources}
    assert answer.sources, "passages above the threshold still answer"
    assert all(s.score >= threshold for s in answer.sources)
    assert answer.trace.relevance_threshold == threshold
