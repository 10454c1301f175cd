"""The shapes of `rag eval`'s rows and report: what the JSON report holds, key for key.

TypedDicts only describe the dicts (they are still plain dicts at run time, dumped as they are),
so the JSON keeps its keys and their order. A row is built in steps (``runner._row``, then the
sources, then the scores), so the keys set after ``_row`` are ``NotRequired`` although a
finished pipeline row has them all; a scored-dataset row has no ``mode``, ``sources``,
``timings`` nor the answer's keys (``evidence``, ``generated``, ``unsupported``, ``fallback``).
"""

from __future__ import annotations

from typing import Any, NotRequired, TypedDict

# metric name -> value; None where the metric does not apply to the question. The names are
# ``scoring.METHODS``' (and ``<name>_llm``, the evidence metrics and the timings).
Scores = dict[str, float | None]


class SampleFields(TypedDict):
    """A QA-set question as rows and reports carry it (``EvalSample.to_dict``)."""

    id: str
    question: str
    reference: str | None
    reference_contexts: list[str]
    source: str | None
    page: int | None
    unanswerable: bool
    keywords: list[str]  # phrases a right answer carries (``keyword_hit``)
    type: str | None  # the question's kind, as the QA set names it; the report's ``by_type``


class SampleScores(TypedDict):
    """What ``scoring.score_sample`` adds to a row."""

    scores: Scores
    abstained: bool | None  # None: nothing was answered (retrieval only)
    judge_calls: int
    judge_unparseable: int


class PageRef(TypedDict):
    source: str
    page: int


class UsedSource(TypedDict):
    source: str
    page: int
    score: float


class EvalRow(SampleFields):
    """One question asked with one strategy (and answer mode), scored."""

    strategy: str  # "scored" for a scored dataset; "strategy/mode" when modes are compared
    response: str  # the answer ("" when retrieval only)
    contexts: list[str]  # the passages the answer was given
    sources: NotRequired[list[UsedSource]]  # those passages' source, page and score
    evidence: NotRequired[list[dict[str, object]]]  # ``Evidence.to_dict`` of each quote
    generated: NotRequired[str | None]
    unsupported: NotRequired[list[str]]
    fallback: NotRequired[str | None]
    retrieved: NotRequired[list[PageRef]]  # every retrieved chunk: what hit@k/MRR look at
    timings: NotRequired[dict[str, float]]
    scores: NotRequired[Scores]
    abstained: NotRequired[bool | None]
    judge_calls: NotRequired[int]
    judge_unparseable: NotRequired[int]
    mode: NotRequired[str | None]  # the answer mode; None when retrieval only


class MetricMean(TypedDict):
    mean: float | None  # over the questions the metric applied to; None when none
    n: int  # how many that was


# Per strategy: a MetricMean per metric name, and two counts, "judge_calls" and
# "judge_unparseable" (ints), in the same dict (as the JSON has them).
StrategyMeans = dict[str, MetricMean | int]


class TypeStats(TypedDict):
    """One question type's results with one strategy (``runner.by_type``)."""

    questions: int  # rows of this type
    keyword_hit: MetricMean  # over the rows with keywords (none for unanswerable questions)
    keyword_recall: MetricMean
    abstained: MetricMean  # share of the answered rows that abstained (right for unanswerable)
    uncertain: MetricMean  # share shown labelled "may not answer" (not confident, not refused)


class EvalReport(TypedDict):
    created_at: str
    finished_at: str
    mode: str  # pipeline, retrieval-only or scored
    qa_file: str
    questions: int
    strategies: list[str]
    modes: list[str]
    k: int | None
    models: dict[str, str]  # embedder, chat_model
    judge: str  # the judge model's name, or "none"
    settings: dict[str, Any]  # the retrieval, chunking, llm and evaluation settings
    methods: dict[str, str]  # metric -> how it was computed
    aggregate: dict[str, StrategyMeans]
    by_type: dict[str, dict[str, TypeStats]]  # strategy -> question type -> results; {} untyped
    rows: list[EvalRow]


def judge_count(means: StrategyMeans, name: str) -> int:
    """``judge_calls`` or ``judge_unparseable`` of a strategy's means (0 when absent)."""
    value = means.get(name, 0)
    return value if isinstance(value, int) else 0


def metric_mean(means: StrategyMeans, name: str) -> float | None:
    """The mean of one metric in a strategy's means; None when absent or not applicable."""
    value = means.get(name)
    return value["mean"] if isinstance(value, dict) else None
