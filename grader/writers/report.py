"""report.html: the teacher's page, one self-contained file (inline CSS, JS and SVG charts, no
network) with the review queue, the class summary and charts, a sortable student table and each
answer with its evidence highlighted. Large classes are capped so the page stays small;
grades.csv has everything.

Student ids and answers are untrusted text: the HTML template autoescapes everything and the
highlighting escapes each piece itself.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from statistics import mean, median
from urllib.parse import quote

import jinja2
from markupsafe import Markup, escape

from ..flags import Flag
from ..grading import GradedAnswer
from ..rubric import Rubric
from ..text import terminal_safe
from .charts import CONCEPT_CHART_LIMIT, band, concept_coverage, coverage_chart, distribution_chart
from .files import atomic_writer, format_score
from .students import StudentGrades, total_max

REPORT_NAME = "report.html"
TEMPLATES = Path(__file__).resolve().parent.parent / "templates"

# Caps that keep report.html to a few MB for any class size; grades.csv/json hold everything.
TABLE_STUDENT_LIMIT = 2000      # rows in the student table
DETAIL_STUDENT_LIMIT = 200      # students whose every answer is shown in full
DETAIL_ANSWER_LIMIT = 1000      # ... and at most this many answers in all (one student may hand in thousands)
REVIEW_LIMIT = 300              # answers listed (and shown in full) in the review queue
ANSWER_CHAR_LIMIT = 3000        # characters of one answer shown in the report


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
    name: str = ""   # from the input (an export), shown beside the id


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
    scored_by: str
    hidden_chars: int
    feedback: list[str]
    step: float
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
    return ScoreCell(format_score(score) or "–", band(score, max_score), -1.0 if score is None else score)


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
    room = DETAIL_ANSWER_LIMIT
    for student in students[:DETAIL_STUDENT_LIMIT]:
        shown = student.answers[:max(room, 0)]
        detail_results.update((index_of[id(r)], r) for r in shown)
        room -= len(shown)

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
            name=student.heading if student.heading != student.student_id else "",
        ))

    details_by_student: dict[str, list[AnswerDetail]] = {}
    for index in sorted(detail_results):  # results order: student by student, questions in rubric order
        r = detail_results[index]
        details_by_student.setdefault(r.student_id, []).append(AnswerDetail(
            anchor=_anchor(index), student_id=r.student_id, question_id=r.question_id,
            prompt=prompts.get(r.question_id, ""), score=_cell(r.score, r.max_score), max_score=r.max_score,
            confidence=r.confidence, needs_review=r.needs_review, text=highlight(r.answer, r.concepts), scored_by=r.scored_by,
            hidden_chars=max(0, len(r.answer) - ANSWER_CHAR_LIMIT), feedback=r.feedback,
            step=rubric.scale_for(r.question_id).step, flags=r.flags,
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
        "marks_data": marks_data(results, detail_results, review_shown, index_of, rubric),
        "limits": {
            "table": TABLE_STUDENT_LIMIT, "detail_students": DETAIL_STUDENT_LIMIT, "detail_answers": DETAIL_ANSWER_LIMIT,
            "review": REVIEW_LIMIT, "answer_chars": ANSWER_CHAR_LIMIT, "concepts": CONCEPT_CHART_LIMIT,
        },
        "table_capped": len(students) > TABLE_STUDENT_LIMIT,
        "details_capped": len(detail_results) < len(results),
        "review_capped": len(review) > REVIEW_LIMIT,
    }


def run_id(results: list[GradedAnswer]) -> str:
    """A short fingerprint of a run's results: the key under which the page keeps the teacher's
    edits, so a new run (other answers or scores) never shows the edits made to an old one."""
    digest = hashlib.sha256()
    for r in results:
        digest.update(json.dumps([r.student_id, r.question_id, r.answer, r.score], ensure_ascii=False).encode("utf-8"))
    return digest.hexdigest()[:20]


def marks_data(results: list[GradedAnswer], detail_results: dict[int, GradedAnswer], review: list[GradedAnswer],
               index_of: dict[int, int], rubric: Rubric) -> Markup:
    """What the page's script needs to review the answers shown in detail and export the marks, as
    the JSON of a <script type="application/json"> block: the run id, each answer (full text, for
    the marks CSV `tune` reads) and the review queue's order. Every "<" is written as \\u003c, so
    no student text can close the block or open a comment in it."""
    data = {
        "run": run_id(results),
        "answers": {
            _anchor(index): {"student_id": r.student_id, "question_id": r.question_id, "answer": r.answer,
                             "score": r.score, "max": r.max_score, "step": rubric.scale_for(r.question_id).step,
                             "feedback": " ".join(r.feedback)}
            for index, r in sorted(detail_results.items())
        },
        "queue": [_anchor(index_of[id(r)]) for r in review],
    }
    return Markup(json.dumps(data, ensure_ascii=True, separators=(",", ":")).replace("<", "\\u003c"))


def _csp_hash(script: str) -> str:
    """The Content-Security-Policy source that allows exactly this inline script and no other."""
    digest = hashlib.sha256(str(script).encode("utf-8")).digest()
    return "'sha256-" + base64.b64encode(digest).decode("ascii") + "'"


def _environment() -> jinja2.Environment:
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True, trim_blocks=True, lstrip_blocks=True, undefined=jinja2.StrictUndefined,
    )
    environment.filters["csp_hash"] = _csp_hash
    environment.filters["count"] = lambda n: f"{n:,}"
    environment.filters["shown"] = terminal_safe   # ids: bidi and control characters shown escaped
    environment.filters["score"] = lambda v: "–" if v is None else f"{v:.2f}".rstrip("0").rstrip(".")
    return environment


def render_report(context: dict) -> str:
    return _environment().get_template("report.html.j2").render(**context)


def write_report(results: list[GradedAnswer], rubric: Rubric, students: list[StudentGrades],
                 feedback_pages: dict[str, Path], out: Path) -> Path:
    """Write report.html into `out`; returns its path."""
    report = out / REPORT_NAME
    html = render_report(build_report_context(results, rubric, students, feedback_pages, out))
    with atomic_writer(report) as handle:
        handle.write(html)
    return report
