"""What the evidence and abstention studies share: a service over a benchmark corpus's cached
index, and the off-topic questions (``bench/data/unanswerable.jsonl``).

A library, not a script: ``bench.studies.evidence`` is the study that measures evidence
selection; ``evidence_study``, ``abstention_study``, ``relevance_study``, ``answer_modes`` and
``chat_model_study`` build their services and read their off-topic questions here.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from bench.lib import DATA
from rag_app.evaluation.benchmark import run_benchmark
from rag_app.evaluation.corpora import Corpus, Query, load_squad
from rag_app.service import RagService
from rag_app.settings import load_settings

SETS = ("es", "en", "es-q.en-ctx", "en-q.es-ctx")

UNANSWERABLE = DATA / "unanswerable.jsonl"


def squad_service(path: Path) -> RagService:
    """A service over the cached index of a SQuAD file (built on first use), with no
    abstention bar, so every question's best evidence score is seen."""
    return corpus_service(load_squad(path))


def corpus_service(corpus: Corpus) -> RagService:
    """``squad_service`` for any benchmark corpus."""
    with tempfile.TemporaryDirectory() as scratch:
        built = run_benchmark(corpus, (), limit=1, out_dir=Path(scratch))
    settings = load_settings(data_dir=built.cache_dir)
    settings.answer.evidence_threshold = 0.0
    return RagService(settings)


def unanswerable(language: str, split: str = "calibration") -> list[Query]:
    """The off-topic questions in ``language`` of one split ("calibration" or "check")."""
    rows = [json.loads(line) for line in UNANSWERABLE.read_text(encoding="utf-8").splitlines()]
    return [
        Query(f"u{i}", r["question"], {}, "")
        for i, r in enumerate(rows)
        if r["language"] == language and r.get("split", "calibration") == split
    ]
