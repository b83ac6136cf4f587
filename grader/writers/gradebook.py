"""gradebook.csv: one row per student, a column per question and a total, for an LMS (docs/gradebook.md)."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Iterator

from ..rubric import Rubric
from .files import atomic_writer, format_score, spreadsheet_safe
from .students import StudentGrades, total_max

GRADEBOOK_NAME = "gradebook.csv"


def gradebook_header(rubric: Rubric, identity: tuple[str, ...] = ()) -> list[str]:
    """student_id, (name, email where the input gave them,) one 'q1 (5)' column per question, 'total (15)'."""
    return (["student_id", *identity] + [spreadsheet_safe(f"{q.id} ({rubric.max_score(q.id):g})") for q in rubric.questions]
            + [f"total ({total_max(rubric):g})"])


def identity_columns(students: list[StudentGrades]) -> tuple[str, ...]:
    """'name' and 'email' when some student has one (an export gave them), so grades go back to the right student."""
    return tuple(column for column in ("name", "email") if any(getattr(s, column) for s in students))


def gradebook_rows(students: list[StudentGrades], rubric: Rubric, identity: tuple[str, ...] = ()) -> Iterator[list[str]]:
    for student in students:
        cells = []
        for question in rubric.questions:
            answer = student.for_question(question.id)
            cells.append(format_score(answer.score if answer else None))
        yield [spreadsheet_safe(student.student_id), *(spreadsheet_safe(getattr(student, c)) for c in identity),
               *cells, format_score(student.total(rubric))]


def write_gradebook(students: list[StudentGrades], rubric: Rubric, path: Path) -> None:
    with atomic_writer(path, newline="") as handle:
        writer = csv.writer(handle)
        identity = identity_columns(students)
        writer.writerow(gradebook_header(rubric, identity))
        writer.writerows(gradebook_rows(students, rubric, identity))
