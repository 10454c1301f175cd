"""Answering: time to first token and tokens/s through the app vs raw llama-cpp-python.

    .venv/bin/python -m bench.perf.answering            # 8 questions, 3 rounds
    .venv/bin/python -m bench.perf.answering --quick    # 3 questions, 2 rounds

Corpus: the first 3 XQuAD-en articles from ../shared/data (ingested as text into a temp data
dir), its questions in file order. For each question, in alternating order:
- app: ``RagService.ask`` (hybrid retrieval, then the bundled SmolLM2 through our LangChain
  chat model, streamed);
- raw: ``Llama.create_chat_completion(stream=True)`` on the same ``Llama`` object with the exact
  messages and sampling parameters the app used.
The KV cache is cleared (``Llama.reset()``) before each of these, so both prefill from zero.
Then, separately:
- KV prefix reuse: the same question asked twice in a row (no reset), and a second question
  over the first question's passages (raw, to hold the passages fixed), vs from cold;
- the extra cost of multi-query, HyDE and hybrid-multi-query retrieval over hybrid (their LLM
  call; the generation cache and KV cache cleared first);
- `rag ask --json` as a command (a new process: imports and model loads included).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from functools import partial
from pathlib import Path
from typing import Any

from bench.lib import SHARED_DATA, print_table, ratio, timed, write_results
from rag_app.answering import prompts
from rag_app.evaluation.corpora import load_squad
from rag_app.models.llm import ChatLlamaCpp
from rag_app.retrieval.strategies import select_relevant
from rag_app.service import RagService
from rag_app.settings import load_settings
from rag_app.text.language import detect_language

MAX_TOKENS = 128
STRATEGY = "hybrid"


def raw_stream(llama: Any, request: dict[str, Any]) -> dict[str, float]:
    """Time to first token and decode speed of one raw streamed chat completion."""
    started = time.perf_counter()
    first: float | None = None
    n = 0
    for part in llama.create_chat_completion(stream=True, **request):
        if part["choices"][0].get("delta", {}).get("content"):
            first = first or time.perf_counter()
            n += 1
    end = time.perf_counter()
    generated = end - (first or end)
    return {
        "first_token_s": (first or end) - started,
        "tokens": n,
        "tokens_per_s": (n - 1) / generated if n > 1 and generated > 0 else 0.0,
    }


def request_for(service: RagService, question: str, passages: list[Any]) -> dict[str, Any]:
    """The exact request the app's chat model sends for these passages."""
    language = detect_language(question)
    messages = prompts.answer_messages(question, [s.as_document() for s in passages], language)
    chat = service.chat_model
    assert isinstance(chat, ChatLlamaCpp), "the raw comparison needs the bundled llama.cpp model"
    # ChatLlamaCpp has no public name for the request it sends (reported: bench/perf only).
    request = chat._request(messages, prompts.STOP, max_tokens=MAX_TOKENS)
    assert request["messages"][0]["role"] == "system"
    return dict(request)


def used_passages(service: RagService, question: str) -> list[Any]:
    """The passages the app puts in the prompt for this question."""
    tuned = service.tuned()
    found = service.retrieve(question, strategy=STRATEGY)
    return select_relevant(found, tuned.relevance_threshold, tuned.relevance_margin)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--questions", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="3 questions, 2 rounds")
    args = parser.parse_args()
    if args.quick:
        args.questions, args.rounds = 3, 2

    work = Path(tempfile.mkdtemp(prefix="rag-bench-answer-"))
    try:
        corpus = load_squad(SHARED_DATA / "xquad" / "xquad.en.dev.json")
        docs = corpus.documents[:3]
        names = {name for name, _ in docs}
        questions = [q.text for q in corpus.queries if next(iter(q.relevant))[0] in names]
        step = max(1, len(questions) // args.questions)
        questions = questions[::step][: args.questions]
        settings = load_settings(data_dir=work / "data")
        service = RagService(settings)
        service.ingest_texts(docs)
        chat = service.chat_model
        assert isinstance(chat, ChatLlamaCpp), (
            "the raw comparison needs the bundled llama.cpp model"
        )
        llama = chat.llama
        service.ask(questions[0], max_tokens=8)  # warm-up

        # 1. app vs raw, both from an empty KV cache.
        rounds: list[dict[str, Any]] = []
        for r in range(args.rounds):
            app_rows, raw_rows = [], []
            for n, question in enumerate(questions):
                answer = None

                def app(question: str = question) -> dict[str, float]:
                    nonlocal answer
                    llama.reset()
                    answer = service.ask(question, strategy=STRATEGY, max_tokens=MAX_TOKENS)
                    t = answer.timings
                    return {
                        "first_token_s": t["first_token_s"],
                        "prefill_s": t["first_token_s"] - t["retrieval_s"],
                        "retrieval_s": t["retrieval_s"],
                        "tokens": t["tokens"],
                        "tokens_per_s": t["tokens_per_s"],
                    }

                # The raw side needs the app's passages: on odd questions the app goes first,
                # on even ones its retrieval runs untimed first, then raw, then the app.
                if (n + r) % 2 == 0:
                    passages = used_passages(service, question)  # untimed: the app's choice
                    llama.reset()
                    raw_rows.append(raw_stream(llama, request_for(service, question, passages)))
                    app_rows.append(app())
                else:
                    app_rows.append(app())
                    assert answer is not None
                    llama.reset()
                    raw_rows.append(
                        raw_stream(llama, request_for(service, question, answer.sources))
                    )
                print(f"round {r + 1} q{n + 1}: app {app_rows[-1]} raw {raw_rows[-1]}")
            rounds.append(
                {
                    "app_first_token_s": statistics.median(a["first_token_s"] for a in app_rows),
                    "app_prefill_s": statistics.median(a["prefill_s"] for a in app_rows),
                    "app_retrieval_s": statistics.median(a["retrieval_s"] for a in app_rows),
                    "raw_first_token_s": statistics.median(a["first_token_s"] for a in raw_rows),
                    "app_tokens_per_s": statistics.median(a["tokens_per_s"] for a in app_rows),
                    "raw_tokens_per_s": statistics.median(a["tokens_per_s"] for a in raw_rows),
                    "app_tokens": statistics.median(a["tokens"] for a in app_rows),
                    "raw_tokens": statistics.median(a["tokens"] for a in raw_rows),
                }
            )
        med = {k: round(statistics.median(r[k] for r in rounds), 4) for k in rounds[0]}
        tps_ratios = [ratio(r["app_tokens_per_s"], r["raw_tokens_per_s"]) for r in rounds]

        # 2. KV prefix reuse.
        reuse = []
        for n, question in enumerate(questions):
            llama.reset()
            cold = service.ask(question, strategy=STRATEGY, max_tokens=MAX_TOKENS).timings
            warm = service.ask(question, strategy=STRATEGY, max_tokens=MAX_TOKENS).timings
            other = questions[(n + 1) % len(questions)]
            passages = used_passages(service, question)
            llama.reset()
            other_cold = raw_stream(llama, request_for(service, other, passages))
            raw_stream(llama, request_for(service, question, passages))  # fills the cache
            other_warm = raw_stream(llama, request_for(service, other, passages))
            reuse.append(
                {
                    "same_cold_prefill_s": cold["first_token_s"] - cold["retrieval_s"],
                    "same_warm_prefill_s": warm["first_token_s"] - warm["retrieval_s"],
                    "other_question_cold_s": other_cold["first_token_s"],
                    "other_question_warm_s": other_warm["first_token_s"],
                    "prompt_tokens": len(
                        llama.tokenize(
                            json.dumps(
                                request_for(service, question, passages)["messages"]
                            ).encode()
                        )
                    ),
                }
            )
        reuse_med = {k: round(statistics.median(x[k] for x in reuse), 4) for k in reuse[0]}

        # 3. What multi-query and HyDE add to retrieval.
        extra: dict[str, list[float]] = {
            s: [] for s in ("hybrid", "multi-query", "hyde", "hybrid-multi-query")
        }
        for _ in range(args.rounds):
            for question in questions:
                for strategy in extra:
                    service.forget_generations()
                    llama.reset()
                    seconds, _ = timed(partial(service.retrieve, question, strategy=strategy))
                    extra[strategy].append(seconds)
        retrieval_cost = {s: round(statistics.median(v), 4) for s, v in extra.items()}

        # 4. The command line, a new process each time.
        env = {k: v for k, v in os.environ.items() if not k.startswith("RAG_")}
        env["RAG_DATA_DIR"] = str(settings.data_dir)
        rag = str(Path(sys.executable).parent / "rag")
        cli = []
        for _ in range(args.rounds):
            seconds, out = timed(
                lambda: subprocess.run(
                    [rag, "ask", questions[0], "--json"],
                    env=env,
                    capture_output=True,
                    text=True,
                    check=True,
                )
            )
            cli.append({"wall_s": seconds, **json.loads(out.stdout)["timings"]})
        cli_med = {
            k: round(statistics.median(c[k] for c in cli), 4)
            for k in ("wall_s", "first_token_s", "total_s", "tokens_per_s")
        }

        print_table([{"measure": k, "median": v} for k, v in med.items()])
        print(f"tokens/s ratio app/raw per round: {tps_ratios}")
        print_table([{"measure": k, "median": v} for k, v in reuse_med.items()])
        print_table(
            [
                {
                    "strategy": s,
                    "retrieval s": v,
                    "extra over hybrid s": round(v - retrieval_cost["hybrid"], 4),
                }
                for s, v in retrieval_cost.items()
            ]
        )
        print_table([{"measure": k, "median": v} for k, v in cli_med.items()])
        write_results(
            "answering",
            {
                "args": vars(args),
                "questions": questions,
                "max_tokens": MAX_TOKENS,
                "rounds": rounds,
                "median": med,
                "tokens_per_s_ratio_per_round": tps_ratios,
                "tokens_per_s_ratio_median": statistics.median(x for x in tps_ratios if x),
                "first_token_ratio_median": ratio(
                    med["app_first_token_s"], med["raw_first_token_s"]
                ),
                "prefill_ratio_median": ratio(med["app_prefill_s"], med["raw_first_token_s"]),
                "kv_reuse": reuse,
                "kv_reuse_median": reuse_med,
                "strategy_retrieval_s": retrieval_cost,
                "cli": cli,
                "cli_median": cli_med,
            },
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
