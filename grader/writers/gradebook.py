"""gradebook.csv: one row per student in the input's order, in the column layout an LMS imports
(docs/gradebook.md): `plain` (student_id, name and e-mail where the input had them, a column per
question and a total), `canvas`, `moodle` or `classroom`."""

from __future__ import annotations

import csv
import re
from pathlib import Path
from typing import Iterator

from ..rubric import Rubric
from .files import atomic_writer, format_score, spreadsheet_safe
from .students import StudentGrades, in_input_order, total_max

GRADEBOOK_NAME = "gradebook.csv"
GRADEBOOK_LAYOUTS = ("plain", "canvas", "moodle", "classroom")
CANVAS_STUDENT_COLUMNS = ("Student", "ID", "SIS User ID", "SIS Login ID", "Section")

_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


def student_email(student: StudentGrades) -> str:
    """The e-mail the input gave, else the student id when it is an e-mail address."""
    return student.email or (student.student_id if _EMAIL.fullmatch(student.student_id) else "")


def _is_blank(student: StudentGrades, question_id: str) -> bool:
    """No answer to the question, or only a blank one (not one that could not be read or graded)."""
    answer = student.for_question(question_id)
    return answer is None or (answer.score is None and answer.flag_codes == ["empty"])


def score_cells(student: StudentGrades, rubric: Rubric, blank_as_zero: bool = False) -> tuple[list[str], str]:
    """The student's cell per rubric question and their total. An ungraded answer is an empty cell;
    with `blank_as_zero` a blank or missing answer is 0 (an unreadable, too long or duplicate one
    stays empty: it needs the teacher). The total is empty only when every cell is."""
    scores: list[float | None] = []
    for question in rubric.questions:
        answer = student.for_question(question.id)
        if answer is not None and answer.score is not None:
            scores.append(answer.score)
        else:
            scores.append(0.0 if blank_as_zero and _is_blank(student, question.id) else None)
    given = [s for s in scores if s is not None]
    return [format_score(s) for s in scores], format_score(round(sum(given), 6) if given else None)


def _item_name(rubric: Rubric, question_id: str) -> str:
    """A grade item's name in the LMS: the rubric's title and the question, e.g. 'Stakhanovism q1'."""
    return f"{rubric.title} {question_id}".strip()


def gradebook_table(students: list[StudentGrades], rubric: Rubric, layout: str = "plain",
                    blank_as_zero: bool = False) -> Iterator[list[str]]:
    """The gradebook's rows, header first, students in the input's order. Every text cell is
    spreadsheet-safe; scores are plain numbers."""
    if layout not in GRADEBOOK_LAYOUTS:
        raise ValueError(f"gradebook layout {layout!r}: choose one of {', '.join(GRADEBOOK_LAYOUTS)}")
    safe = spreadsheet_safe
    students = in_input_order(students)
    questions = rubric.questions
    maxima = [format_score(rubric.max_score(q.id)) for q in questions]
    items = [safe(f"{_item_name(rubric, q.id)} ({m})") if layout == "classroom" else safe(_item_name(rubric, q.id))
             for q, m in zip(questions, maxima)]
    rows = [(s, *score_cells(s, rubric, blank_as_zero)) for s in students]

    if layout == "plain":
        names = any(s.name for s in students)
        emails = any(s.email for s in students)
        yield (["student_id"] + ["name"] * names + ["email"] * emails
               + [safe(f"{q.id} ({m})") for q, m in zip(questions, maxima)] + [f"total ({total_max(rubric):g})"])
        for s, cells, total in rows:
            yield [safe(s.student_id)] + [safe(s.name)] * names + [safe(s.email)] * emails + cells + [total]
    elif layout == "canvas":
        # Canvas matches a row by ID (its own user id, unknown here), then SIS User ID, then SIS
        # Login ID; the "Points Possible" row gives new assignments their points. No total:
        # Canvas computes it.
        yield [*CANVAS_STUDENT_COLUMNS, *items]
        yield ["Points Possible", "", "", "", "", *maxima]
        for s, cells, _ in rows:
            yield [safe(s.name), "", safe(s.student_id), safe(student_email(s)), "", *cells]
    elif layout == "moodle":
        # Moodle identifies a user by one column mapped to username, ID number or e-mail; an
        # e-mail when every student has one. No total: Moodle computes the course total.
        emails = [student_email(s) for s in students]
        by_email = all(emails)
        yield ["email"] * by_email + ["student_id"] * (not by_email) + ["email"] * (not by_email and any(emails)) + items
        for (s, cells, _), email in zip(rows, emails):
            who = [safe(email)] if by_email else [safe(s.student_id)] + [safe(email)] * any(emails)
            yield who + cells
    else:
        # Google Classroom matches students by their Google account's e-mail; one grade column
        # per assignment (a question each, or the total for one assignment).
        yield ["email", "name", *items, safe(f"{rubric.title} total ({total_max(rubric):g})".strip())]
        for s, cells, total in rows:
            yield [safe(student_email(s) or s.student_id), safe(s.name), *cells, total]


def write_gradebook(students: list[StudentGrades], rubric: Rubric, path: Path, layout: str = "plain",
                    blank_as_zero: bool = False) -> None:
    with atomic_writer(path, newline="") as handle:
        csv.writer(handle).writerows(gradebook_table(students, rubric, layout, blank_as_zero))
