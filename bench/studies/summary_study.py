"""Extractive summaries (``rag_app.answering.overview``) on real course notes: time, coverage of
the section's outline, and whether every quoted unit is verbatim.

For every numbered top-level section of the ingested documents ("1. Tema 1", "3. Gestión de
Memoria"...) and every second-level one ("2.3. Políticas de planificación"), it asks "Resume
el apartado N" through the service (route forced to summary, no model), and measures:

- seconds per summary (the models loaded and warm, as in the app);
- headings: the sub-section headings under the scope, the share quoted with a unit, and the
  share named at all (quoted, or in the "also covered" line);
- list items: of the scope's list items, the share inside a quoted unit;
- verbatim: every quoted unit's text found in the stored chunks (whitespace collapsed).

    .venv/bin/rag --data-dir /tmp/cn ingest ../shared/data/course-notes/{so,fbd,pdoo}.pdf
    .venv/bin/python -m bench.studies.summary_study --data-dir /tmp/cn [--out FILE]
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from langchain_core.documents import Document

from ingest.sections import SEPARATOR
from rag_app.answering.overview import _number_of
from rag_app.service import RagService
from rag_app.settings import load_settings
from rag_app.text.units import units


def sections(chunks: Sequence[Document]) -> list[str]:
    """The numbers of the documents' numbered sections, first and second level, once each."""
    numbers: dict[str, None] = {}
    for chunk in chunks:
        for segment in str(chunk.metadata.get("section", "")).split(SEPARATOR):
            number = _number_of(segment)
            if number and number.count(".") <= 1 and not segment.lower().startswith("índice"):
                numbers[number] = None
    return sorted(numbers, key=lambda n: [int(p) for p in n.split(".")])


def flat(text: str) -> str:
    return " ".join(text.split())


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    settings = load_settings()
    settings = settings.model_copy(update={"data_dir": args.data_dir})
    service = RagService(settings)
    chunks = list(service.store.all_chunks())  # read once: the verbatim check and list items
    stored = "\n".join(flat(c.page_content) for c in chunks)
    service.ask("Resume el apartado 1", mode="evidence", route="summary")  # models load
    rows: list[dict[str, Any]] = []
    for number in sections(chunks):
        started = time.perf_counter()
        answer = service.ask(f"Resume el apartado {number}", mode="evidence", route="summary")
        seconds = time.perf_counter() - started
        route = answer.trace.route or {}
        quoted = " ".join(flat(e.text) for e in answer.evidence)
        verbatim = all(flat(e.text.splitlines()[0]) in stored for e in answer.evidence)
        also = route.get("also") or []
        headings = int(route.get("headings") or 0)
        items = _scope_items(chunks, answer)
        rows.append(
            {
                "section": number,
                "seconds": round(seconds, 3),
                "scope": route.get("scope"),
                "chunks": route.get("chunks"),
                "headings": headings,
                "headings_quoted": route.get("headings_quoted"),
                "headings_named": (int(route.get("headings_quoted") or 0) + len(also)),
                "list_items": len(items),
                "list_items_quoted": sum(flat(i) in quoted for i in items),
                "units": len(answer.evidence),
                "verbatim": verbatim,
            }
        )
        print(json.dumps(rows[-1], ensure_ascii=False), flush=True)
    found = [r for r in rows if r["units"]]
    summary = {
        "sections": len(rows),
        "answered": len(found),
        "seconds_median": round(statistics.median(r["seconds"] for r in found), 3),
        "seconds_max": round(max(r["seconds"] for r in found), 3),
        "headings_quoted_share": _share(found, "headings_quoted", "headings"),
        "headings_named_share": _share(found, "headings_named", "headings"),
        "list_items_quoted_share": _share(found, "list_items_quoted", "list_items"),
        "verbatim_share": round(sum(r["verbatim"] for r in found) / len(found), 3),
    }
    print(json.dumps(summary, indent=1))
    if args.out:
        args.out.write_text(json.dumps({"summary": summary, "rows": rows}, indent=1) + "\n")


def _share(rows: Sequence[dict[str, Any]], part: str, whole: str) -> float:
    total = sum(int(r[whole]) for r in rows)
    return round(sum(int(r[part]) for r in rows) / total, 3) if total else 1.0


def _scope_items(chunks: Sequence[Document], answer: Any) -> list[str]:
    """The list items of the summary's scope (the chunks of its run, read again)."""
    route = answer.trace.route or {}
    match = re.match(r"section (\S+)", str(route.get("scope", "")))
    if not match:
        return []
    from rag_app.answering.overview import _in_numbered, _segments

    items: list[str] = []
    for chunk in chunks:
        if any(_in_numbered(s, match.group(1)) for s in _segments(chunk)):
            items += [u.text for u in units(chunk.page_content) if u.kind == "item"]
    return list(dict.fromkeys(items))


if __name__ == "__main__":
    main()
