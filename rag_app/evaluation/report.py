"""Reports: JSON (everything), Markdown (tables) and one self-contained HTML file.

Charts are hand-built inline SVG: a few rectangles and circles need no plotting library, the
file opens offline in any browser, and nothing in it points outside the file.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from html import escape
from pathlib import Path
from typing import Any, TypeVar

from rag_app.errors import RagError
from rag_app.evaluation.runner import overall, worst_first
from rag_app.evaluation.schema import EvalReport, metric_mean

# Metrics on a 0..1 scale, in chart and table order; latency columns follow in tables.
QUALITY = (
    "faithfulness",
    "answer_relevancy",
    "context_precision",
    "context_recall",
    "faithfulness_llm",
    "answer_relevancy_llm",
    "context_precision_llm",
    "context_recall_llm",
    "answer_f1",
    "answer_em",
    "semantic_similarity",
    "evidence_hit",
    "evidence_f1",
    "keyword_hit",
    "keyword_recall",
    "language_match",
    "unsupported_share",
    "hit@k",
    "mrr",
    "correct_abstention",
    "false_abstention",
)
TIMING = ("evidence_sentences", "first_token_s", "total_s", "tokens_per_s")
COLOURS = ("#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#b07aa1", "#9c755f")
WORST_SHOWN = 20
# The per-type table (``report["by_type"]``): one row per strategy and question type.
TYPE_COLUMNS = (
    "strategy", "type", "questions", "keyword_hit", "keyword_recall", "abstained", "uncertain",
)  # fmt: skip
R = TypeVar("R", bound=Mapping[str, Any])  # a report: what its renderers read


def shown_metrics(report: EvalReport) -> list[str]:
    """Metrics with at least one value in some strategy, in display order."""
    present = {
        name
        for means in report["aggregate"].values()
        for name, value in means.items()
        if isinstance(value, dict) and value["n"]
    }
    return [m for m in (*QUALITY, *TIMING) if m in present]


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def summary_rows(report: EvalReport) -> list[list[str]]:
    """[strategy, value per shown metric, judge unparseable] for tables (terminal included)."""
    names = shown_metrics(report)
    rows = []
    for strategy, means in report["aggregate"].items():
        cells = [_fmt(metric_mean(means, n)) for n in names]
        judged = f"{means['judge_unparseable']}/{means['judge_calls']}"
        rows.append([strategy, *cells, judged])
    return rows


def type_rows(report: EvalReport) -> list[list[str]]:
    """``TYPE_COLUMNS`` cells per strategy and question type; [] when no question has a type."""
    rows = []
    for strategy, types in (report.get("by_type") or {}).items():
        for kind, stats in types.items():
            means = (
                stats[n]["mean"]
                for n in ("keyword_hit", "keyword_recall", "abstained", "uncertain")
            )
            rows.append([strategy, kind, str(stats["questions"]), *map(_fmt, means)])
    return rows


def markdown(report: EvalReport) -> str:
    names = shown_metrics(report)
    lines = [
        f"# Evaluation {report['created_at']}",
        "",
        f"QA file `{report['qa_file']}`: {report['questions']} questions, mode {report['mode']}, "
        f"k={report['k']}, judge {report['judge']}. Models: "
        + ", ".join(f"{k} `{v}`" for k, v in report["models"].items()),
        "",
        "| strategy | " + " | ".join(names) + " | judge unparseable/calls |",
        "|---" * (len(names) + 2) + "|",
    ]
    lines += ["| " + " | ".join(cells) + " |" for cells in summary_rows(report)]
    by_type = type_rows(report)
    if by_type:
        lines += ["", "## Per question type", ""]
        lines += ["| " + " | ".join(TYPE_COLUMNS) + " |", "|---" * len(TYPE_COLUMNS) + "|"]
        lines += ["| " + " | ".join(_md_cell(c) for c in cells) + " |" for cells in by_type]
    lines += ["", "## How each number was computed", ""]
    lines += [f"- **{n}**: {report['methods'].get(n, '')}" for n in names]
    lines += ["", f"## Worst questions (lowest overall, first {WORST_SHOWN})", ""]
    lines += ["| strategy | id | question | overall | response |", "|---|---|---|---|---|"]
    for row in worst_first(report["rows"])[:WORST_SHOWN]:
        cells = [
            row["strategy"],
            row["id"],
            row["question"],
            _fmt(overall(row)),
            row["response"][:120],
        ]
        lines.append("| " + " | ".join(_md_cell(c) for c in cells) + " |")
    return "\n".join(lines) + "\n"


def _md_cell(text: str) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


def bars_svg(report: EvalReport, names: Sequence[str]) -> str:
    """Grouped bars: one group per metric, one bar per strategy, 0..1."""
    strategies = list(report["aggregate"])
    bar, gap, height, top = 14, 18, 180, 10
    group = bar * len(strategies) + gap
    width = 40 + group * len(names)
    parts = [
        f'<svg width="{width}" height="{height + 110}" '
        'role="img" aria-label="mean score per strategy and metric">',
        f'<line x1="38" y1="{top + height}" x2="{width}" y2="{top + height}" stroke="#888"/>',
    ]
    for tick in (0.0, 0.5, 1.0):
        y = top + height - tick * height
        parts.append(f'<text x="2" y="{y + 4:.0f}" font-size="10">{tick:.1f}</text>')
        parts.append(f'<line x1="38" y1="{y:.0f}" x2="{width}" y2="{y:.0f}" stroke="#eee"/>')
    for g, name in enumerate(names):
        x0 = 40 + g * group
        for s, strategy in enumerate(strategies):
            value = metric_mean(report["aggregate"][strategy], name)
            if value is None:
                continue
            h = max(0.0, min(1.0, value)) * height
            parts.append(
                f'<rect x="{x0 + s * bar}" y="{top + height - h:.1f}" width="{bar - 2}" '
                f'height="{h:.1f}" fill="{COLOURS[s % len(COLOURS)]}">'
                f"<title>{escape(strategy)} {escape(name)}: {value:.3f}</title></rect>"
            )
        label_x, label_y = x0 + group / 2 - gap / 2, top + height + 8
        parts.append(
            f'<text x="{label_x:.0f}" y="{label_y}" font-size="10" text-anchor="end" '
            f'transform="rotate(-45 {label_x:.0f} {label_y})">{escape(name)}</text>'
        )
    # The legend inside the picture, so the chart still reads when saved on its own.
    x, y = 40, top + height + 100
    for s, strategy in enumerate(strategies):
        parts.append(
            f'<rect x="{x}" y="{y - 9}" width="10" height="10" fill="{COLOURS[s % len(COLOURS)]}"/>'
            f'<text x="{x + 14}" y="{y}" font-size="11">{escape(strategy)}</text>'
        )
        x += 24 + 7 * len(strategy)
    parts.append("</svg>")
    return "".join(parts)


def strip_svg(report: EvalReport, name: str) -> str:
    """Per-question distribution of one metric: a row of dots per strategy, 0..1."""
    strategies = list(report["aggregate"])
    width, row_h, left = 520, 26, 150
    parts = [
        f'<svg width="{width + left + 20}" '
        f'height="{row_h * len(strategies) + 24}" role="img" '
        f'aria-label="{escape(name)} per question">'
    ]
    for s, strategy in enumerate(strategies):
        y = row_h * s + row_h / 2
        parts.append(f'<text x="0" y="{y + 4:.0f}" font-size="11">{escape(strategy)}</text>')
        parts.append(f'<line x1="{left}" y1="{y}" x2="{left + width}" y2="{y}" stroke="#ddd"/>')
        rows = [r for r in report["rows"] if r["strategy"] == strategy]
        for i, row in enumerate(rows):
            value = row["scores"].get(name)
            if value is None:
                continue
            jitter = ((i * 7) % 11 - 5) * 1.5  # spread equal values a little, deterministically
            x = left + max(0.0, min(1.0, value)) * width
            parts.append(
                f'<circle cx="{x:.1f}" cy="{y + jitter:.1f}" r="3.5" fill-opacity="0.55" '
                f'fill="{COLOURS[s % len(COLOURS)]}"><title>{escape(row["id"])}: '
                f"{value:.3f}</title></circle>"
            )
    axis_y = row_h * len(strategies) + 16
    for tick in (0.0, 0.5, 1.0):
        parts.append(
            f'<text x="{left + tick * width:.0f}" y="{axis_y}" font-size="10" '
            f'text-anchor="middle">{tick:.1f}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def html(report: EvalReport) -> str:
    names = shown_metrics(report)
    quality = [n for n in names if n in QUALITY]
    header = "".join(
        f'<th title="{escape(report["methods"].get(n, ""))}">{escape(n)}</th>' for n in names
    )
    body = "".join(
        "<tr>" + "".join(f"<td>{escape(c)}</td>" for c in cells) + "</tr>"
        for cells in summary_rows(report)
    )
    by_type = type_rows(report)
    type_table = (
        "<h2>Per question type</h2><table><tr>"
        + "".join(f"<th>{escape(c)}</th>" for c in TYPE_COLUMNS)
        + "</tr>"
        + "".join(
            "<tr>" + "".join(f"<td>{escape(c)}</td>" for c in cells) + "</tr>" for cells in by_type
        )
        + "</table>"
        if by_type
        else ""
    )
    methods = "".join(
        f"<li><b>{escape(n)}</b>: {escape(report['methods'].get(n, ''))}</li>" for n in names
    )
    strips = "".join(
        f"<h3>{escape(n)}</h3>{strip_svg(report, n)}"
        for n in quality
        if n not in ("correct_abstention", "false_abstention", "answer_em", "hit@k")
    )
    question_rows = "".join(
        "<tr>"
        + "".join(
            f"<td>{escape(str(c))}</td>"
            for c in (
                row["strategy"],
                row["id"],
                row["question"],
                _fmt(overall(row)),
                row["reference"] or "",
                row["response"],
            )
        )
        + "".join(f"<td>{_fmt(row['scores'].get(n))}</td>" for n in quality)
        + "</tr>"
        for row in worst_first(report["rows"])
    )
    meta = (
        f"QA file {escape(report['qa_file'])}: {report['questions']} questions · mode "
        f"{escape(report['mode'])} · k={report['k']} · judge {escape(report['judge'])} · "
        + " · ".join(f"{escape(k)}: {escape(v)}" for k, v in report["models"].items())
    )
    quality_header = "".join(f"<th>{escape(n)}</th>" for n in quality)
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>rag-app evaluation {
        escape(report["created_at"])
    }</title>
<style>body{{font-family:sans-serif;margin:2em;max-width:1200px}}table{{border-collapse:collapse;
font-size:13px}}td,th{{border:1px solid #ccc;padding:3px 6px;vertical-align:top}}
th{{background:#f4f4f4}}</style></head><body>
<h1>rag-app evaluation</h1><p>{escape(report["created_at"])} · {meta}</p>
<h2>Mean per strategy</h2><table><tr><th>strategy</th>{header}<th>judge unparseable/calls</th>
</tr>{body}</table>{type_table}
<h2>Per-strategy chart</h2>{bars_svg(report, quality)}
<p>{legend(list(report["aggregate"]))}</p>
<h2>Per-question distribution</h2>{strips}
<h2>How each number was computed</h2><ul>{methods}</ul>
<h2>Questions, worst first</h2><table><tr><th>strategy</th><th>id</th><th>question</th>
<th>overall</th><th>reference</th><th>response</th>{quality_header}</tr>{question_rows}</table>
</body></html>
"""


def legend(strategies: Sequence[str]) -> str:
    return " ".join(
        f'<span style="color:{COLOURS[i % len(COLOURS)]}">■</span> {escape(s)}'
        for i, s in enumerate(strategies)
    )


def write_files(
    report: R,
    out_dir: Path,
    name: str,
    when: datetime,
    renderers: Mapping[str, Callable[[R], str]],
    stamp: str = "%Y%m%dT%H%M%SZ",
) -> dict[str, Path]:
    """Write ``<out_dir>/<name>-<when as stamp>.json`` (the whole report) and one file more per
    renderer (extension -> text); returns the paths by extension, "json" first. Shared by
    `rag eval` and `rag bench retrieval`; a folder that cannot be written is one ``RagError``."""
    stem = f"{name}-{when.strftime(stamp)}"
    paths = {ext: out_dir / f"{stem}.{ext}" for ext in ("json", *renderers)}
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        paths["json"].write_text(json.dumps(report, indent=2, ensure_ascii=False), encoding="utf-8")
        for ext, render in renderers.items():
            paths[ext].write_text(render(report), encoding="utf-8")
    except OSError as exc:
        raise RagError(f"report folder {out_dir}: cannot be written ({exc}); pass --out") from None
    return paths


def write_reports(report: EvalReport, out_dir: Path) -> dict[str, Path]:
    """eval-<created_at>.json, .md and .html (the stamp without a trailing Z, as always)."""
    when = datetime.fromisoformat(report["created_at"])
    renderers = {"md": markdown, "html": html}
    return write_files(report, out_dir, "eval", when, renderers, stamp="%Y%m%dT%H%M%S")
