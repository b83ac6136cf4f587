"""The general model shipped in the package: the default scorer of a rubric without [model]."""

import tomllib

import numpy as np
import pytest

from grader.answers import Answer
from grader.features import FEATURE_NAMES
from grader.grading import grade
from grader.importer import import_questions
from grader.rubric import RubricError, load_rubric, rubric_from_dict
from grader.scoring import LearnedScorer, RuleScorer, scorer_for
from grader.scoring.general import MODEL_PATH, general_model
from grader.scoring.short import ShortAnswerScorer


def test_the_model_file_is_plain_numbers_citing_its_data_sets():
    data = tomllib.loads(MODEL_PATH.read_text(encoding="utf-8"))
    assert set(data["trained_on"]) == {"unt", "semeval"}
    assert "Mohler" in data["trained_on"]["unt"]["source"] and "Dzikovska" in data["trained_on"]["semeval"]["source"]
    model = general_model()
    assert not any(name.startswith("exemplar_") for name in model.features)
    assert [r["min_exemplars"] for r in model.regimes_] == [0]


def test_a_rubric_without_model_is_graded_by_the_general_model(tmp_path):
    questions = tmp_path / "q.csv"
    questions.write_text("question_id,prompt,model_answer\n"
                         "p1,Why do we see lightning before we hear thunder?,Light travels much faster than sound.\n",
                         encoding="utf-8")
    rubric = import_questions(questions).rubric
    assert isinstance(scorer_for(rubric), ShortAnswerScorer)
    good, bad = grade(rubric, [Answer("a", "p1", "Because light travels faster than sound does.", "x:1"),
                               Answer("b", "p1", "Because thunder is louder than the clouds.", "x:2")])
    assert good.score > bad.score


def test_the_bundled_rubric_keeps_the_rule_scorer_it_measures_better_with():
    assert isinstance(scorer_for(load_rubric()), RuleScorer)


def test_an_unknown_scorer_is_a_clear_error():
    data = {"scorer": "magic", "questions": [{"id": "q", "prompt": "P?", "model_answers": ["A."]}]}
    with pytest.raises(RubricError, match="scorer.*'general', 'rules'"):
        rubric_from_dict(data, "r.toml")


def test_sample_weight_counts_rows():
    rng = np.random.default_rng(0)
    X = np.zeros((200, len(FEATURE_NAMES)))
    X[:, 0] = rng.random(200)
    y = X[:, 0].copy()
    y[:100] = 1.0   # rows that a zero weight must silence
    weights = np.r_[np.zeros(100), np.ones(100)]
    fitted = LearnedScorer(features=("word_recall",), exemplar_regimes=()).fit(X, y, sample_weight=weights)
    assert np.abs(fitted.predict(X[100:]) - y[100:]).mean() < 0.05


def _short_rubric(tmp_path):
    questions = tmp_path / "civics.csv"
    questions.write_text(
        "question_id,prompt,model_answer,model_answers\n"
        "c1,Name one right protected by the First Amendment.,freedom of speech,"
        "freedom of speech || freedom of religion || freedom of the press\n"
        "c2,What are the three branches of government?,\"legislative, executive, and judicial\",\n"
        "c3,Who is the Commander in Chief of the military?,the President,the President || the President of the United States\n",
        encoding="utf-8")
    return import_questions(questions).rubric


def test_a_few_words_that_are_a_model_answer_earn_full_marks_without_gaming_flags(tmp_path):
    rubric = _short_rubric(tmp_path)
    answers = [Answer("a", "c1", "freedom of religion", "x:1"), Answer("a", "c2", "executive, legislative, judicial", "x:2"),
               Answer("a", "c3", "the President", "x:3"), Answer("b", "c1", "the right to bear arms", "x:4"),
               Answer("b", "c2", "legislative, executive", "x:5"), Answer("b", "c3", "the vice president", "x:6")]
    graded = {(g.student_id, g.question_id): g for g in grade(rubric, answers)}
    for qid in ("c1", "c2", "c3"):
        right, other = graded["a", qid], graded["b", qid]
        assert right.score == 5 and not right.flags, (qid, right.score, right.flag_codes)
        assert other.score < right.score
    assert graded["b", "c2"].score >= 2.5   # two of the three branches: part of the marks


def test_training_weights_balance_data_sets_and_their_correct_and_incorrect_answers():
    from grader.scoring.general import training_weights
    # A lenient course (9 of 10 correct, 10 answers) and a strict one (1 of 4 correct, 40 answers).
    names = np.array(["lenient"] * 10 + ["strict"] * 40)
    correct = np.r_[np.ones(9, bool), False, np.ones(10, bool), np.zeros(30, bool)]
    w = training_weights(names, correct)
    assert w.mean() == pytest.approx(1.0)
    for name in ("lenient", "strict"):
        rows = names == name
        assert w[rows & correct].sum() == pytest.approx(w[rows & ~correct].sum())
        assert w[rows].sum() == pytest.approx(w.sum() / 2)
    # One incorrect answer of the lenient course weighs as much as its nine correct ones together.
    assert w[9] == pytest.approx(9 * w[0])
