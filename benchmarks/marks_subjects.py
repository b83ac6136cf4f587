"""A few marks per question on top of the shipped general model: each subject folder's rubric made
by `grader rubric import` from its questions.csv (so the general model scores it), then k = 3 and 10
marks per question drawn from its teacher-graded answers.csv, 5 draws, scored on the unmarked answers
before and after (benchmarks/marks.py's protocol).

    python benchmarks/marks_subjects.py tests/fixtures/dev_subjects
"""

from __future__ import annotations

import sys
from pathlib import Path

from marks import marks_draws, table   # benchmarks/marks.py

from grader.grading import grade
from grader.importer import import_questions
from grader.tuning import read_graded


def main(collection: str) -> None:
    for subject in sorted(p for p in Path(collection).iterdir() if p.is_dir()):
        rubric = import_questions(subject / "questions.csv").rubric
        rows, _ = read_graded(subject / "answers.csv", rubric)
        results = grade(rubric, [r.answer for r in rows])
        pooled = marks_draws(rubric, results, {r.answer.source: r.score for r in rows}, (3, 10), 5, 7)
        print("\n".join(table(f"{subject.name} ({rubric.scorer} base)", pooled, (3, 10), rubric.scale.step, rubric.scale.max)))


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "tests/fixtures/dev_subjects")
