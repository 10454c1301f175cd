"""The question router (``rag_app.answering.routes.route_question``) scored on questions it was
not written from.

- labelled: ``bench/data/routes.jsonl``, questions labelled lookup / summary / comparison /
  enumeration by the rules of ``bench/data/ROUTES.md`` (hard cases on purpose), asked with the
  plausible file names of ``LABELLED_DOCUMENTS``: accuracy overall, per route and per language,
  the confusion matrix (rows: the label, columns: the router's route) and every miss.
- look-ups: every question of the XQuAD dev sets (``--xquad``, asked with no documents) and of
  the course notes' ``qa.jsonl`` (asked with so.pdf, fbd.pdf, pdoo.pdf). All are look-ups (the
  course notes' "list" questions are short lists, look-ups by the same rules): the share routed
  as lookup and every miss.

Pure: no models, no index; runs in seconds.

    .venv/bin/python -m bench.studies.route_study [--json] [--out FILE] [--xquad es,en]
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.lib import DATA, SHARED_DATA, ratio
from rag_app.answering.routes import route_question

KINDS = ("lookup", "summary", "comparison", "enumeration")
LANGUAGES = ("es", "en")
# The labelled questions name these files (and "los apuntes de SO", "tema 3"...): the library
# of a student with several subjects' notes.
LABELLED_DOCUMENTS = (
    "so.pdf",
    "fbd.pdf",
    "pdoo.pdf",
    "scd.pdf",
    "tema1.pdf",
    "tema1-v2.pdf",
    "tema2.pdf",
    "tema3.pdf",
    "tema4.pdf",
    "calculo.pdf",
    "statistics-notes.pdf",
    "biology-notes.pdf",
    "history-notes.pdf",
)
COURSE_DOCUMENTS = ("so.pdf", "fbd.pdf", "pdoo.pdf")


@dataclass(frozen=True)
class Routed:
    question: str
    language: str
    expected: str
    kind: str
    targets: tuple[str, ...]
    note: str = ""

    @property
    def hit(self) -> bool:
        return self.kind == self.expected

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "question": self.question,
            "language": self.language,
            "expected": self.expected,
            "routed": self.kind,
            "targets": list(self.targets),
        }
        if self.note:
            out["note"] = self.note
        return out


def ask(
    question: str, language: str, expected: str, documents: Sequence[str], note: str = ""
) -> Routed:
    route = route_question(question, documents)
    return Routed(question, language, expected, str(route.kind), tuple(route.targets), note)


# -- the questions --------------------------------------------------------------------------
def labelled(path: Path) -> list[dict[str, str]]:
    """The lines of routes.jsonl, checked: a question, a language and a route of the four."""
    rows = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        row = json.loads(line)
        if row.get("route") not in KINDS or row.get("language") not in LANGUAGES:
            raise ValueError(f"{path}:{number}: route or language not one of the known ones")
        if not str(row.get("question", "")).strip():
            raise ValueError(f"{path}:{number}: no question")
        rows.append(row)
    return rows


def squad_questions(path: Path) -> Iterator[str]:
    """Every question of a SQuAD-format file (data → paragraphs → qas → question)."""
    for article in json.loads(path.read_text(encoding="utf-8-sig"))["data"]:
        for paragraph in article["paragraphs"]:
            for qa in paragraph["qas"]:
                yield qa["question"].strip()


def course_questions(path: Path) -> Iterator[tuple[str, str]]:
    """The course notes' questions with their language (type "english": en, the rest: es)."""
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            row = json.loads(line)
            yield row["question"].strip(), "en" if row.get("type") == "english" else "es"


# -- scoring --------------------------------------------------------------------------------
def score_labelled(routed: Sequence[Routed]) -> dict[str, Any]:
    """Accuracy overall, per route and per language; the confusion matrix; the misses."""
    seen = [*KINDS, *sorted({r.kind for r in routed} - set(KINDS))]  # and any unknown route
    return {
        "n": len(routed),
        "accuracy": ratio(sum(r.hit for r in routed), len(routed)),
        "per_route": {
            kind: {
                "n": sum(r.expected == kind for r in routed),
                "accuracy": ratio(
                    sum(r.hit for r in routed if r.expected == kind),
                    sum(r.expected == kind for r in routed),
                ),
                # Of the questions routed here, the share that belong here.
                "precision": ratio(
                    sum(r.hit for r in routed if r.kind == kind),
                    sum(r.kind == kind for r in routed),
                ),
            }
            for kind in KINDS
        },
        "per_language": {
            language: {
                "n": sum(r.language == language for r in routed),
                "accuracy": ratio(
                    sum(r.hit for r in routed if r.language == language),
                    sum(r.language == language for r in routed),
                ),
            }
            for language in LANGUAGES
        },
        "hard_cases": {
            "n": sum(bool(r.note) for r in routed),
            "accuracy": ratio(
                sum(r.hit for r in routed if r.note), sum(bool(r.note) for r in routed)
            ),
        },
        "confusion": {
            expected: {
                kind: sum(r.expected == expected and r.kind == kind for r in routed)
                for kind in seen
            }
            for expected in KINDS
        },
        "misses": [r.as_dict() for r in routed if not r.hit],
    }


def score_lookups(routed: Sequence[Routed]) -> dict[str, Any]:
    """The share routed as lookup, the routes the others got, and the misses."""
    return {
        "n": len(routed),
        "lookup_share": ratio(sum(r.hit for r in routed), len(routed)),
        "routed": dict(Counter(r.kind for r in routed).most_common()),
        "misses": [r.as_dict() for r in routed if not r.hit],
    }


# -- report ---------------------------------------------------------------------------------
def print_labelled(result: dict[str, Any]) -> None:
    print(f"## Labelled questions (bench/data/routes.jsonl): {result['n']}")
    print(
        f"accuracy {result['accuracy']}  hard cases {result['hard_cases']['accuracy']} "
        f"(n={result['hard_cases']['n']})"
    )
    print("\n| route | n | accuracy | precision |\n|---|---|---|---|")
    for kind, row in result["per_route"].items():
        print(f"| {kind} | {row['n']} | {row['accuracy']} | {row['precision']} |")
    for language, row in result["per_language"].items():
        print(f"| ({language}) | {row['n']} | {row['accuracy']} | |")
    columns = list(next(iter(result["confusion"].values())))
    print("\nconfusion (rows: label, columns: routed)\n")
    print("| label \\ routed | " + " | ".join(columns) + " |")
    print("|" + "---|" * (len(columns) + 1))
    for expected, row in result["confusion"].items():
        print(f"| {expected} | " + " | ".join(str(row[c]) for c in columns) + " |")
    print(f"\nmisses ({len(result['misses'])}):")
    for miss in result["misses"]:
        targets = f" {miss['targets']}" if miss["targets"] else ""
        note = f"  [{miss['note']}]" if miss.get("note") else ""
        print(
            f"  {miss['expected']} → {miss['routed']}{targets} ({miss['language']}): "
            f"{miss['question']}{note}"
        )


def print_lookups(name: str, result: dict[str, Any]) -> None:
    print(
        f"\n## {name}: {result['n']} look-ups, routed as lookup {result['lookup_share']} "
        f"({result['routed']})"
    )
    for miss in result["misses"]:
        targets = f" {miss['targets']}" if miss["targets"] else ""
        print(f"  → {miss['routed']}{targets}: {miss['question']}")


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--routes", type=Path, default=DATA / "routes.jsonl")
    parser.add_argument("--data", type=Path, default=SHARED_DATA, help="the shared data folder")
    parser.add_argument(
        "--xquad",
        default="es,en",
        help="XQuAD dev sets, comma-separated (es, en; es-q.en-ctx and en-q.es-ctx repeat their "
        "questions); empty for none",
    )
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    parser.add_argument("--out", type=Path, help="also write the result as JSON to this file")
    args = parser.parse_args(argv)

    rows = labelled(args.routes)
    result: dict[str, Any] = {
        "labelled_documents": list(LABELLED_DOCUMENTS),
        "labelled": score_labelled(
            [
                ask(r["question"], r["language"], r["route"], LABELLED_DOCUMENTS, r.get("note", ""))
                for r in rows
            ]
        ),
        "lookups": {},
    }
    for name in filter(None, (s.strip() for s in args.xquad.split(","))):
        path = args.data / "xquad" / f"xquad.{name}.dev.json"
        language = name[:2]
        result["lookups"][f"xquad.{name}"] = score_lookups(
            [ask(q, language, "lookup", ()) for q in squad_questions(path)]
        )
    notes = args.data / "course-notes" / "qa.jsonl"
    result["lookups"]["course-notes"] = score_lookups(
        [ask(q, language, "lookup", COURSE_DOCUMENTS) for q, language in course_questions(notes)]
    )
    everything = list(result["lookups"].values())
    result["lookups_all"] = {
        "n": sum(r["n"] for r in everything),
        "lookup_share": ratio(
            sum(r["n"] - len(r["misses"]) for r in everything), sum(r["n"] for r in everything)
        ),
    }

    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, indent=2, ensure_ascii=False), encoding="utf-8")
    if args.json:
        json.dump(result, sys.stdout, indent=2, ensure_ascii=False)
        print()
        return
    print_labelled(result["labelled"])
    for name, scored in result["lookups"].items():
        print_lookups(name, scored)
    print(
        f"\nall look-up sets: {result['lookups_all']['n']} questions, routed as lookup "
        f"{result['lookups_all']['lookup_share']}"
    )
    if args.out:
        print(f"results: {args.out}")


if __name__ == "__main__":
    main()
