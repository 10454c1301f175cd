"""What the app's streaming path adds per token, apart from llama.cpp itself.

    .venv/bin/python -m bench.perf.stream_overhead            # 300 replays, 3 rounds
    .venv/bin/python -m bench.perf.stream_overhead --quick    # 50 replays, 2 rounds

Tokens/s through `rag ask` vs raw llama-cpp-python is hard to resolve on a loaded machine:
decoding is ~18 ms a token and a preemption swamps the difference. So the stream chunks of one
real completion (bundled model, a real RAG prompt) are recorded once, then replayed instantly
(1) by a plain loop over them, as raw llama-cpp-python's caller would, and (2) through the
app's path: our LangChain ``ChatLlamaCpp.stream`` (callbacks, message chunks) and the same
string conversion ``RagService.stream`` does. The difference per token, set against the
decoding time per token measured in the same run, bounds the tokens/s ratio app/raw.
"""

from __future__ import annotations

import argparse
import statistics
import time
from typing import Any

from bench.lib import ratio, timed, write_results
from rag_app.answering import prompts
from rag_app.models import loading as models
from rag_app.models.llm import ChatLlamaCpp
from rag_app.settings import LLMSettings

PASSAGE = (
    "The Lumora Observatory was founded in 1887 by the astronomer Elena Vasquez in the "
    "mountain town of Brindlemoor. Its main telescope is a reflector whose mirror is 2.4 "
    "metres wide; the mirror weighs twelve tonnes and was cast in Glasgow. "
)


class Replay:
    """Stands in for ``llama_cpp.Llama``: returns recorded stream parts at once."""

    def __init__(self, parts: list[dict[str, Any]]) -> None:
        self.parts = parts

    def create_chat_completion(self, **_: Any) -> Any:
        return iter(self.parts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replays", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    if args.quick:
        args.replays, args.rounds = 50, 2

    from langchain_core.documents import Document

    chat = models.build_chat_model(LLMSettings(temperature=0.0))
    assert isinstance(chat, ChatLlamaCpp), "the raw comparison needs the bundled llama.cpp model"
    messages = prompts.answer_messages(
        "Describe the observatory and its telescope in detail.",
        [Document(PASSAGE * 2, metadata={"source": "a.pdf", "page": 1})],
        "en",
    )
    # ChatLlamaCpp has no public name for the request it sends (reported: bench/perf only).
    request = chat._request(messages, prompts.STOP, max_tokens=128)
    started = time.perf_counter()
    parts = list(chat.llama.create_chat_completion(stream=True, **request))
    real_s = time.perf_counter() - started
    tokens = sum(1 for p in parts if p["choices"][0].get("delta", {}).get("content"))
    replay = ChatLlamaCpp(llama=Replay(parts))

    def raw() -> int:
        return sum(
            1
            for p in Replay(parts).create_chat_completion()
            if p["choices"][0]["delta"].get("content")
        )

    def app() -> int:
        return sum(1 for c in replay.stream(messages, stop=prompts.STOP) if str(c.content))

    rows = []
    for _ in range(args.rounds):
        raw_s, _ = timed(lambda: [raw() for _ in range(args.replays)])
        app_s, _ = timed(lambda: [app() for _ in range(args.replays)])
        rows.append(
            {
                "raw_us_per_token": raw_s / args.replays / tokens * 1e6,
                "app_us_per_token": app_s / args.replays / tokens * 1e6,
            }
        )
    app_us = statistics.median(r["app_us_per_token"] for r in rows)
    raw_us = statistics.median(r["raw_us_per_token"] for r in rows)
    decode_ms = real_s / max(tokens, 1) * 1000  # includes prefill: an upper bound per token
    quiet_ms = 1000 / 55  # ~55 tokens/s decoding on a quiet machine (docs/BENCHMARKS.md, 3.)
    bound = {
        "added_us_per_token": round(app_us - raw_us, 1),
        "this_run_ms_per_token": round(decode_ms, 2),
        "ratio_bound_this_run": ratio(decode_ms, decode_ms + (app_us - raw_us) / 1000),
        "ratio_bound_at_55_tokens_per_s": ratio(quiet_ms, quiet_ms + (app_us - raw_us) / 1000),
    }
    print(f"{tokens} tokens; per token: raw loop {raw_us:.1f} us, app path {app_us:.1f} us")
    print(bound)
    write_results(
        "stream-overhead", {"args": vars(args), "tokens": tokens, "rounds": rows, **bound}
    )


if __name__ == "__main__":
    main()
