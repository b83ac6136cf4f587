"""The report's charts: score distributions and the concepts the class missed most, as inline SVG.

Drawn here as a few rects, lines and text elements rather than with a plotting library: the two
chart kinds are simple, and importing and running matplotlib took half a second of every run (a
quarter of grading a class of 30). Every text is escaped; sizes are in the viewBox's units and the
page scales the charts to its width."""

from __future__ import annotations

import math
from dataclasses import dataclass

from markupsafe import Markup, escape

from ..grading import GradedAnswer
from ..rubric import Rubric

# Score bands: colour for scores in the table, the charts and the detail cards.
BANDS = (  # (lowest share of the marks, css class, chart colour)
    (0.8, "high", "#388e3c"),
    (0.5, "mid", "#f2b01e"),
    (0.2, "low", "#ef7d22"),
    (0.0, "none", "#d84343"),
)
CONCEPT_COLOURS = {"found": "#388e3c", "echo": "#b0bec5", "negated": "#8e24aa", "missing": "#ef9a9a"}
CONCEPT_CHART_LIMIT = 12        # concepts in the coverage chart (most missed first)


def band(score: float | None, max_score: float) -> str:
    """CSS class of a score: high, mid, low, none, or ungraded."""
    if score is None:
        return "ungraded"
    share = score / max_score if max_score else 0.0
    return next(name for lowest, name, _ in BANDS if share >= lowest)


def _band_colour(share: float) -> str:
    return next(colour for lowest, _, colour in BANDS if share >= lowest)


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


FONT = "font-family=\"DejaVu Sans, Arial, Helvetica, sans-serif\""
AXIS, LABEL, TICK, GRID, TITLE = "#90a4ae", "#37474f", "#546e7a", "#eceff1", "#263238"


def _text(x: float, y: float, text: str, size: float = 10, colour: str = TICK, anchor: str = "middle",
          weight: str = "normal") -> str:
    return (f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size:g}" fill="{colour}" text-anchor="{anchor}" '
            f'font-weight="{weight}">{escape(text)}</text>')


def _svg(width: float, height: float, parts: list[str], label: str) -> Markup:
    return Markup(f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width:.0f} {height:.0f}" role="img" '
                  f'aria-label="{escape(label)}" {FONT}>' + "".join(parts) + "</svg>")


def _integer_ticks(top: int, most: int = 6) -> list[int]:
    """Whole-number ticks from 0 to at least `top` (and at least 1), no more than `most` + 1 of them,
    on a step of 1, 2 or 5 times a power of ten."""
    step = 1
    while math.ceil(top / step) > most:
        step = step * 5 // 2 if str(step)[0] == "2" else step * 2   # 1, 2, 5, 10, 20, 50, ...
    return list(range(0, max(1, math.ceil(top / step)) * step + 1, step))


def distribution_chart(question_id: str, scores: list[float], max_score: float, step: float,
                       ungraded: int, chart_id: str) -> Markup:
    """Bar chart of how many students got each score (one bar per step of the scale). `chart_id`
    names the chart for screen readers' label (the SVG holds no ids that could clash)."""
    n_steps = int(round(max_score / step))
    if n_steps > 20:  # a fine scale: group into 10 bins so the bars stay readable
        step = max_score / 10
        n_steps = 10
    values = [round(i * step, 6) for i in range(n_steps + 1)]
    counts = [0] * len(values)
    for score in scores:
        counts[min(int(round(score / step)), n_steps)] += 1
    width, height = 420.0, 240.0
    left, right, top, bottom = 44.0, 12.0, 30.0, 44.0
    plot_w, plot_h = width - left - right, height - top - bottom
    ticks = _integer_ticks(max(counts))
    y_max = ticks[-1] or 1
    slot = plot_w / len(values)
    parts = []
    for tick in ticks:
        y = top + plot_h * (1 - tick / y_max)
        parts.append(f'<line x1="{left:.1f}" y1="{y:.1f}" x2="{width - right:.1f}" y2="{y:.1f}" stroke="{GRID}"/>')
        parts.append(_text(left - 6, y + 3.5, str(tick), anchor="end"))
    labelled = values if len(values) <= 11 else values[::2]
    for i, (value, count) in enumerate(zip(values, counts)):
        x = left + slot * i
        bar_h = plot_h * count / y_max
        colour = _band_colour(value / max_score if max_score else 0)
        if count:
            parts.append(f'<rect x="{x + slot * 0.1:.1f}" y="{top + plot_h - bar_h:.1f}" width="{slot * 0.8:.1f}" '
                         f'height="{bar_h:.1f}" fill="{colour}"><title>{escape(f"{value:g}: {count}")}</title></rect>')
        if value in labelled:
            parts.append(_text(x + slot / 2, top + plot_h + 14, f"{value:g}"))
    parts.append(f'<line x1="{left:.1f}" y1="{top + plot_h:.1f}" x2="{width - right:.1f}" y2="{top + plot_h:.1f}" '
                 f'stroke="{AXIS}"/>')
    parts.append(f'<line x1="{left:.1f}" y1="{top:.1f}" x2="{left:.1f}" y2="{top + plot_h:.1f}" stroke="{AXIS}"/>')
    parts.append(_text(left + plot_w / 2, height - 8, f"score (of {max_score:g})", colour=LABEL))
    parts.append(f'<text x="12" y="{top + plot_h / 2:.1f}" font-size="10" fill="{LABEL}" text-anchor="middle" '
                 f'transform="rotate(-90 12 {top + plot_h / 2:.1f})">students</text>')
    note = f", {ungraded} not graded" if ungraded else ""
    title = f"{question_id}: {len(scores)} graded{note}"
    parts.append(_text(left, 16, title, size=11, colour=TITLE, anchor="start", weight="bold"))
    return _svg(width, height, parts, f"{chart_id}: {title}")


@dataclass(frozen=True)
class ConceptCoverage:
    question_id: str
    label: str
    counts: dict[str, int]   # status -> number of graded answers

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def missed_share(self) -> float:
        return 1 - self.counts.get("found", 0) / self.total if self.total else 0.0


def concept_coverage(results: list[GradedAnswer], rubric: Rubric) -> list[ConceptCoverage]:
    """Per rubric concept, how the graded answers stood on it; most missed first."""
    counts: dict[tuple[str, str], dict[str, int]] = {
        (q.id, c.label): {} for q in rubric.questions for c in q.concepts
    }
    for result in results:
        if result.score is None:
            continue
        for concept in result.concepts:
            key = (result.question_id, concept.label)
            if key in counts:
                counts[key][concept.status] = counts[key].get(concept.status, 0) + 1
    coverage = [ConceptCoverage(q, label, c) for (q, label), c in counts.items() if c]
    return sorted(coverage, key=lambda c: (-c.missed_share, c.question_id))


def coverage_chart(coverage: list[ConceptCoverage]) -> Markup:
    """Stacked horizontal bars: share of graded answers that covered, echoed, denied or missed each
    concept, most missed at the top."""
    shown = coverage[:CONCEPT_CHART_LIMIT]
    names = {"found": "covered", "echo": "only restates the question", "negated": "denied", "missing": "missing"}
    order = ("missing", "negated", "echo", "found")
    row_h, label_w, bar_w, note_w = 30.0, 300.0, 440.0, 90.0
    top, bottom = 34.0, 34.0
    width, height = label_w + bar_w + note_w, top + row_h * len(shown) + bottom
    parts = []
    used = [status for status in order if any(c.counts.get(status, 0) for c in shown)]
    x = label_w
    for status in used:   # the legend, in drawing order
        parts.append(f'<rect x="{x:.1f}" y="8" width="12" height="12" fill="{CONCEPT_COLOURS[status]}"/>')
        parts.append(_text(x + 16, 18, names[status], size=9, colour=LABEL, anchor="start"))
        x += 28 + 5.6 * len(names[status])
    for tick in (0, 25, 50, 75, 100):
        gx = label_w + bar_w * tick / 100
        parts.append(f'<line x1="{gx:.1f}" y1="{top:.1f}" x2="{gx:.1f}" y2="{height - bottom:.1f}" stroke="{GRID}"/>')
        parts.append(_text(gx, height - bottom + 14, f"{tick}%"))
    for row, c in enumerate(shown):
        y = top + row * row_h
        parts.append(_text(label_w - 8, y + row_h / 2 + 3.5, clip(f"{c.question_id} · {c.label}", 44), anchor="end",
                           colour=LABEL))
        start = 0.0
        for status in order:
            share = c.counts.get(status, 0) / c.total
            if share:
                parts.append(f'<rect x="{label_w + bar_w * start:.1f}" y="{y + row_h * 0.15:.1f}" '
                             f'width="{bar_w * share:.1f}" height="{row_h * 0.7:.1f}" fill="{CONCEPT_COLOURS[status]}">'
                             f'<title>{escape(f"{names[status]}: {share:.0%}")}</title></rect>')
                start += share
        parts.append(_text(label_w + bar_w + 6, y + row_h / 2 + 3.5, f"{c.missed_share:.0%} missed", size=9,
                           colour=LABEL, anchor="start"))
    parts.append(_text(label_w + bar_w / 2, height - 6, "share of graded answers", colour=LABEL))
    return _svg(width, height, parts, "Concepts the class missed most")
