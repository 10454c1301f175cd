"""One progress display for long work (ingestion, benchmarks): a live bar on a terminal, a
plain line at every tenth of the way otherwise (logs, CI), nothing when disabled."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

if TYPE_CHECKING:  # importing the pipeline loads chromadb: not for `rag --help`
    from ingest.pipeline import ProgressFn


@contextmanager
def progress_display(
    console: Console,
    labels: dict[str, str],
    enabled: bool = True,
    task_key: Callable[[str, str], str] = lambda stage, name: stage,
) -> Iterator[ProgressFn]:
    """Yields ``progress(stage, done, total, name)``; ``task_key`` decides which calls share a
    bar (by default one bar per stage)."""
    columns = (
        TextColumn("{task.description:<9}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.fields[name]}", markup=False),
    )
    live = enabled and console.is_terminal
    with Progress(*columns, console=console, transient=True, disable=not live) as bar:
        tasks: dict[str, Any] = {}
        printed: dict[str, int] = {}

        def progress(stage: str, done: int, total: int, name: str) -> None:
            key = task_key(stage, name)
            label = labels.get(stage, stage)
            if live:
                if key not in tasks:
                    tasks[key] = bar.add_task(label, total=total, name=name)
                bar.update(tasks[key], completed=done, total=total, name=name)
            elif enabled and total:
                tenth = done * 10 // total
                if tenth > printed.get(key, 0):
                    printed[key] = tenth
                    console.print(f"{label} {done}/{total} ({tenth * 10}%) {name}", markup=False)

        yield progress
