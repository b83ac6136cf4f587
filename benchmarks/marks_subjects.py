"""A few marks per question on top of the shipped general model: each subject folder's rubric made
by `grader rubric import` from its questions.csv (so the general model scores it), then k = 3 and 10
marks per question drawn from its teacher-graded answers.csv, 5 draws, scored on the unmarked answers
before and after (benchmarks/marks.py's protocol).

    python benchmarks/marks_subjects.py tests/fixtures/dev_subjects
    python benchmarks/marks_subjects.py tests/fixtures/dev_subjects --teacher-shift -1.5

--teacher-shift moves every teacher mark by that many points (clipped to the scale): a harsher or
more generous teacher of the same answers, so a grader miscalibrated the same way on every question
(a made-up teacher on real answers; the marks drawn and the answers scored are the same).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from marks import marks_draws, table   # benchmarks/marks.py

from grader.grading import grade
from grader.importer import import_questions
from grader.tuning import read_graded


def main(collection: str, teacher_shift: float = 0.0) -> None:
    for subject in sorted(p for p in Path(collection).iterdir() if p.is_dir()):
        rubric = import_questions(subject / "questions.csv").rubric
        rows, _ = read_graded(subject / "answers.csv", rubric)
        results = grade(rubric, [r.answer for r in rows])
        gold = {r.answer.source: min(max(r.score + teacher_shift, 0.0), rubric.scale.max) for r in rows}
        pooled = marks_draws(rubric, results, gold, (3, 10), 5, 7)
        shifted = f", teacher {teacher_shift:+g} points" if teacher_shift else ""
        print("\n".join(table(f"{subject.name} ({rubric.scorer} base{shifted})", pooled, (3, 10), rubric.scale.step, rubric.scale.max)))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("collection", nargs="?", default="tests/fixtures/dev_subjects")
    parser.add_argument("--teacher-shift", type=float, default=0.0)
    args = parser.parse_args()
    main(args.collection, args.teacher_shift)
