"""`grader evaluate`: grade teacher-graded answers and compare with the teacher's marks."""

from __future__ import annotations

from typing import Sequence

from ..grading import grade
from ..marking import apply_learned
from ..scoring.adapt import MarkAdapter
from ..metrics import agreement_report
from ..rubric import Rubric
from .graded import GradedRow


def evaluate(rubric: Rubric, rows: Sequence[GradedRow]) -> dict:
    """Grade the teacher-graded answers with the rubric and compare: {"overall", "questions",
    "not_scored"} (answers grade() left unscored, e.g. blank or unreadable, are counted apart)."""
    teacher = {row.answer.source: row.score for row in rows}
    graded = grade(rubric, [row.answer for row in rows])
    if rubric.marks:
        apply_learned(graded, MarkAdapter.from_dict(rubric.marks, rubric.source), rubric)
    graded = [g for g in graded if g.source in teacher]
    scored = [g for g in graded if g.score is not None]
    report = agreement_report([g.question_id for g in scored], [teacher[g.source] for g in scored],
                              [g.score for g in scored], rubric.scale.step,
                              max(rubric.max_score(q.id) for q in rubric.questions),
                              order=[q.id for q in rubric.questions])
    report["not_scored"] = len(graded) - len(scored)
    return report
