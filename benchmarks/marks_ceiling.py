"""How much a rubric-wide correction *could* give on the general model's base: per subject folder
(rubric made by `grader rubric import`, as marks_subjects.py), the grader's scores against the
teacher's before and after the least-squares linear map fitted on *all* the subject's marks, in
sample (an optimistic ceiling for what any number of marks can teach by one map), and the subject's
mean offset (teacher minus grader).

    python benchmarks/marks_ceiling.py tests/fixtures/dev_subjects
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from grader.grading import grade
from grader.importer import import_questions
from grader.marking import adapter_rows
from grader.metrics import rmse
from grader.tuning import read_graded


def main(collection: str) -> None:
    print("| subject | answers | mean offset (points) | RMSE grader -> best linear map | map (slope, intercept in points) |")
    print("|---|---|---|---|---|")
    for subject in sorted(p for p in Path(collection).iterdir() if p.is_dir()):
        rubric = import_questions(subject / "questions.csv").rubric
        rows, _ = read_graded(subject / "answers.csv", rubric)
        gold = {r.answer.source: r.score for r in rows}
        results = [r for r in grade(rubric, [r.answer for r in rows]) if r.raw_score is not None and r.source in gold]
        top = rubric.scale.max
        base = np.array([row[2] for row in adapter_rows(results, rubric)]) * top
        marks = np.array([gold[r.source] for r in results])
        slope, intercept = np.polyfit(base, marks, 1)
        mapped = np.clip(slope * base + intercept, 0, top)
        print(f"| {subject.name} | {len(marks)} | {np.mean(marks - base):+.2f} | {rmse(marks, base):.3f} -> "
              f"{rmse(marks, mapped):.3f} | {slope:.2f}, {intercept:+.2f} |")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "tests/fixtures/dev_subjects")
