"""gradebook.csv: one row per student, a column per question and a total, for an LMS (docs/gradebook.md)."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Iterator

from ..rubric import Rubric
from .files import atomic_writer, format_score, spreadsheet_safe
from .students import StudentGrades, total_max

GRADEBOOK_NAME = "gradebook.csv"


def gradebook_header(rubric: Rubric) -> list[str]:
    """student_id, one 'q1 (5)' column per question, 'total (15)'."""
    return (["student_id"] + [spreadsheet_safe(f"{q.id} ({rubric.max_score(q.id):g})") for q in rubric.questions]
            + [f"total ({total_max(rubric):g})"])


def gradebook_rows(students: list[StudentGrades], rubric: Rubric) -> Iterator[list[str]]:
    for student in students:
        cells = []
        for question in rubric.questions:
            answer = student.for_question(question.id)
            cells.append(format_score(answer.score if answer else None))
        yield [spreadsheet_safe(student.student_id), *cells, format_score(student.total(rubric))]


def write_gradebook(students: list[StudentGrades], rubric: Rubric, path: Path) -> None:
    with atomic_writer(path, newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(gradebook_header(rubric))
        writer.writerows(gradebook_rows(students, rubric))
