"""The report's charts: score distributions and the concepts the class missed most, as inline SVG.

Matplotlib is imported inside the chart functions so `grader --help` stays fast."""

from __future__ import annotations

import io
import re
from dataclasses import dataclass

from markupsafe import Markup

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


def _svg(figure, chart_id: str) -> Markup:
    """A matplotlib figure as inline <svg> markup (text kept as text: smaller and crisp).
    `chart_id` (letters, digits, '-') prefixes every id inside, so charts on one page never clash."""
    import matplotlib
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(figure)  # Agg canvas: never a GUI backend; savefig switches to SVG for the output
    buffer = io.StringIO()
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": chart_id}):
        figure.savefig(buffer, format="svg", metadata={"Date": None}, bbox_inches="tight")
    text = buffer.getvalue()
    # Matplotlib escapes the text it writes; we drop the XML prolog, doctype and RDF metadata.
    text = re.sub(r"<metadata>.*?</metadata>\s*", "", text[text.index("<svg"):], flags=re.S)
    text = re.sub(r'\bid="([^"]+)"', rf'id="{chart_id}-\1"', text)
    text = re.sub(r"url\(#([^)]+)\)", rf"url(#{chart_id}-\1)", text)
    text = re.sub(r'href="#([^"]+)"', rf'href="#{chart_id}-\1"', text)
    return Markup(text)


def _chart_style():
    import matplotlib

    return matplotlib.rc_context({
        "font.family": "sans-serif",
        "font.sans-serif": ["DejaVu Sans", "Arial", "Helvetica"],
        "font.size": 10,
        "text.parse_math": False,   # a '$' in a label is text, not mathtext
        "axes.spines.top": False,
        "axes.spines.right": False,
        "axes.edgecolor": "#90a4ae",
        "axes.labelcolor": "#37474f",
        "xtick.color": "#546e7a",
        "ytick.color": "#546e7a",
        "axes.titlesize": 11,
        "axes.titleweight": "bold",
        "axes.titlecolor": "#263238",
    })


def distribution_chart(question_id: str, scores: list[float], max_score: float, step: float,
                       ungraded: int, chart_id: str) -> Markup:
    """Bar chart of how many students got each score (one bar per step of the scale)."""
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    n_steps = int(round(max_score / step))
    if n_steps > 20:  # a fine scale: group into 10 bins so the bars stay readable
        step = max_score / 10
        n_steps = 10
    values = [round(i * step, 6) for i in range(n_steps + 1)]
    counts = [0] * len(values)
    for score in scores:
        counts[min(int(round(score / step)), n_steps)] += 1
    with _chart_style():
        figure = Figure(figsize=(4.2, 2.4))
        axes = figure.add_subplot()
        colours = [_band_colour(v / max_score if max_score else 0) for v in values]
        axes.bar(values, counts, width=step * 0.8, color=colours)
        axes.set_xticks(values if len(values) <= 11 else values[::2])
        axes.set_xticklabels([f"{v:g}" for v in (values if len(values) <= 11 else values[::2])])
        axes.yaxis.set_major_locator(MaxNLocator(integer=True))
        axes.set_xlabel(f"score (of {max_score:g})")
        axes.set_ylabel("students")
        note = f", {ungraded} not graded" if ungraded else ""
        axes.set_title(f"{question_id}: {len(scores)} graded{note}", loc="left")
        axes.grid(axis="y", color="#eceff1")
        axes.set_axisbelow(True)
        return _svg(figure, chart_id)


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
    """Stacked horizontal bars: share of graded answers that covered, echoed, denied or missed each concept."""
    from matplotlib.figure import Figure
    from matplotlib.ticker import PercentFormatter

    shown = coverage[:CONCEPT_CHART_LIMIT][::-1]  # barh draws bottom-up: most missed at the top
    labels = [clip(f"{c.question_id} · {c.label}", 44) for c in shown]
    with _chart_style():
        figure = Figure(figsize=(8.4, 0.42 * len(shown) + 1.3))
        axes = figure.add_subplot()
        left = [0.0] * len(shown)
        names = {"missing": "missing", "negated": "denied", "echo": "only restates the question", "found": "covered"}
        for status in ("missing", "negated", "echo", "found"):
            shares = [c.counts.get(status, 0) / c.total for c in shown]
            if any(shares):
                axes.barh(labels, shares, left=left, color=CONCEPT_COLOURS[status], label=names[status], height=0.7)
                left = [a + b for a, b in zip(left, shares)]
        for y, c in enumerate(shown):
            axes.text(1.01, y, f"{c.missed_share:.0%} missed", va="center", fontsize=9, color="#37474f")
        axes.set_xlim(0, 1)
        axes.xaxis.set_major_formatter(PercentFormatter(1.0))
        axes.set_xlabel("share of graded answers")
        axes.legend(loc="lower left", bbox_to_anchor=(0.0, 1.0), ncols=4, frameon=False, fontsize=9,
                    handlelength=1.2, columnspacing=1.2, borderaxespad=0.2)
        axes.tick_params(axis="y", length=0)
        return _svg(figure, "chart-concepts")
