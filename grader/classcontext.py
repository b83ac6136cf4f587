"""The class of an earlier run, as context for grading late or revised submissions.

Scores use the class as context: an answer is compared with the other answers to its question
(the `peers` signal, and near-duplicates between students). A submission graded on its own would
get a different score than it would have had in the class run. `grader grade LATE --context OUT`
reads the class back from OUT/grades.json (which holds every answer's text as graded), grades
the late answers together with it, and keeps only the late answers' results: each gets the score
it would have had in that run had it been there.
"""

from __future__ import annotations

import json
from pathlib import Path

from .answers import Answer, InputError
from .rubric import Rubric

SAVED_CLASS = "grades.json"


def read_class_context(folder: str | Path, rubric: Rubric) -> list[Answer]:
    """The gradable answers of the run whose outputs are in `folder` (ungraded ones, such as blank
    or unreadable answers, never took part in the comparison and are left out)."""
    path = Path(folder) / SAVED_CLASS
    try:
        with path.open(encoding="utf-8") as handle:
            saved = json.load(handle)
        rows = saved["answers"]
        graded_with = saved["rubric"]["title"]
    except FileNotFoundError:
        raise InputError(f"{path}: no such file; give --context the --out folder of an earlier `grader grade` run") from None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise InputError(f"{path}: not the grades.json of a grader run ({exc.__class__.__name__}); give --context "
                         "the --out folder of an earlier `grader grade` run") from None
    if graded_with != rubric.title:
        raise InputError(f"{path}: that class was graded with the rubric {graded_with!r}, not {rubric.title!r}; "
                         "grade the late answers with the same rubric")
    class_answers = []
    for index, row in enumerate(rows):
        try:
            if row["score"] is None:
                continue
            class_answers.append(Answer(str(row["student_id"]), str(row["question_id"]), str(row["answer"]),
                                        str(row["source"])))
        except (KeyError, TypeError):
            raise InputError(f"{path}: answer {index + 1} lacks student_id, question_id, answer or source; "
                             "give --context the --out folder of an earlier `grader grade` run") from None
    return class_answers


def with_class(answers: list[Answer], class_answers: list[Answer]) -> list[Answer]:
    """The answers to grade, then the class's answers they do not replace (a revised submission
    takes the place of the same student's earlier answer to the question)."""
    replaced = {(a.student_id, a.question_id) for a in answers}
    return answers + [a for a in class_answers if (a.student_id, a.question_id) not in replaced]
