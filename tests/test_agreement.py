"""Agreement with a teacher's marks on answers written and graded blind to the grader's internals.

tests/fixtures/heldout_stakhanovism.csv was written by a separate session acting as a history
teacher, who never saw the grader's code or rubric: 25 students x 3 questions, 60 genuine answers
and 15 that try to game a keyword grader, each with the teacher's 0-5 mark.
"""

import csv

import numpy as np
import pytest
from conftest import FIXTURES
from scipy.stats import spearmanr
from sklearn.metrics import cohen_kappa_score

from grader.answers import read_csv
from grader.grading import grade

HELDOUT = FIXTURES / "heldout_stakhanovism.csv"


@pytest.fixture(scope="module")
def graded(rubric):
    teacher = {(r["student_id"], r["question_id"]): r for r in csv.DictReader(open(HELDOUT, encoding="utf-8"))}
    return [(r, teacher[(r.student_id, r.question_id)]) for r in grade(rubric, read_csv(HELDOUT))]


def test_ranking_and_kappa_agree_with_the_teacher(graded):
    genuine = [(r.score, float(t["score"])) for r, t in graded if t["kind"] == "genuine"]
    ours, theirs = np.array(genuine).T
    assert spearmanr(ours, theirs)[0] >= 0.75
    everything = np.array([(r.score, float(t["score"])) for r, t in graded])
    kappa = cohen_kappa_score(np.rint(everything[:, 0]).astype(int), np.rint(everything[:, 1]).astype(int), weights="quadratic")
    assert kappa >= 0.70


def test_few_genuine_answers_are_flagged(graded):
    genuine = [r for r, t in graded if t["kind"] == "genuine"]
    assert sum(1 for r in genuine if r.flags) <= len(genuine) / 10


def is_off_topic_with_key_terms(note):
    return note.startswith("off-topic")


def test_gaming_answers_get_at_most_a_quarter_of_the_marks(graded):
    gaming = [(r, t) for r, t in graded if t["kind"] == "gaming" and not is_off_topic_with_key_terms(t["note"])]
    assert len(gaming) >= 10
    for r, t in gaming:
        assert r.score <= 0.25 * r.max_score, (t["note"], r.answer, r.score)
        assert r.flags, (t["note"], r.answer)


@pytest.mark.xfail(strict=True, reason="known limitation: an off-topic paragraph seeded with a few rubric terms "
                   "shares words, not meaning; bag-of-words features cannot tell it from a weak genuine answer")
def test_off_topic_paragraphs_seeded_with_key_terms_are_caught(graded):
    seeded = [(r, t) for r, t in graded if t["kind"] == "gaming" and is_off_topic_with_key_terms(t["note"])]
    assert seeded
    assert all(r.score <= 0.25 * r.max_score for r, _ in seeded)
