"""Load on `rag serve`: clients asking at once, in two deployments, and how soon a document
uploaded to one instance is answerable on another.

    .venv/bin/python -m bench.perf.api_load                 # 16 clients, 120 s a run
    .venv/bin/python -m bench.perf.api_load --quick         # 4 clients, 15 s a run, 3 probes
    .venv/bin/python -m bench.perf.api_load --clients 16 --seconds 120 --setups single,shared \\
        --modes evidence,both --max-tokens 64 --probes 5

Setups, each started here on free 127.0.0.1 ports and stopped after:
- ``single``: one `rag serve` with the embedded store in its data dir and the in-process model.
- ``shared``: `chroma run`, an OpenAI-compatible LLM server (`python -m rag_app.models.llm_server`,
  i.e. `llama_cpp.server`, on the bundled GGUF, all cores) and two `rag serve` instances with
  their own data dirs pointed at both; client i talks to instance i % 2.

Each setup gets the same generated Markdown documents (small: a few facts each), uploaded with
POST /documents to the first instance. Then, per mode, ``--clients`` threads ask for
``--seconds`` seconds, each asking again as soon as it has its answer (a closed loop; the
questions in flight at the end are finished and counted):
- ``evidence``: POST /ask with mode=evidence (retrieval and quoted evidence, no LLM call).
- ``both``: POST /v1/chat/completions, streamed, through the `openai` client (the server's
  answer.mode=both: evidence, then the model's wording, checked), max_tokens ``--max-tokens``.
Per run: errors (non-200, a broken stream, a stream without its final `rag` chunk, an empty
answer; target 0), p50/p95 latency, requests/s (answers / time until the last one), p50/p95
time to the first streamed token (the first chunk with text), each client's count of answers
(min/max: fairness), and how often the first source is the document the question is about.

Visibility (``shared`` only, before the load runs): a document holding a fact no other holds is
uploaded to instance A; from the moment the upload returns, instance B is asked (evidence mode)
every 50 ms until its evidence quotes that document. Repeated ``--probes`` times (a new
document each time, deleted after): median and max (target <= 2 s).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import random
import secrets
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from bench.lib import latency_summary, print_table, write_results
from tests.support.servers import free_port
from tests.support.servers import started as server_process

BIN = Path(sys.executable).parent
LLM_KEY = "bench-" + secrets.token_hex(8)
TIMEOUT_S = 600.0


# -- processes ------------------------------------------------------------------------------
def app_env(data_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAG_")}
    return {**env, "RAG_DATA_DIR": str(data_dir), "RAG_ANSWER__MODE": "both", **extra}


@contextlib.contextmanager
def rag_serve(folder: Path, name: str, env: dict[str, str]) -> Iterator[str]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    command = [str(BIN / "rag"), "serve", "--port", str(port)]
    with server_process(command, f"{url}/health", folder / f"{name}.log", env=env):
        yield url


@contextlib.contextmanager
def single(folder: Path) -> Iterator[list[str]]:
    with rag_serve(folder, "app", app_env(folder / "app")) as url:
        yield [url]


@contextlib.contextmanager
def shared(folder: Path) -> Iterator[list[str]]:
    from rag_app.models import loading as models

    chroma, llm = free_port(), free_port()
    chroma_cmd = [str(BIN / "chroma"), "run", "--path", str(folder / "chroma"),
                  "--host", "127.0.0.1", "--port", str(chroma)]  # fmt: skip
    llm_cmd = [sys.executable, "-m", "rag_app.models.llm_server", "--model",
               str(models.bundled_gguf_path()), "--n_ctx", "4096",
               "--n_threads", str(os.cpu_count() or 2), "--host", "127.0.0.1",
               "--port", str(llm), "--api_key", LLM_KEY]  # fmt: skip
    base = f"http://127.0.0.1:{llm}/v1"
    servers = {
        "RAG_VECTORSTORE__HOST": "127.0.0.1",
        "RAG_VECTORSTORE__PORT": str(chroma),
        "RAG_LLM__BASE_URL": base,
        "RAG_LLM__API_KEY": LLM_KEY,
    }
    auth = {"Authorization": f"Bearer {LLM_KEY}"}
    with (
        server_process(
            chroma_cmd, f"http://127.0.0.1:{chroma}/api/v2/heartbeat", folder / "chroma.log"
        ),
        server_process(llm_cmd, f"{base}/models", folder / "llm.log", headers=auth),
        rag_serve(folder, "app-a", app_env(folder / "a", **servers)) as a,
        rag_serve(folder, "app-b", app_env(folder / "b", **servers)) as b,
    ):
        yield [a, b]


SETUPS = {"single": single, "shared": shared}


# -- documents and questions ----------------------------------------------------------------
@dataclass(frozen=True)
class Question:
    text: str
    source: str  # the document that answers it


PLACES = ["Aldmere", "Brisk Hollow", "Corven", "Dunmarsh", "Eskerby", "Fallowmere",
          "Greyhaven", "Hollin Vale", "Ivel Point", "Jorrow", "Kestlemoor", "Lunt"]  # fmt: skip
BUILDERS = ["Mara Quell", "Tobias Ren", "Ilse Varn", "Oskar Dunne", "Petra Holm", "Anselm Rook"]
PLANTS = ["sea kale", "thrift", "lavender", "samphire", "gorse", "rosemary"]


def corpus() -> tuple[list[tuple[str, str]], list[Question]]:
    """Twelve short Markdown documents, one lighthouse each, and three questions on each."""
    rng = random.Random(13)
    documents, questions = [], []
    for place in PLACES:
        name = f"{place.lower().replace(' ', '-')}-lighthouse.md"
        year, km, rooms = rng.randint(1790, 1910), rng.randint(12, 40), rng.randint(3, 9)
        builder, plant = rng.choice(BUILDERS), rng.choice(PLANTS)
        text = (
            f"# The {place} Lighthouse\n\n"
            f"The {place} Lighthouse was built in {year} by the engineer {builder}. "
            f"Its lamp can be seen from {km} kilometres out at sea.\n\n"
            f"The keeper's cottage at {place} has {rooms} rooms and a garden of {plant}. "
            f"Supplies came by boat from the harbour every second Tuesday.\n"
        )
        documents.append((name, text))
        questions += [
            Question(f"Who built the {place} Lighthouse?", name),
            Question(f"From how far can the lamp of the {place} Lighthouse be seen?", name),
            Question(f"How many rooms does the keeper's cottage at {place} have?", name),
        ]
    rng.shuffle(questions)
    return documents, questions


def upload(url: str, documents: list[tuple[str, str]]) -> dict[str, Any]:
    files = [("files", (name, text.encode(), "text/markdown")) for name, text in documents]
    response = httpx.post(f"{url}/documents", files=files, timeout=TIMEOUT_S)
    response.raise_for_status()
    body: dict[str, Any] = response.json()
    if body["failed"]:
        raise SystemExit(f"upload failed: {body['failed']}")
    return body


# -- asking ---------------------------------------------------------------------------------
@dataclass
class Sample:
    client: int
    seconds: float
    first_token_s: float | None
    error: str | None
    right_source: bool


def ask_evidence(http: httpx.Client, url: str, question: Question) -> tuple[float | None, bool]:
    response = http.post(f"{url}/ask", json={"question": question.text, "mode": "evidence"})
    if response.status_code != 200:
        raise RuntimeError(f"HTTP {response.status_code}: {response.text[:200]}")
    body = response.json()
    if not body.get("answer"):
        raise RuntimeError("empty answer")
    sources = body.get("sources") or []
    return None, bool(sources) and sources[0]["source"] == question.source


def ask_streamed(
    chat: Any, question: Question, max_tokens: int, started: float
) -> tuple[float | None, bool]:
    first: float | None = None
    text, final = "", None
    parts = chat.chat.completions.create(
        model="default",
        stream=True,
        max_tokens=max_tokens,
        messages=[{"role": "user", "content": question.text}],
    )
    for part in parts:
        delta = part.choices[0].delta.content if part.choices else None
        if delta and first is None:
            first = time.perf_counter() - started
        text += delta or ""
        if part.choices and part.choices[0].finish_reason:
            final = part
    rag = (final.model_extra or {}).get("rag") if final is not None else None
    if final is None or final.choices[0].finish_reason != "stop" or not rag:
        raise RuntimeError("stream ended without its final chunk")
    if not text.strip() or not rag.get("answer"):
        raise RuntimeError("empty answer")
    sources = rag.get("sources") or []
    return first, bool(sources) and sources[0]["source"] == question.source


def client_loop(
    number: int,
    url: str,
    mode: str,
    questions: list[Question],
    deadline: float,
    max_tokens: int,
    samples: list[Sample],
) -> None:
    from openai import OpenAI

    http = httpx.Client(timeout=TIMEOUT_S)
    chat = OpenAI(base_url=f"{url}/v1", api_key="unused-on-loopback", max_retries=0,
                  timeout=TIMEOUT_S)  # fmt: skip
    turn = number * 5  # clients start at different questions
    while time.monotonic() < deadline:
        question = questions[turn % len(questions)]
        turn += 1
        started = time.perf_counter()
        first, right, error = None, False, None
        try:
            if mode == "evidence":
                first, right = ask_evidence(http, url, question)
            else:
                first, right = ask_streamed(chat, question, max_tokens, started)
        except Exception as exc:  # counted, never fatal: an error is a result here
            error = f"{type(exc).__name__}: {str(exc)[:200]}"
        samples.append(Sample(number, time.perf_counter() - started, first, error, right))
    http.close()
    chat.close()


def load_run(
    urls: list[str], mode: str, clients: int, seconds: float, max_tokens: int
) -> dict[str, Any]:
    _, questions = corpus()
    samples: list[Sample] = []
    deadline = time.monotonic() + seconds
    started = time.perf_counter()
    threads = [
        threading.Thread(
            target=client_loop,
            args=(n, urls[n % len(urls)], mode, questions, deadline, max_tokens, samples),
        )
        for n in range(clients)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    good = [s for s in samples if s.error is None]
    errors = [s.error for s in samples if s.error is not None]
    per_client = [sum(1 for s in good if s.client == n) for n in range(clients)]
    firsts = [s.first_token_s for s in good if s.first_token_s is not None]
    return {
        "mode": mode,
        "clients": clients,
        "instances": len(urls),
        "wall_s": round(wall, 2),
        "answers": len(good),
        "errors": len(errors),
        "error_examples": sorted(set(errors))[:5],
        "latency": latency_summary([s.seconds for s in good]) if good else None,
        "requests_per_s": round(len(good) / wall, 3),
        "first_token": latency_summary(firsts) if firsts else None,
        "per_client_answers": per_client,
        "fairness_min_max": [min(per_client), max(per_client)],
        "right_first_source": round(sum(s.right_source for s in good) / len(good), 3)
        if good
        else None,
    }


def warm_up(urls: list[str], max_tokens: int) -> None:
    """Every instance loads its models (and answers once) before the clocks start."""
    from openai import OpenAI

    _, questions = corpus()
    for url in urls:
        with httpx.Client(timeout=TIMEOUT_S) as http:
            ask_evidence(http, url, questions[0])
        chat = OpenAI(base_url=f"{url}/v1", api_key="unused", max_retries=0, timeout=TIMEOUT_S)
        ask_streamed(chat, questions[1], max_tokens, time.perf_counter())


def visibility(a: str, b: str, probes: int, give_up_s: float = 30.0) -> dict[str, Any]:
    """Seconds from an upload returning on A to B quoting the new document (see above), with
    how many questions it took and how long the last one itself took (the floor of the
    figure: a first question that already sees the document gives its own duration)."""
    seen: list[float | None] = []
    asks: list[int] = []
    last_ask: list[float] = []
    with httpx.Client(timeout=TIMEOUT_S) as http:
        for _ in range(probes):
            code = secrets.token_hex(3).upper()
            name = f"signal-station-{code.lower()}.md"
            text = (
                f"# Signal station {code}\n\nSignal station {code} stands on the western "
                f"breakwater. The call sign of signal station {code} is Tern {code}.\n"
            )
            question = {"question": f"What is the call sign of signal station {code}?",
                        "mode": "evidence"}  # fmt: skip
            upload(a, [(name, text)])
            uploaded = time.perf_counter()
            found, count, took = None, 0, 0.0
            while time.perf_counter() - uploaded < give_up_s:
                asked = time.perf_counter()
                response = http.post(f"{b}/ask", json=question)
                took, count = time.perf_counter() - asked, count + 1
                evidence = response.json().get("evidence", []) if response.is_success else []
                if any(e["source"] == name for e in evidence):
                    found = time.perf_counter() - uploaded
                    break
                time.sleep(0.05)
            seen.append(None if found is None else round(found, 3))
            asks.append(count)
            last_ask.append(round(took, 3))
            http.delete(f"{a}/documents/{name}").raise_for_status()
    times = [s for s in seen if s is not None]
    return {
        "probes_s": seen,
        "asks": asks,
        "last_ask_s": last_ask,
        "not_seen_within_s": give_up_s if len(times) < len(seen) else None,
        "median_s": round(statistics.median(times), 3) if times else None,
        "max_s": max(times) if times else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=120.0, help="per run")
    parser.add_argument("--setups", default="single,shared", help="single, shared or both")
    parser.add_argument("--modes", default="evidence,both", help="evidence, both, or both")
    parser.add_argument("--max-tokens", type=int, default=64, help="per generated answer")
    parser.add_argument("--probes", type=int, default=5, help="visibility uploads (shared)")
    parser.add_argument("--label", default="", help="tag for the result file")
    parser.add_argument("--quick", action="store_true", help="4 clients, 15 s a run, 3 probes")
    args = parser.parse_args()
    if args.quick:
        args.clients, args.seconds, args.probes = 4, 15.0, 3
    setups = [s for s in args.setups.split(",") if s]
    modes = [m for m in args.modes.split(",") if m]
    unknown = [s for s in setups if s not in SETUPS] + [
        m for m in modes if m not in ("evidence", "both")
    ]
    if unknown:
        raise SystemExit(f"unknown setup or mode: {', '.join(unknown)}")

    documents, _ = corpus()
    results: dict[str, Any] = {}
    rows = []
    for setup in setups:
        with tempfile.TemporaryDirectory(prefix=f"api-load-{setup}-") as tmp:
            folder = Path(tmp)
            with SETUPS[setup](folder) as urls:
                upload(urls[0], documents)
                warm_up(urls, args.max_tokens)
                result: dict[str, Any] = {"instances": urls, "runs": {}}
                if len(urls) > 1:
                    result["visibility"] = visibility(urls[0], urls[1], args.probes)
                    print(f"{setup}: visibility {result['visibility']}")
                for mode in modes:
                    run = load_run(urls, mode, args.clients, args.seconds, args.max_tokens)
                    result["runs"][mode] = run
                    latency, first = run["latency"] or {}, run["first_token"] or {}
                    rows.append(
                        {
                            "setup": setup,
                            "mode": mode,
                            "answers": run["answers"],
                            "errors": run["errors"],
                            "req/s": run["requests_per_s"],
                            "p50 s": round(latency.get("p50_ms", 0) / 1000, 2),
                            "p95 s": round(latency.get("p95_ms", 0) / 1000, 2),
                            "first token p50 s": round(first["p50_ms"] / 1000, 2) if first else "-",
                            "first token p95 s": round(first["p95_ms"] / 1000, 2) if first else "-",
                            "per client min/max": "/".join(map(str, run["fairness_min_max"])),
                        }
                    )
                    print(f"{setup} {mode}: {rows[-1]}")
            results[setup] = result
    print()
    print_table(rows)
    for setup, result in results.items():
        if "visibility" in result:
            seen = result["visibility"]
            print(f"\nvisibility ({setup}): median {seen['median_s']} s, max {seen['max_s']} s; "
                  f"per probe {seen['probes_s']} s, questions {seen['asks']}, the last "
                  f"one's own time {seen['last_ask_s']} s")  # fmt: skip
    write_results(
        f"api-load{'-' + args.label if args.label else ''}",
        {"args": vars(args), "table": rows, "setups": results},
    )


if __name__ == "__main__":
    main()
