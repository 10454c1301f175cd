"""`python -m rag_app.models.llm_server ARGS`: llama-cpp-python's OpenAI-compatible server
(`python -m llama_cpp.server ARGS`, same arguments), with the app's AMX workaround.

On Xeons with AMX, llama.cpp's AMX kernels crash on the first generation (seen here with the
bundled model: the server answers /v1/models, then dies on the first chat completion). The app
loads its in-process model without llama.cpp's extra buffer types there; the server loads
models its own way, so this launcher applies the same switch for its whole life.

It also turns off llama_cpp.server's ``interrupt_requests`` (on by default there): with it on, a
request that arrives while another is being answered cuts the first one's stream off (it ends
early without a finish reason, or its connection closes mid-answer). One app instance sends
one request at a time, but several instances (or the UI and `rag serve`) sharing the server
do not. Pass ``--interrupt_requests true`` to have it back.
"""

from __future__ import annotations

import contextlib
import os
import runpy
import sys

from rag_app.models.llm import cpu_has_amx, without_extra_buffer_types

# llama_cpp.server's settings this launcher gives other defaults (a flag given wins).
DEFAULTS = {"--interrupt_requests": "false"}


def arguments(given: list[str]) -> list[str]:
    """The command line with DEFAULTS added for the flags neither it nor the environment
    (llama_cpp.server reads e.g. INTERRUPT_REQUESTS) sets."""
    named = {arg.split("=", 1)[0] for arg in given if arg.startswith("--")}
    added = [
        part
        for flag, value in DEFAULTS.items()
        if flag not in named and flag.removeprefix("--").upper() not in os.environ
        for part in (flag, value)
    ]
    return [*given, *added]


def main() -> None:
    sys.argv[1:] = arguments(sys.argv[1:])
    guard = without_extra_buffer_types() if cpu_has_amx() else contextlib.nullcontext()
    with guard:
        runpy.run_module("llama_cpp.server", run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main()
