"""Run a QA set through ``RagService`` for each strategy (or take a scored set as is), score
every answer and aggregate per strategy."""

from __future__ import annotations

import statistics
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from langchain_core.embeddings import Embeddings

from ingest.pipeline import ProgressFn, no_progress
from rag_app.answering.answers import ANSWER_MODES
from rag_app.answering.fallback import Fallback
from rag_app.errors import RagError
from rag_app.evaluation.dataset import EvalSample
from rag_app.evaluation.judge import Judge
from rag_app.evaluation.schema import EvalReport, EvalRow, MetricMean, StrategyMeans, TypeStats
from rag_app.evaluation.scoring import METHODS, evidence_scores, judged_methods, score_sample
from rag_app.retrieval.strategies import STRATEGIES

if TYPE_CHECKING:
    from rag_app.answering.answers import Source
    from rag_app.retrieval.trace import Candidate
    from rag_app.service import RagService

SCORED = "scored"  # the "strategy" name of rows read from a scored dataset
NO_TYPE = "(none)"  # the type of a question without one, in a QA set where others have one
TIMINGS = ("first_token_s", "total_s", "tokens_per_s")


def _check_names(option: str, names: Sequence[str], known: Sequence[str]) -> list[str]:
    chosen = list(dict.fromkeys(n.strip() for n in names if n.strip()))
    unknown = [n for n in chosen if n not in known]
    if unknown or not chosen:
        raise RagError(
            f"{option} {','.join(unknown) or '(empty)'}: unknown; use some of {', '.join(known)}"
        )
    return chosen


def check_strategies(names: Sequence[str]) -> list[str]:
    return _check_names("--strategies", names, STRATEGIES)


def check_modes(names: Sequence[str]) -> list[str]:
    return _check_names("--modes", names, ANSWER_MODES)


def run_label(strategy: str, mode: str, modes: Sequence[str]) -> str:
    """How a run is named in reports: the strategy, and the answer mode when several are
    compared ("hybrid/evidence")."""
    return f"{strategy}/{mode}" if len(modes) > 1 else strategy


def run_pipeline(
    service: RagService,
    samples: Sequence[EvalSample],
    strategies: Sequence[str],
    k: int | None = None,
    judge: Judge | None = None,
    progress: ProgressFn = no_progress,
    retrieval_only: bool = False,
    modes: Sequence[str] = (),
) -> list[EvalRow]:
    """Ask every question with every strategy (and answer mode) through the real pipeline
    and score it. ``retrieval_only``: retrieve without generating; only the context metrics
    are scored. ``modes`` empty: the configured answer mode."""
    rows = []
    chosen = list(modes) or [service.settings.answer.mode]
    for strategy in strategies:
        for mode in chosen:
            label = run_label(strategy, mode, chosen)
            service.forget_generations()  # each run pays for its own LLM calls
            for done, sample in enumerate(samples):
                progress("answer", done, len(samples), label)
                row = _ask(service, sample, strategy, k, judge, retrieval_only, mode)
                row["strategy"], row["mode"] = label, None if retrieval_only else mode
                rows.append(row)
            progress("answer", len(samples), len(samples), label)
            if retrieval_only:
                break  # the answer mode does not change what is retrieved
    return rows


def _ask(
    service: RagService,
    sample: EvalSample,
    strategy: str,
    k: int | None,
    judge: Judge | None,
    retrieval_only: bool,
    mode: str | None = None,
) -> EvalRow:
    answer = None
    retrieved_sources: Sequence[Source | Candidate]  # what hit@k/MRR rank
    if retrieval_only:
        clock = time.perf_counter()
        sources = service.retrieve(sample.question, k, strategy)
        response, timings = None, {"retrieval_s": round(time.perf_counter() - clock, 4)}
        used = retrieved_sources = sources
    else:
        answer = service.ask(sample.question, k, strategy=strategy, mode=mode)
        response, timings, used = answer.answer, answer.timings, answer.sources
        # Hit@k/MRR look at every retrieved chunk, not only those kept for the prompt.
        retrieved_sources = answer.trace.candidates
    retrieved = [(s.source, s.page) for s in retrieved_sources]
    row = _row(sample, strategy, response or "", [s.text for s in used])
    row["sources"] = [{"source": s.source, "page": s.page, "score": s.score} for s in used]
    if answer is not None:
        row["evidence"] = [e.to_dict() for e in answer.evidence]
        row["generated"], row["unsupported"] = answer.generated, answer.unsupported
        row["fallback"] = answer.fallback
    row["retrieved"] = [{"source": s, "page": p} for s, p in retrieved]
    row["timings"] = timings
    evidence = [e.text for e in answer.evidence] if answer is not None else []
    row.update(
        score_sample(
            sample,
            response,
            row["contexts"],
            retrieved,
            service.embeddings,
            None if retrieval_only else judge,
            service.tuned().cosine_floor,
            evidence=evidence,  # shown above the answer: the keywords are looked for in both
        )
    )
    if answer is not None:
        row["scores"].update(
            evidence_scores(sample, evidence, answer.generated, answer.unsupported)
        )
    for name in TIMINGS:
        value = timings.get(name)
        usable = name != "tokens_per_s" or timings.get("tokens", 0) > 1
        row["scores"][name] = float(value) if value is not None and usable else None
    return row


def score_existing(
    samples: Sequence[EvalSample],
    embeddings: Embeddings,
    judge: Judge | None = None,
    progress: ProgressFn = no_progress,
    floor: float = 0.0,
) -> list[EvalRow]:
    """Score a dataset that already holds responses and retrieved contexts."""
    missing = [s.id for s in samples if s.response is None]
    if missing:
        raise RagError(
            f"--scored: {len(missing)} row(s) have no 'response' (first: {missing[0]}); a scored "
            "dataset needs response and retrieved_contexts, or run it with --qa"
        )
    rows = []
    for done, sample in enumerate(samples):
        progress("score", done, len(samples), SCORED)
        response = sample.response or ""
        row = _row(sample, SCORED, response, sample.retrieved_contexts)
        row["retrieved"] = [{"source": s, "page": p} for s, p in sample.retrieved_sources]
        row.update(
            score_sample(
                sample,
                response,
                sample.retrieved_contexts,
                sample.retrieved_sources,
                embeddings,
                judge,
                floor,
            )
        )
        rows.append(row)
    progress("score", len(samples), len(samples), SCORED)
    return rows


def _row(sample: EvalSample, strategy: str, response: str, contexts: list[str]) -> EvalRow:
    return {"strategy": strategy, **sample.to_dict(), "response": response, "contexts": contexts}


def aggregate(rows: Sequence[EvalRow]) -> dict[str, StrategyMeans]:
    """Per strategy: each metric's mean and the number of questions it applied to."""
    result: dict[str, StrategyMeans] = {}
    for strategy in dict.fromkeys(r["strategy"] for r in rows):
        mine = [r for r in rows if r["strategy"] == strategy]
        names = dict.fromkeys(n for r in mine for n in r["scores"])
        means: StrategyMeans = {}
        for name in names:
            values = [v for r in mine if (v := r["scores"].get(name)) is not None]
            mean: MetricMean = {
                "mean": round(statistics.fmean(values), 4) if values else None,
                "n": len(values),
            }
            means[name] = mean
        means["judge_calls"] = sum(r["judge_calls"] for r in mine)
        means["judge_unparseable"] = sum(r["judge_unparseable"] for r in mine)
        result[strategy] = means
    return result


def _mean(values: Sequence[float | None]) -> MetricMean:
    known = [v for v in values if v is not None]
    return {"mean": round(statistics.fmean(known), 4) if known else None, "n": len(known)}


def by_type(rows: Sequence[EvalRow]) -> dict[str, dict[str, TypeStats]]:
    """Per strategy, per question ``type`` (in order of appearance): how many rows, their
    keyword hit rate and recall, the share that abstained and the share shown as uncertain
    (evidence under a line saying it may not answer). {} when no question has a type."""
    if not any(r.get("type") for r in rows):
        return {}
    result: dict[str, dict[str, TypeStats]] = {}
    for strategy in dict.fromkeys(r["strategy"] for r in rows):
        mine = [r for r in rows if r["strategy"] == strategy]
        types: dict[str, TypeStats] = {}
        for kind in dict.fromkeys(r.get("type") or NO_TYPE for r in mine):
            group = [r for r in mine if (r.get("type") or NO_TYPE) == kind]
            abstained = [r.get("abstained") for r in group]
            types[kind] = {
                "questions": len(group),
                "keyword_hit": _mean([r["scores"].get("keyword_hit") for r in group]),
                "keyword_recall": _mean([r["scores"].get("keyword_recall") for r in group]),
                "abstained": _mean([None if a is None else float(a) for a in abstained]),
                "uncertain": _mean(
                    [
                        None if a is None else float(r.get("fallback") == Fallback.UNCERTAIN)
                        for r, a in zip(group, abstained, strict=True)
                    ]
                ),
            }
        result[strategy] = types
    return result


def build_report(
    rows: list[EvalRow],
    *,
    mode: str,
    qa_file: Path,
    settings: dict[str, Any],
    models: dict[str, str],
    k: int | None,
    judge_name: str | None,
    started: datetime,
) -> EvalReport:
    """The report: what was run, with which models and settings, the means and every row."""
    methods = dict(METHODS)
    if judge_name:
        methods.update(judged_methods(judge_name))
    report: EvalReport = {
        "created_at": started.isoformat(timespec="seconds"),
        "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "mode": mode,
        "qa_file": str(qa_file),
        "questions": len({r["id"] for r in rows}),
        "strategies": list(dict.fromkeys(r["strategy"] for r in rows)),
        "modes": list(dict.fromkeys(m for r in rows if (m := r.get("mode")))),
        "k": k,
        "models": models,
        "judge": judge_name or "none",
        "settings": settings,
        "methods": methods,
        "aggregate": aggregate(rows),
        "by_type": by_type(rows),
        "rows": rows,
    }
    return report


OVERALL = ("faithfulness", "answer_relevancy", "context_precision", "context_recall", "answer_f1")


def overall(row: EvalRow) -> float | None:
    """Mean of the Ragas four and token F1 that apply to a row: how the worst rows are found."""
    values = [v for n in OVERALL if (v := row["scores"].get(n)) is not None]
    return statistics.fmean(values) if values else None


def worst_first(rows: Sequence[EvalRow]) -> list[EvalRow]:
    """Lowest overall score first; rows with no score at all last."""

    def key(row: EvalRow) -> tuple[bool, float]:
        value = overall(row)
        return value is None, value or 0.0

    return sorted(rows, key=key)


def build_judge(service: RagService) -> Judge:
    """The judge the settings name (``components.build_judge_model``)."""
    from rag_app.components import build_judge_model

    model, name = build_judge_model(service.settings, lambda: service.chat_model)
    return Judge(model, service.embeddings, name, service.tuned().cosine_floor)


def evaluate(
    service: RagService,
    samples: Sequence[EvalSample],
    *,
    qa_file: Path,
    strategies: Sequence[str] | None = None,
    k: int | None = None,
    judge: str | None = None,
    scored: bool = False,
    retrieval_only: bool = False,
    modes: Sequence[str] | None = None,
    progress: ProgressFn = no_progress,
) -> EvalReport:
    """The whole evaluation as the CLI and the UI run it; returns the report."""
    from rag_app.models import loading as models

    settings = service.settings
    started = datetime.now(UTC)
    mode = judge or settings.evaluation.judge
    the_judge = build_judge(service) if mode == "llm" else None
    model_names = {"embedder": models.embedder_name(service.embedding)}
    if scored:
        rows = score_existing(
            samples, service.embeddings, the_judge, progress, service.tuned().cosine_floor
        )
    else:
        chosen = check_strategies(strategies or [settings.retrieval.strategy])
        rows = run_pipeline(
            service,
            samples,
            chosen,
            k,
            the_judge,
            progress,
            retrieval_only,
            check_modes(modes) if modes else (),
        )
        if not retrieval_only:
            model_names["chat_model"] = service.chat_model_name
    return build_report(
        rows,
        mode=SCORED if scored else "retrieval-only" if retrieval_only else "pipeline",
        qa_file=qa_file,
        settings=settings.model_dump(
            mode="json", include={"retrieval", "chunking", "llm", "evaluation"}
        ),
        models=model_names,
        k=k or settings.retrieval.k,
        judge_name=the_judge.name if the_judge else None,
        started=started,
    )
