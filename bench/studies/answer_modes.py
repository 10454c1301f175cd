"""Answer modes side by side on XQuAD dev, with the bundled models: what the user reads, and
how soon.

For each language, the same questions (spread over all articles) are answered through
``rag eval``'s runner in each configuration, in one run:

- ``evidence``: quotes only, no LLM;
- ``generate``: the model reads the passages (the behaviour before evidence existed);
- ``both`` with ``answer.context`` = ``evidence`` or ``evidence+passages``: the evidence is
  shown first, the model's wording is checked (``both`` reading the passages alone is
  ``generate``'s prompt, checked).

Per configuration: evidence hit, answer F1/EM (of what the user reads), language match and
unsupported share of the model's text, how often the evidence replaced it (fallback), false
abstentions, first-token and total seconds.

    RAG_LLM__MAX_TOKENS=96 .venv/bin/python -m bench.studies.answer_modes [--n 16] [--langs es,en]
"""

from __future__ import annotations

import argparse
import statistics
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

from bench.lib import SHARED_DATA, print_table, write_results
from bench.studies.evidence_lib import squad_service
from rag_app.evaluation.dataset import load_qa
from rag_app.evaluation.generate import spread
from rag_app.evaluation.runner import run_pipeline
from rag_app.evaluation.schema import EvalRow

Context = Literal["evidence", "evidence+passages", "passages"]  # answer.context
CONFIGS: tuple[tuple[str, str, Context], ...] = (
    ("evidence", "evidence", "evidence"),
    ("generate", "generate", "passages"),
    ("both, reads evidence", "both", "evidence"),
    ("both, reads evidence+passages", "both", "evidence+passages"),
)
SHOWN = (
    "evidence_hit",
    "answer_f1",
    "answer_em",
    "language_match",
    "unsupported_share",
    "false_abstention",
    "first_token_s",
    "total_s",
)


def mean(rows: Sequence[EvalRow], name: str) -> float | None:
    values = [v for r in rows if (v := r["scores"].get(name)) is not None]
    return round(statistics.fmean(values), 3) if values else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=16, help="questions per language")
    parser.add_argument("--langs", default="es,en")
    parser.add_argument("--data", type=Path, default=SHARED_DATA / "xquad")
    args = parser.parse_args()
    table, results = [], {}
    for lang in args.langs.split(","):
        path = args.data / f"xquad.{lang}.dev.json"
        service = squad_service(path)
        service.settings.answer.evidence_threshold = None  # the calibrated bar, as shipped
        samples = spread(load_qa(path), args.n)[: args.n]
        for label, mode, context in CONFIGS:
            service.settings.answer.context = context
            rows = run_pipeline(service, samples, ["hybrid"], modes=[mode])
            fallbacks = [r.get("fallback") for r in rows]
            row = {"lang": lang, "configuration": label}
            row.update({name: mean(rows, name) for name in SHOWN})
            row["fallback_to_evidence"] = round(
                sum(f in ("language", "unsupported", "unanswered") for f in fallbacks) / len(rows),
                3,
            )
            table.append(row)
            results[f"{lang}/{label}"] = {"summary": row, "rows": rows}
            print(row, flush=True)
    print_table(table)
    write_results("answer_modes", {"args": {**vars(args), "data": str(args.data)}, **results})


if __name__ == "__main__":
    main()
