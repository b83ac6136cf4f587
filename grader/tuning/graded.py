"""Teacher-graded answers: the CSV `grader tune` and `grader evaluate` read."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from ..answers import Answer, InputError, csv_rows, read_csv
from ..marks import parse_score
from ..rubric import Rubric
from ..text import normalize


@dataclass(frozen=True)
class GradedRow:
    answer: Answer
    score: float


def read_graded(path: str | Path, rubric: Rubric) -> tuple[list[GradedRow], list[Answer]]:
    """Teacher-graded answers from a CSV (student_id, question_id, answer, score).

    Cells grader wrote spreadsheet-safe (a leading apostrophe before = + - @: grades.csv, the
    report's "Download my marks") are read without the apostrophe, so they match the input.

    Returns (graded rows, answers left out: blank, unreadable or without a score). Raises
    InputError naming the file, line and column for a missing score column, a score that is not
    a number or outside 0..max, or a question the rubric does not have.
    """
    path = Path(path)
    scores = _score_column(path)
    answers = read_csv(path)   # (it takes off the apostrophes spreadsheet_safe added)
    rows, left_out = [], []
    for answer in answers:
        line = int(answer.source.rsplit(":", 1)[1])
        raw = scores.get(line, "")
        if rubric.question(answer.question_id) is None:
            known = ", ".join(q.id for q in rubric.questions[:8]) + (", ..." if len(rubric.questions) > 8 else "")
            raise InputError(f"{path}: line {line}: question {answer.question_id!r} is not in the rubric {rubric.source} "
                             f"(it has {known}); add the question to the rubric or remove the row")
        if answer.problem is not None or not raw:
            left_out.append(answer)
            continue
        score = parse_score(raw, f"{path}: line {line}", rubric.scale_for(answer.question_id))
        rows.append(GradedRow(answer, score))
    return rows, left_out


def _score_column(path: Path) -> dict[int, str]:
    """line number -> the score cell (read_csv numbers rows the same way)."""
    return {line: normalize(row["score"])
            for line, row in csv_rows(path, ("student_id", "question_id", "answer", "score"), what="graded answers")}


def fractions_of(rows: Sequence[GradedRow], rubric: Rubric) -> np.ndarray:
    """Each graded answer's mark as a share of its question's marks."""
    return np.array([row.score / rubric.max_score(row.answer.question_id) for row in rows])
