"""The short summary `grader grade` prints on stderr after a run."""

from __future__ import annotations

from pathlib import Path
from statistics import mean, median

from .grading import GradedAnswer
from .marking import MarksApplied
from .rubric import Rubric


def summary_lines(results: list[GradedAnswer], rubric: Rubric, out: Path, marks: MarksApplied | None = None) -> list[str]:
    students = {r.student_id for r in results}
    scored = [r for r in results if r.score is not None]
    lines = [f"Graded {len(scored)} of {len(results)} answers from {len(students)} students."]
    for question in rubric.questions:
        scores = [r.score for r in scored if r.question_id == question.id]
        if scores:
            lines.append(f"  {question.id}: {len(scores)} answers, mean {mean(scores):.2f}, "
                         f"median {median(scores):g} of {rubric.max_score(question.id):g}")
    flagged = sum(1 for r in results if r.flags)
    review = sum(1 for r in results if r.needs_review)
    if marks is not None:
        lines.append(f"{marks.marked} answers scored by you (your marks are final)"
                     + (f"; {len(marks.unmatched)} marks for answers not in the input, not used" if marks.unmatched else "")
                     + (f"; {len(marks.changed)} marks for answers whose text differs from the input's" if marks.changed else "") + ".")
    lines.append(f"{flagged} flagged, {review} to review first. Results in {out}/.")
    return lines
