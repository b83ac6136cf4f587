"""The rule scorer: from features to a fraction of the question's marks, with fixed weights.

`RuleScorer` is the untuned scorer every rubric starts with: concept coverage and model-answer
recall make the content part; multipliers for substance (real sentences, words beyond the
question's own, no repetition, on topic, no contradiction) scale it. Each part is
non-decreasing when a student adds a correct, real sentence, so adding a missing concept never
lowers a score. `grader tune` replaces the fixed weights with learned ones (scoring/learned.py).
"""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.utils.validation import check_array, check_is_fitted

from ..features.columns import COLUMN, FEATURE_NAMES


def _ramp(x: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """0 at or below lo, 1 at or above hi, linear between."""
    return np.clip((x - lo) / (hi - lo), 0.0, 1.0)


def score_parts(F: np.ndarray, concept_share: float = 0.6, coverage_target: float = 0.55,
                recall_floor: float = 0.04, recall_target: float = 0.30) -> dict[str, np.ndarray]:
    """The named parts of the rule score; each in 0..1. `content * substance` is the score."""
    F = np.asarray(F, dtype=float)
    coverage = F[:, COLUMN["coverage"]]
    has_concepts = coverage >= 0
    recall = 0.5 * F[:, COLUMN["word_recall"]] + 0.5 * F[:, COLUMN["char_recall"]]
    recall_part = _ramp(recall, recall_floor, recall_target)
    concept_part = _ramp(np.where(has_concepts, coverage, 0.0), 0.0, coverage_target)
    content = np.where(has_concepts, concept_share * concept_part + (1 - concept_share) * recall_part, recall_part)
    negated = F[:, COLUMN["negated"]]
    mentioned = negated + np.where(has_concepts, coverage, 0.0)
    agreement = 1.0 - np.divide(negated, mentioned, out=np.zeros_like(negated), where=mentioned > 0)
    parts = {
        "concepts": np.where(has_concepts, concept_part, recall_part),
        "recall": recall_part,
        "content": content,
        "sentences": 0.1 + 0.9 * _ramp(F[:, COLUMN["function_ratio"]], 0.05, 0.2),
        "beyond_question": _ramp(F[:, COLUMN["novelty"]], 0.1, 0.4),
        "not_repeated": _ramp(F[:, COLUMN["unique_ratio"]], 0.25, 0.55),
        "on_topic": _ramp(F[:, COLUMN["topic_density"]], 0.05, 0.25),
        "agreement": agreement,
    }
    parts["substance"] = (parts["sentences"] * parts["beyond_question"] * parts["not_repeated"]
                          * parts["on_topic"] * parts["agreement"])
    return parts


def check_features(estimator, X) -> np.ndarray:
    """X as a float array with the columns the fitted estimator expects (ValueError otherwise)."""
    check_is_fitted(estimator, "n_features_in_")
    X = check_array(X)
    if X.shape[1] != estimator.n_features_in_:
        raise ValueError(f"X has {X.shape[1]} features, but {type(estimator).__name__} is expecting "
                         f"{estimator.n_features_in_} features as input (the columns of features/columns.py)")
    return X


class RuleScorer(RegressorMixin, BaseEstimator):
    """The untuned scorer: fixed, documented weights; predicts the fraction of marks (0..1).

    It learns nothing from y (fit only checks the input), so it is the baseline a tuned model
    is compared against in cross-validation.
    """

    def __init__(self, concept_share: float = 0.6, coverage_target: float = 0.55,
                 recall_floor: float = 0.04, recall_target: float = 0.30):
        self.concept_share = concept_share
        self.coverage_target = coverage_target
        self.recall_floor = recall_floor
        self.recall_target = recall_target

    def fit(self, X, y=None):
        X = check_array(X)
        if X.shape[1] != len(FEATURE_NAMES):
            raise ValueError(f"X has {X.shape[1]} columns; expected the {len(FEATURE_NAMES)} of features/columns.py")
        self.n_features_in_ = X.shape[1]
        return self

    def predict(self, X) -> np.ndarray:
        parts = score_parts(check_features(self, X), self.concept_share, self.coverage_target,
                            self.recall_floor, self.recall_target)
        return parts["content"] * parts["substance"]
