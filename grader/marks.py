"""The teacher's marks: a CSV of student_id, question_id, answer, score, feedback.

`grader grade --marks` makes them final (the teacher's score and feedback replace the grader's
for those answers) and learns from them (scoring/adapt.py); `grader tune` reads the same file.
A blank score is a feedback-only mark; a blank feedback keeps the grader's. Every cell is read
as written and normalised like an answer (answers.csv_rows), so a marks file exported from the
report reads back as it is.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

from .answers import InputError, csv_rows
from .rubric import Rubric, Scale
from .text import normalize

MARK_COLUMNS = ("student_id", "question_id", "answer")
OPTIONAL_COLUMNS = ("score", "feedback")


@dataclass(frozen=True)
class Mark:
    student_id: str
    question_id: str
    answer: str
    score: float | None      # None: a feedback-only mark
    feedback: str             # "" keeps the grader's feedback
    source: str               # "<file>:<line>"


def parse_score(raw: str, where: str, scale: Scale, on_step: bool = False) -> float:
    """A score cell as a number from 0 to the scale's max (and on its step with `on_step`);
    InputError naming `where` (file: line) and the fix otherwise."""
    try:
        score = float(raw)
    except ValueError:
        score = math.nan
    if not math.isfinite(score) or not 0 <= score <= scale.max:
        raise InputError(f"{where}: column score is {raw!r}; give a number from 0 to {scale.max:g} "
                         "(or leave it empty to skip the answer)")
    if on_step and abs(scale.snap(score) - score) > 1e-6:
        raise InputError(f"{where}: column score is {raw!r}, not on the rubric's scale (0 to {scale.max:g} "
                         f"in steps of {scale.step:g}); use {scale.snap(score):g} or another step of the scale")
    return score


def read_marks(path: str | Path, rubric: Rubric) -> list[Mark]:
    """The marks in `path`, in file order. InputError (file, line, fix) for a missing column, a
    score off the scale or its step, or a second mark for the same student and question."""
    path = Path(path)
    marks: list[Mark] = []
    first: dict[tuple[str, str], int] = {}
    for line, row in csv_rows(path, MARK_COLUMNS, OPTIONAL_COLUMNS, what="marks"):
        where = f"{path}: line {line}"
        student_id, question_id = normalize(row["student_id"]), normalize(row["question_id"])
        if not student_id or not question_id:
            raise InputError(f"{where}: a mark needs a student_id and a question_id; fill them in or remove the row")
        key = (student_id, question_id)
        if key in first:
            raise InputError(f"{where}: a second mark for student {student_id!r}, question {question_id!r} "
                             f"(the first is line {first[key]}); keep one of them")
        first[key] = line
        raw = normalize(row.get("score", ""))
        score = parse_score(raw, where, rubric.scale_for(question_id), on_step=True) if raw else None
        feedback = normalize(row.get("feedback", ""))
        if score is None and not feedback:
            continue   # nothing set: a row the teacher left as it was
        marks.append(Mark(student_id, question_id, normalize(row["answer"]), score, feedback, f"{path}:{line}"))
    return marks
