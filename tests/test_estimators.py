"""The estimator contract where the code claims it: parameters in __init__, learning in fit (learned
attributes end in _), fit returns self, transform/predict validate their input and change nothing,
clone works, and the learned model's plain data round-trips every parameter. Plus direct tests of
the pieces the scorers are made of: score_parts, the caps tune learns, the shrinkage."""

from __future__ import annotations

import pickle
import tomllib

import numpy as np
import pytest
import tomli_w
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

from grader.features import COLUMN, FEATURE_NAMES, AnswerFeatures, WordwiseCharTfidf
from grader.flags import Flag
from grader.grading import GradedAnswer
from grader.answers import Answer
from grader.scoring import LearnedScorer, RuleScorer, score_parts
from grader.tuning import GradedRow
from grader.tuning.tune import MIN_FLAGGED, _empirical_bayes_shrinkage, _learn_caps

PAIRS = [("q1", "Stakhanov mined 102 tons of coal in one shift, fourteen times the norm, to meet the Five-Year Plan."),
         ("q1", "The Five-Year Plans set huge production quotas and Stakhanovites showed they could be beaten."),
         ("q2", "Propaganda made him a hero while other workers resented the higher norms."),
         ("q3", "Burnout, resentment and poor quality were the long-term costs; later campaigns copied it."),
         ("q2", "")]


def fitted_state(estimator) -> dict[str, bytes]:
    return {name: pickle.dumps(value) for name, value in vars(estimator).items() if name.endswith("_")}


def test_answer_features_follow_the_contract(rubric):
    features = AnswerFeatures(rubric, prompt_weight=0.2)
    assert clone(features).get_params()["prompt_weight"] == 0.2
    with pytest.raises(NotFittedError):
        features.transform(PAIRS)
    assert features.fit(PAIRS) is features
    assert all(name.endswith("_") for name in vars(features) if name not in features.get_params())
    assert list(features.get_feature_names_out()) == list(FEATURE_NAMES)
    before = fitted_state(features)
    first = features.transform(PAIRS)
    # transform learns nothing: no cache grows inside a fitted attribute, even on new words
    features.transform([("q1", "Stakanov's propoganda, unheard-of words: zyzzyva quixotically")])
    assert fitted_state(features) == before
    assert np.array_equal(features.transform(PAIRS), first)
    assert first.shape == (len(PAIRS), len(FEATURE_NAMES))


def test_answer_features_measure_what_the_table_says(rubric):
    model = rubric.question("q1").model_answers[0]
    values = AnswerFeatures(rubric).fit_transform([("q1", model), ("q1", "I like football and sunny days."),
                                                   ("q1", rubric.question("q1").prompt), ("q1", "")])
    copy, unrelated, prompt, blank = values
    column = {name: COLUMN[name] for name in FEATURE_NAMES}
    assert copy[column["word_recall"]] > 0.9 and copy[column["char_cosine"]] > 0.9 and copy[column["coverage"]] > 0.5
    assert unrelated[column["word_recall"]] < 0.05 and unrelated[column["coverage"]] == 0
    assert prompt[column["novelty"]] < 0.2 < copy[column["novelty"]]                 # restating the question
    assert blank[column["content_words"]] == 0 and blank[column["exemplar_score"]] == -1   # no exemplars
    assert copy[column["calibration_offset"]] == 0 and copy[column["exemplar_count"]] == 0


def test_wordwise_char_tfidf_follows_the_contract():
    vectorizer = WordwiseCharTfidf((3, 4))
    assert clone(vectorizer).ngram_range == (3, 4)
    with pytest.raises(NotFittedError):
        vectorizer.transform(["coal"])
    assert vectorizer.fit(["coal mine", "steel mill"]) is vectorizer
    assert vectorizer.transform(["coal"]).shape[0] == 1


def test_rule_scorer_follows_the_contract():
    X = np.zeros((3, len(FEATURE_NAMES)))
    scorer = RuleScorer(concept_share=0.5)
    assert clone(scorer).concept_share == 0.5
    with pytest.raises(NotFittedError):
        scorer.predict(X)
    assert scorer.fit(X) is scorer
    with pytest.raises(ValueError, match="features"):
        scorer.predict(np.zeros((3, len(FEATURE_NAMES) - 1)))
    with pytest.raises(ValueError):
        RuleScorer().fit(np.zeros((3, 4)))


def learned(n=120, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.uniform(0, 1, size=(n, len(FEATURE_NAMES)))
    X[:, COLUMN["calibration_offset"]] = 0
    X[:, COLUMN["exemplar_count"]] = rng.choice([0, 3], size=n)
    y = np.clip(0.5 * X[:, COLUMN["word_recall"]] + 0.5 * X[:, COLUMN["coverage"]], 0, 1)
    return X, y


def test_learned_scorer_validates_its_input_and_round_trips_every_parameter():
    X, y = learned()
    params = dict(alpha=1.0, n_knots=3, features=("word_recall", "coverage", "negated"), exemplar_regimes=(2,),
                  min_rows=20)
    scorer = LearnedScorer(**params).fit(X, y)
    with pytest.raises(ValueError, match="features"):
        scorer.predict(X[:, :-1])
    again = LearnedScorer.from_dict(tomllib.loads(tomli_w.dumps(scorer.to_dict())), "x.toml")
    assert again.get_params() == scorer.get_params() == {**params}
    assert np.array_equal(again.predict(X), scorer.predict(X))
    assert [r["min_exemplars"] for r in again.regimes_] == [0, 2]
    assert clone(scorer).get_params() == scorer.get_params() and not hasattr(clone(scorer), "regimes_")


def test_score_parts_are_the_documented_ramps():
    F = np.zeros((4, len(FEATURE_NAMES)))
    F[:, COLUMN["function_ratio"]] = 0.4         # real sentences
    F[:, COLUMN["novelty"]] = 1.0
    F[:, COLUMN["unique_ratio"]] = 1.0
    F[:, COLUMN["topic_density"]] = 0.5
    F[0, COLUMN["coverage"]] = 0.55              # full concept credit at 55% of the weight
    F[0, [COLUMN["word_recall"], COLUMN["char_recall"]]] = 0.3   # full recall credit at 0.30
    F[1, COLUMN["coverage"]] = -1                # no concepts: recall alone
    F[1, [COLUMN["word_recall"], COLUMN["char_recall"]]] = 0.17  # half way up the 0.04..0.30 ramp
    F[2, COLUMN["coverage"]], F[2, COLUMN["negated"]] = 0.2, 0.2  # as much denied as affirmed
    F[3, COLUMN["function_ratio"]] = 0.0         # a keyword list
    F[3, COLUMN["coverage"]] = 0.55
    parts = score_parts(F)
    assert parts["content"][0] == pytest.approx(1.0) and parts["substance"][0] == pytest.approx(1.0)
    assert parts["content"][1] == pytest.approx(0.5) and parts["concepts"][1] == parts["recall"][1]
    assert parts["agreement"][2] == pytest.approx(0.5)
    assert parts["sentences"][3] == pytest.approx(0.1) and parts["content"][3] == pytest.approx(0.6)
    assert RuleScorer().fit(F).predict(F)[0] == pytest.approx(1.0)


def graded_row(i: int, score: float) -> GradedRow:
    return GradedRow(Answer(f"s{i}", "q1", f"answer {i}", f"marks.csv:{i}"), score)


def flagged(i: int, *codes: str) -> GradedAnswer:
    return GradedAnswer(f"s{i}", "q1", f"answer {i}", f"marks.csv:{i}", 5.0, score=1.0,
                        flags=[Flag(code, "because") for code in codes])


def test_learn_caps_raises_a_cap_only_on_enough_contrary_marks(rubric):
    # Teacher gave full marks to answers flagged as copies (a course that copies definitions):
    rows = [graded_row(i, 5.0) for i in range(MIN_FLAGGED)]
    results = [flagged(i, "copies_model_answer") for i in range(MIN_FLAGGED)]
    assert _learn_caps(results, rows, rubric) == {"copies_model_answer": 1.0}
    # One answer fewer, and no other capped flag to judge the teacher by: the cap stays.
    assert _learn_caps(results[1:], rows[1:], rubric) == {}
    # Marks at or below the cap never raise it; flags that do not cap are ignored.
    low = [graded_row(i, 1.0) for i in range(MIN_FLAGGED)]
    assert _learn_caps(results, low, rubric) == {}
    assert _learn_caps([flagged(i, "near_duplicate") for i in range(MIN_FLAGGED)], rows, rubric) == {}


def test_shrinkage_follows_how_much_the_questions_really_differ():
    rng = np.random.default_rng(1)
    groups = np.repeat(["a", "b", "c", "d"], 30)
    noise = rng.normal(0, 0.1, size=groups.size)
    alike = _empirical_bayes_shrinkage(noise, groups)
    apart = _empirical_bayes_shrinkage(noise + np.repeat([-0.3, -0.1, 0.1, 0.3], 30), groups)
    assert alike == 100.0                 # no real differences: shrink the offsets all the way
    assert 1.0 <= apart < 2.0             # large, real differences: keep them
    assert _empirical_bayes_shrinkage(noise[:30], groups[:30]) == 100.0   # one question: nothing to compare
