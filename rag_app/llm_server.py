"""`python -m rag_app.llm_server ARGS`: llama-cpp-python's OpenAI-compatible server
(`python -m llama_cpp.server ARGS`, same arguments), with the app's AMX workaround.

On Xeons with AMX, llama.cpp's AMX kernels crash on the first generation (seen here with the
bundled model: the server answers /v1/models, then dies on the first chat completion). The app
loads its in-process model without llama.cpp's extra buffer types there; the server loads
models its own way, so this launcher applies the same switch for its whole life.
"""

from __future__ import annotations

import contextlib
import runpy

from rag_app.llm import _without_extra_buffer_types, cpu_has_amx


def main() -> None:
    guard = _without_extra_buffer_types() if cpu_has_amx() else contextlib.nullcontext()
    with guard:
        runpy.run_module("llama_cpp.server", run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main()
