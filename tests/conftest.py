from pathlib import Path

import pytest

from grader.answers import Answer
from grader.grading import grade
from grader.rubric import load_rubric

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples"
FIXTURES = Path(__file__).resolve().parent / "fixtures"


@pytest.fixture(scope="session")
def rubric():
    return load_rubric(ROOT / "rubrics" / "stakhanovism.toml")


def grade_texts(rubric, *pairs):
    """Grade (question_id, text) pairs in one batch; results in the order of the pairs."""
    answers = [Answer(f"s{i:05d}", qid, text, f"test:{i}") for i, (qid, text) in enumerate(pairs)]
    by_student = {r.student_id: r for r in grade(rubric, answers)}
    return [by_student[a.student_id] for a in answers]
