"""Agreement with a teacher's marks on answers written and graded blind to the grader's internals.

tests/fixtures/dev_stakhanovism.csv was written by a separate session acting as a history
teacher, who never saw the grader's code or rubric: 25 students x 3 questions, 60 genuine answers
and 15 that try to game a keyword grader, each with the teacher's 0-5 mark.
tests/fixtures/dev_gaming_b.csv was written the same way, later and by another session, asked
for many more gaming answers (eight off-topic paragraphs seeded with key terms among them) and for
genuine answers in every style: 36 students x 3 questions, 76 genuine and 32 gaming.
"""

import csv

import numpy as np
import pytest
from conftest import FIXTURES
from scipy.stats import spearmanr
from sklearn.metrics import cohen_kappa_score

from grader.answers import read_csv
from grader.grading import grade

HELDOUT = FIXTURES / "dev_stakhanovism.csv"
HELDOUT_B = FIXTURES / "dev_gaming_b.csv"


def graded_with_teacher(rubric, path):
    teacher = {(r["student_id"], r["question_id"]): r for r in csv.DictReader(open(path, encoding="utf-8"))}
    return [(r, teacher[(r.student_id, r.question_id)]) for r in grade(rubric, read_csv(path))]


@pytest.fixture(scope="module")
def graded(rubric):
    return graded_with_teacher(rubric, HELDOUT)


@pytest.fixture(scope="module")
def graded_b(rubric):
    return graded_with_teacher(rubric, HELDOUT_B)


def test_ranking_and_kappa_agree_with_the_teacher(graded):
    genuine = [(r.score, float(t["score"])) for r, t in graded if t["kind"] == "genuine"]
    ours, theirs = np.array(genuine).T
    assert spearmanr(ours, theirs)[0] >= 0.75
    everything = np.array([(r.score, float(t["score"])) for r, t in graded])
    kappa = cohen_kappa_score(np.rint(everything[:, 0]).astype(int), np.rint(everything[:, 1]).astype(int), weights="quadratic")
    assert kappa >= 0.70


def test_second_teacher_set_agrees_less_but_still_ranks(graded_b):
    # Measured 0.66 genuine Spearman and 0.79 QWK: this teacher marks partial answers more generously
    # than the first (see BENCHMARKS.md); the floor guards against regressions, not a target.
    genuine = np.array([(r.score, float(t["score"])) for r, t in graded_b if t["kind"] == "genuine"])
    assert spearmanr(genuine[:, 0], genuine[:, 1])[0] >= 0.6
    everything = np.array([(r.score, float(t["score"])) for r, t in graded_b])
    kappa = cohen_kappa_score(np.rint(everything[:, 0]).astype(int), np.rint(everything[:, 1]).astype(int), weights="quadratic")
    assert kappa >= 0.70


@pytest.mark.parametrize("which", ["graded", "graded_b"])
def test_few_genuine_answers_are_flagged(which, request):
    genuine = [r for r, t in request.getfixturevalue(which) if t["kind"] == "genuine"]
    assert sum(1 for r in genuine if r.flags) <= len(genuine) / 10


def test_gaming_answers_get_at_most_a_quarter_of_the_marks(graded):
    gaming = [(r, t) for r, t in graded if t["kind"] == "gaming"]
    assert len(gaming) == 15
    for r, t in gaming:
        assert r.score <= 0.25 * r.max_score, (t["note"], r.answer, r.score)
        assert r.flags, (t["note"], r.answer)


def test_good_genuine_answers_are_almost_never_flagged(graded, graded_b):
    # Genuine answers the teacher marked 2 or more of 5; the flagged genuine answers counted above
    # are mostly empty padding or restated questions that the teachers marked 0-1 themselves.
    good = [r for r, t in [*graded, *graded_b] if t["kind"] == "genuine" and float(t["score"]) >= 2]
    assert len(good) >= 100
    assert sum(1 for r in good if r.flags) <= len(good) / 20


# Gaming in the second set that the grader does not catch: an answer that invents the opposite of the
# facts without denying any rubric concept by name. Not in the list of gaming flags.
KNOWN_MISSES_B = {("u21", "q1")}


def test_gaming_answers_of_the_second_set_are_flagged_and_capped(graded_b):
    gaming = [(r, t) for r, t in graded_b if t["kind"] == "gaming" and (r.student_id, r.question_id) not in KNOWN_MISSES_B]
    assert len(gaming) == 31
    off_topic = [r for r, t in gaming if t["note"].startswith("off-topic")]
    assert len(off_topic) == 8 and all("off_topic" in r.flag_codes for r in off_topic)
    for r, t in gaming:
        assert r.flags, (t["note"], r.answer)
        assert r.score <= 0.25 * r.max_score, (t["note"], r.answer, r.score)


@pytest.mark.xfail(strict=True, reason="known limitation: invented facts that deny no rubric concept are not flagged")
def test_invented_facts_are_flagged(graded_b):
    assert all(r.flags for r, t in graded_b if (r.student_id, r.question_id) in KNOWN_MISSES_B)
