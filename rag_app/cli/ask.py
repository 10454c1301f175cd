"""`rag ask`: one question, answered with its evidence and sources."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from rag_app.answering.fallback import Fallback
from rag_app.answering.injection import describe
from rag_app.answering.routes import AUTO, LOOKUP, ROUTES
from rag_app.cli.console import out
from rag_app.cli.context import (
    place,
    service_of,
)
from rag_app.retrieval.strategies import STRATEGIES

ROUTE_CHOICES = (AUTO, *ROUTES)
FALLBACK_NOTES = {
    Fallback.LANGUAGE: "the model answered in another language than the question",
    Fallback.UNSUPPORTED: "nothing the model wrote is in the sources",
    Fallback.UNANSWERED: "the model did not state the number, date or name the evidence gives",
}


def ask(
    question: Annotated[str, typer.Argument(help="Your question, in any language.")],
    k: Annotated[int | None, typer.Option("--k", min=1, max=50, help="Passages to use.")] = None,
    strategy: Annotated[
        str | None,
        typer.Option(help=f"Retrieval strategy: {', '.join(STRATEGIES)} (default from settings)."),
    ] = None,
    mode: Annotated[
        str | None,
        typer.Option(
            help="evidence (quotes only, no LLM), generate, or both (default from settings)."
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    doc: Annotated[
        list[str] | None,
        typer.Option(
            "--doc",
            help="Only this document (its name as `rag docs` lists it); repeat for several.",
        ),
    ] = None,
    route: Annotated[
        str | None,
        typer.Option(
            help=f"How to answer: {', '.join(ROUTE_CHOICES)} (default from settings: auto, the "
            "router reads the question)."
        ),
    ] = None,
) -> None:
    """Answer a question from the ingested documents: evidence quoted first, then the model's
    wording checked against the sources. Asked for a summary, a comparison or every item of
    a kind, it quotes the documents' own units for it (see --route)."""
    stream = service_of().stream(
        question, k, strategy=strategy, mode=mode, documents=doc or (), route=route
    )
    if as_json:
        out.print_json(data=stream.consume().to_dict())
        return
    routed = stream.trace.route or {}
    if routed.get("kind", LOOKUP) != LOOKUP:
        out.print(f"Route: {routed['kind']} ({routed.get('reason', '')})", style="bold")
        if stream.mode == "evidence":  # the quoted units, under their headings
            for text in stream:
                out.print(text, markup=False)
            answer = stream.consume()
            if answer.note:
                out.print(f"note: {answer.note}", markup=False)
            _print_sources(answer)
            return
        out.print(str(routed.get("title", "")), markup=False)  # then as any answer
    if stream.evidence:
        out.print(
            "Evidence (it may not answer your question: the closest the documents come):"
            if stream.uncertain
            else "Evidence (quoted from the sources):",
            style="bold",
        )
        for e in stream.evidence:
            quote = "\n      ".join(e.text.splitlines())  # a list: its lead-in, then its items
            out.print(
                f"  [{e.number}] {place(e.source, e.location)}: \u201c{quote}\u201d", markup=False
            )
        if stream.mode != "evidence" and not stream.uncertain:
            out.print("\nAnswer (the model's wording, checked against the sources):", style="bold")
    if (stream.mode != "evidence" and not stream.uncertain) or not stream.evidence:
        for text in stream:
            out.file.write(text)
            out.file.flush()
        out.print()
    answer = stream.consume()
    if answer.unsupported and answer.generated not in (None, answer.answer):  # dropped
        out.print(
            f"note: {len(answer.unsupported)} sentence(s) of the model's answer were left out: "
            "not found in the sources",
            markup=False,
        )
    else:
        for sentence in answer.unsupported:
            out.print(f"  ! not found in the sources: {sentence}", markup=False)
    if answer.fallback in FALLBACK_NOTES:
        out.print(
            f"note: {FALLBACK_NOTES[answer.fallback]}; the evidence above is the answer.",
            markup=False,
        )
    if answer.note:
        out.print(f"note: {answer.note}", markup=False)
    _print_sources(answer)


def _print_sources(answer: Any) -> None:
    if not answer.sources:
        return
    cited = set(answer.cited)
    out.print("\nSources (* = the answer draws on it):", style="bold")
    for s in answer.sources:
        snippet = " ".join(s.text.split())
        snippet = snippet[:160] + ("\u2026" if len(snippet) > 160 else "")
        mark = "*" if s.number in cited else " "
        line = f"{mark}[{s.number}] {place(s.source, s.location)} (score {s.score:.2f})"
        out.print(line, markup=False)
        out.print(f"    {snippet}", markup=False, style="dim")
        if s.flags:
            out.print(f"    ! flagged: {describe(list(s.flags))}", markup=False)
