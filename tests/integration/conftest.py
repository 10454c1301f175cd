"""tests/integration: every test here is ``slow`` (the folder is the tier; `make test-fast` runs
tests/unit only, and ``-m "not slow"`` still leaves these out)."""

from __future__ import annotations

from pathlib import Path

import pytest

HERE = Path(__file__).parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # A conftest's hook sees every collected item, not only its folder's: mark by path.
    for item in items:
        if HERE in item.path.parents:
            item.add_marker(pytest.mark.slow)
