"""The teacher's outputs beside grades.csv: report.html, one feedback page per student, gradebook.csv.

- report.html: one self-contained page (inline CSS, JS and SVG charts, no network) with the review
  queue, the class summary and charts, a sortable student table and each answer with its evidence
  highlighted. Large classes are capped so the page stays small; grades.csv has everything.
- feedback/<student>.md: what each student gets back: prompt, score and feedback per question.
- gradebook.csv: one row per student, a column per question, for Canvas, Moodle or Google
  Classroom (see docs/gradebook.md).

Student ids and answers are untrusted text: the HTML template autoescapes everything, the
highlighting escapes each piece itself, and the Markdown pages escape Markdown and HTML syntax.
Matplotlib is imported inside the chart functions so `grader --help` stays fast.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import os
import re
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from statistics import mean, median
from urllib.parse import quote

import jinja2
from markupsafe import Markup, escape

from .flags import Flag
from .grading import GradedAnswer
from .rubric import Rubric
from .writers import _format_score, atomic_folder, atomic_writer, safe_file_name

REPORT_NAME = "report.html"
GRADEBOOK_NAME = "gradebook.csv"
FEEDBACK_DIR = "feedback"

# Caps that keep report.html to a few MB for any class size; grades.csv/json hold everything.
TABLE_STUDENT_LIMIT = 2000      # rows in the student table
DETAIL_STUDENT_LIMIT = 200      # students whose every answer is shown in full
REVIEW_LIMIT = 300              # answers listed (and shown in full) in the review queue
ANSWER_CHAR_LIMIT = 3000        # characters of one answer shown in the report
CONCEPT_CHART_LIMIT = 12        # concepts in the coverage chart (most missed first)

Progress = Callable[..., AbstractContextManager[Iterable]]
"""progress(items, label=...) -> context manager yielding the items (e.g. click.progressbar)."""

# Score bands: colour for scores in the table, the charts and the detail cards.
BANDS = (  # (lowest share of the marks, css class, chart colour)
    (0.8, "high", "#388e3c"),
    (0.5, "mid", "#f2b01e"),
    (0.2, "low", "#ef7d22"),
    (0.0, "none", "#d84343"),
)
CONCEPT_COLOURS = {"found": "#388e3c", "echo": "#b0bec5", "negated": "#8e24aa", "missing": "#ef9a9a"}


def band(score: float | None, max_score: float) -> str:
    """CSS class of a score: high, mid, low, none, or ungraded."""
    if score is None:
        return "ungraded"
    share = score / max_score if max_score else 0.0
    return next(name for lowest, name, _ in BANDS if share >= lowest)


def _band_colour(share: float) -> str:
    return next(colour for lowest, _, colour in BANDS if share >= lowest)


# --------------------------------------------------------------------------- data per student


@dataclass
class StudentGrades:
    """One student's answers, and the answer that counts for each rubric question."""

    student_id: str
    answers: list[GradedAnswer] = field(default_factory=list)

    def for_question(self, question_id: str) -> GradedAnswer | None:
        """The graded answer to a question if any (a duplicate copy is never graded), else the first."""
        matching = [a for a in self.answers if a.question_id == question_id]
        return next((a for a in matching if a.score is not None), matching[0] if matching else None)

    def total(self, rubric: Rubric) -> float | None:
        """Sum of the graded rubric questions; None when none is graded."""
        scores = [a.score for q in rubric.questions if (a := self.for_question(q.id)) and a.score is not None]
        return round(sum(scores), 6) if scores else None


def group_by_student(results: list[GradedAnswer]) -> list[StudentGrades]:
    """Students in the order of the results (grade() sorts them by id)."""
    students: dict[str, StudentGrades] = {}
    for result in results:
        students.setdefault(result.student_id, StudentGrades(result.student_id)).answers.append(result)
    return list(students.values())


def total_max(rubric: Rubric) -> float:
    return sum(rubric.max_score(q.id) for q in rubric.questions)


# --------------------------------------------------------------------------- gradebook.csv

# A cell starting with one of these is a formula to Excel, LibreOffice and Google Sheets.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def gradebook_header(rubric: Rubric) -> list[str]:
    """student_id, one 'q1 (5)' column per question, 'total (15)'."""
    return (["student_id"] + [f"{q.id} ({rubric.max_score(q.id):g})" for q in rubric.questions]
            + [f"total ({total_max(rubric):g})"])


def gradebook_rows(students: list[StudentGrades], rubric: Rubric) -> Iterator[list[str]]:
    for student in students:
        cells = []
        for question in rubric.questions:
            answer = student.for_question(question.id)
            cells.append(_format_score(answer.score if answer else None))
        yield [_spreadsheet_safe(student.student_id), *cells, _format_score(student.total(rubric))]


def _spreadsheet_safe(text: str) -> str:
    """Keep a hostile id such as '=HYPERLINK(...)' from running as a formula when the file is opened."""
    return "'" + text if text.startswith(_FORMULA_START) else text


def write_gradebook(students: list[StudentGrades], rubric: Rubric, path: Path) -> None:
    with atomic_writer(path, newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(gradebook_header(rubric))
        writer.writerows(gradebook_rows(students, rubric))


# --------------------------------------------------------------------------- feedback pages

# Markdown syntax that can start anywhere in a line (emphasis, code, links, raw HTML, tables,
# entities), and what only counts at the start of a line (headings, lists, quotes).
_MD_INLINE = re.compile(r"([\\`*_\[\]<>|~]|&(?=#?\w+;))")
_MD_LINE_START = re.compile(r"^(\d*)([-+=#>.)])")


@lru_cache(maxsize=65_536)   # prompts, the title and templated feedback recur on every page
def markdown_text(text: str) -> str:
    """Untrusted text as one line of literal Markdown: no markup, links, headings, lists or raw HTML."""
    line = " ".join(text.split())
    line = _MD_INLINE.sub(r"\\\1", line)
    return _MD_LINE_START.sub(r"\1\\\2", line)


def feedback_page(student: StudentGrades, rubric: Rubric) -> str:
    """The Markdown page handed back to one student."""
    lines = [f"# Feedback for {markdown_text(student.student_id)}", "", f"*{markdown_text(rubric.title)}*", ""]
    for question in rubric.questions:
        answer = student.for_question(question.id)
        lines += [f"## {markdown_text(question.id)}. {markdown_text(question.prompt)}", ""]
        if answer is None:
            lines += ["No answer was received for this question.", ""]
            continue
        if answer.score is None:
            lines.append(f"**Score: not graded yet** (out of {answer.max_score:g})")
        else:
            lines.append(f"**Score: {answer.score:g} / {answer.max_score:g}**")
        lines.append("")
        lines += [f"- {markdown_text(sentence)}" for sentence in answer.feedback]
        if answer.needs_review and answer.score is not None:
            lines.append("- Your teacher will look at this answer again before the grade is final.")
        lines.append("")
    total = student.total(rubric)
    if total is not None:
        lines += [f"**Total: {total:g} / {total_max(rubric):g}**", ""]
    return "\n".join(lines).rstrip("\n") + "\n"


def write_feedback_pages(students: list[StudentGrades], rubric: Rubric, folder: Path,
                         progress: Progress | None = None) -> dict[str, Path]:
    """Write feedback/<safe name>.md per student; returns student id -> page path. Ids that map
    to the same safe name get distinct names (writers.safe_file_name), so none overwrites another."""
    used: set[str] = set()
    pages: dict[str, Path] = {}
    with atomic_folder(folder) as fresh, _tracked(progress, students, "Writing feedback pages") as tracked:
        for student in tracked:
            name = f"{safe_file_name(student.student_id, used)}.md"
            _write_new_file(fresh / name, feedback_page(student, rubric).encode("utf-8"))
            pages[student.student_id] = folder / name
    return pages


def _write_new_file(path: Path, data: bytes) -> None:
    """Path.write_bytes with fewer system calls (no buffering layers, no fstat or seek): a class of
    30,000 students writes 30,000 pages. Same permissions (0o666 less the umask)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o666)
    try:
        view = memoryview(data)
        while view:   # os.write may write less than asked
            view = view[os.write(fd, view):]
    finally:
        os.close(fd)


def _tracked(progress: Progress | None, items: list, label: str) -> AbstractContextManager[Iterable]:
    return progress(items, label=label) if progress is not None else nullcontext(items)


# --------------------------------------------------------------------------- highlighting


def highlight(answer: str, concepts: Iterable, limit: int = ANSWER_CHAR_LIMIT) -> Markup:
    """The answer as HTML with each concept's matched phrase in <mark>. Every piece of the
    student's text is escaped; only the <mark> tags added here are markup."""
    shown = answer[:limit]
    marks = sorted(
        (max(0, c.span[0]), min(len(shown), c.span[1]), c.status, c.label)
        for c in concepts
        if c.span and c.status in ("found", "echo", "negated")
    )
    pieces: list[Markup] = []
    position = 0
    for start, end, status, label in marks:
        if start < position or start >= end:  # overlaps a phrase already marked, or was cut off
            continue
        pieces.append(escape(shown[position:start]))
        pieces.append(Markup('<mark class="{}" title="{}">{}</mark>').format(status, label, shown[start:end]))
        position = end
    pieces.append(escape(shown[position:]))
    return Markup("").join(pieces)


# --------------------------------------------------------------------------- charts


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
    labels = [_clip(f"{c.question_id} · {c.label}", 44) for c in shown]
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


# --------------------------------------------------------------------------- the report page


@dataclass(frozen=True)
class QuestionSummary:
    id: str
    prompt: str
    max_score: float
    answers: int
    graded: int
    mean: float | None
    median: float | None
    to_review: int
    chart: Markup


@dataclass(frozen=True)
class ScoreCell:
    text: str
    band: str
    sort_value: float   # -1 for ungraded, so they sort below 0


@dataclass(frozen=True)
class StudentRow:
    student_id: str
    cells: list[ScoreCell]
    total: ScoreCell
    flag_codes: list[str]
    to_review: int
    feedback_href: str
    detail_anchor: str | None


@dataclass(frozen=True)
class AnswerDetail:
    anchor: str
    student_id: str
    question_id: str
    prompt: str
    score: ScoreCell
    max_score: float
    confidence: float
    needs_review: bool
    text: Markup
    hidden_chars: int
    feedback: list[str]
    flags: list[Flag]
    found: list[str]
    missing: list[str]


@dataclass(frozen=True)
class ReviewItem:
    anchor: str
    student_id: str
    question_id: str
    score: ScoreCell
    max_score: float
    confidence: float
    reasons: list[tuple[str, str]]   # (flag code or "", why)


def _cell(score: float | None, max_score: float) -> ScoreCell:
    return ScoreCell(_format_score(score) or "–", band(score, max_score), -1.0 if score is None else score)


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _anchor(index: int) -> str:
    # Anchors are positions, never student ids: an id is untrusted text.
    return f"answer-{index}"


def build_report_context(results: list[GradedAnswer], rubric: Rubric, students: list[StudentGrades],
                         feedback_pages: dict[str, Path], out: Path) -> dict:
    """Everything the template shows, computed here so the template only lays it out."""
    index_of = {id(result): i for i, result in enumerate(results)}
    prompts = {q.id: q.prompt for q in rubric.questions}

    review = sorted((r for r in results if r.needs_review), key=lambda r: (r.confidence, r.student_id, r.question_id))
    review_shown = review[:REVIEW_LIMIT]
    detail_results = {index_of[id(r)]: r for r in review_shown}
    for student in students[:DETAIL_STUDENT_LIMIT]:
        detail_results.update((index_of[id(r)], r) for r in student.answers)

    questions = []
    for number, question in enumerate(rubric.questions, 1):
        answers = [r for r in results if r.question_id == question.id]
        scores = [r.score for r in answers if r.score is not None]
        max_score = rubric.max_score(question.id)
        questions.append(QuestionSummary(
            id=question.id, prompt=question.prompt, max_score=max_score, answers=len(answers), graded=len(scores),
            mean=mean(scores) if scores else None, median=median(scores) if scores else None,
            to_review=sum(r.needs_review for r in answers),
            chart=distribution_chart(question.id, scores, max_score, rubric.scale.step, len(answers) - len(scores),
                                     chart_id=f"chart-q{number}"),
        ))
    coverage = concept_coverage(results, rubric)
    totals = [t for s in students if (t := s.total(rubric)) is not None]

    rows = []
    for student in students[:TABLE_STUDENT_LIMIT]:
        cells = []
        for question in rubric.questions:
            answer = student.for_question(question.id)
            cells.append(_cell(answer.score if answer else None, rubric.max_score(question.id)))
        first_detail = next((index_of[id(r)] for r in student.answers if index_of[id(r)] in detail_results), None)
        page = feedback_pages.get(student.student_id)
        rows.append(StudentRow(
            student_id=student.student_id, cells=cells, total=_cell(student.total(rubric), total_max(rubric)),
            flag_codes=sorted({code for r in student.answers for code in r.flag_codes}),
            to_review=sum(r.needs_review for r in student.answers),
            feedback_href=quote(page.relative_to(out).as_posix()) if page else "",
            detail_anchor=_anchor(first_detail) if first_detail is not None else None,
        ))

    details_by_student: dict[str, list[AnswerDetail]] = {}
    for index in sorted(detail_results):  # results order: student by student, questions in rubric order
        r = detail_results[index]
        details_by_student.setdefault(r.student_id, []).append(AnswerDetail(
            anchor=_anchor(index), student_id=r.student_id, question_id=r.question_id,
            prompt=prompts.get(r.question_id, ""), score=_cell(r.score, r.max_score), max_score=r.max_score,
            confidence=r.confidence, needs_review=r.needs_review, text=highlight(r.answer, r.concepts),
            hidden_chars=max(0, len(r.answer) - ANSWER_CHAR_LIMIT), feedback=r.feedback, flags=r.flags,
            found=[c.label for c in r.concepts if c.status == "found"],
            missing=[c.label for c in r.concepts if c.status != "found"],
        ))

    review_items = [
        ReviewItem(anchor=_anchor(index_of[id(r)]), student_id=r.student_id, question_id=r.question_id,
                   score=_cell(r.score, r.max_score), max_score=r.max_score, confidence=r.confidence,
                   reasons=[(f.code, f.reason) for f in r.flags] or [("", "low confidence: the evidence for this score is mixed")])
        for r in review_shown
    ]
    return {
        "title": rubric.title,
        "generated": datetime.now().strftime("%Y-%m-%d %H:%M"),
        "n_students": len(students),
        "n_answers": len(results),
        "n_graded": sum(r.score is not None for r in results),
        "n_flagged": sum(bool(r.flags) for r in results),
        "n_review": len(review),
        "questions": questions,
        "total_max": total_max(rubric),
        "mean_total": mean(totals) if totals else None,
        "median_total": median(totals) if totals else None,
        "concept_chart": coverage_chart(coverage) if coverage else None,
        "rows": rows,
        "review": review_items,
        "details": details_by_student,
        "limits": {
            "table": TABLE_STUDENT_LIMIT, "detail_students": DETAIL_STUDENT_LIMIT,
            "review": REVIEW_LIMIT, "answer_chars": ANSWER_CHAR_LIMIT, "concepts": CONCEPT_CHART_LIMIT,
        },
        "table_capped": len(students) > TABLE_STUDENT_LIMIT,
        "details_capped": len(detail_results) < len(results),
        "review_capped": len(review) > REVIEW_LIMIT,
    }


def _csp_hash(script: str) -> str:
    """The Content-Security-Policy source that allows exactly this inline script and no other."""
    digest = hashlib.sha256(str(script).encode("utf-8")).digest()
    return "'sha256-" + base64.b64encode(digest).decode("ascii") + "'"


def _environment() -> jinja2.Environment:
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(Path(__file__).resolve().parent / "templates"),
        autoescape=True, trim_blocks=True, lstrip_blocks=True, undefined=jinja2.StrictUndefined,
    )
    environment.filters["csp_hash"] = _csp_hash
    environment.filters["count"] = lambda n: f"{n:,}"
    environment.filters["score"] = lambda v: "–" if v is None else f"{v:.2f}".rstrip("0").rstrip(".")
    return environment


def render_report(context: dict) -> str:
    return _environment().get_template("report.html.j2").render(**context)


def write_report(results: list[GradedAnswer], rubric: Rubric, out: Path,
                 progress: Progress | None = None) -> list[Path]:
    """Write gradebook.csv, feedback/<student>.md and report.html into `out`; returns the paths."""
    students = group_by_student(results)
    gradebook = out / GRADEBOOK_NAME
    write_gradebook(students, rubric, gradebook)
    pages = write_feedback_pages(students, rubric, out / FEEDBACK_DIR, progress)
    report = out / REPORT_NAME
    html = render_report(build_report_context(results, rubric, students, pages, out))
    with atomic_writer(report) as handle:
        handle.write(html)
    return [gradebook, *pages.values(), report]
