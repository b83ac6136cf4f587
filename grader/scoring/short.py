"""Short answers: when the model answer is a few words, a few words that match it are the answer.

The general model learned from sentence-long answers: its substance terms (function words, words
beyond the question's) hold "freedom of speech" back even when it is exactly a model answer.
`ShortAnswerScorer` wraps any scorer and, for answers whose best-matching model answer has at most
`short_words` content words, gives at least the match score: how much of that model answer the
answer says (word or character recall, so a spelling slip still counts), times how little it adds
that no model answer or the prompt uses (word precision: "the vice president" is not "the
President", a hedging "nine or ten" is not "nine").
"""

from __future__ import annotations

import math

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin, clone

from ..features.columns import COLUMN
from .rules import _ramp, check_features


def short_match(X: np.ndarray, recall_floor: float = 0.1, recall_target: float = 0.9,
                precision_floor: float = 0.2, precision_target: float = 0.6) -> np.ndarray:
    """The match score (0..1) of each answer against its best-matching model answer."""
    recall = np.maximum(X[:, COLUMN["word_recall"]], X[:, COLUMN["char_recall"]])
    return _ramp(recall, recall_floor, recall_target) * _ramp(X[:, COLUMN["word_precision"]], precision_floor,
                                                              precision_target)


def is_short(X: np.ndarray, short_words: int) -> np.ndarray:
    """Rows whose best-matching model answer has at most short_words content words."""
    return X[:, COLUMN["reference_words"]] <= math.log1p(short_words) + 1e-9


class ShortAnswerScorer(RegressorMixin, BaseEstimator):
    """`scorer`'s prediction, raised to the short-answer match score where the model answer is short."""

    def __init__(self, scorer=None, short_words: int = 5, recall_floor: float = 0.1, recall_target: float = 0.9,
                 precision_floor: float = 0.2, precision_target: float = 0.6):
        self.scorer = scorer
        self.short_words = short_words
        self.recall_floor = recall_floor
        self.recall_target = recall_target
        self.precision_floor = precision_floor
        self.precision_target = precision_target

    def fit(self, X, y=None, **fit_params):
        self.scorer_ = clone(self.scorer).fit(X, y, **fit_params)
        self.n_features_in_ = self.scorer_.n_features_in_
        return self

    @classmethod
    def around(cls, fitted, **params) -> "ShortAnswerScorer":
        """The wrapper around an already fitted scorer (the general model loaded from its numbers)."""
        wrapper = cls(fitted, **params)
        wrapper.scorer_ = fitted
        wrapper.n_features_in_ = fitted.n_features_in_
        return wrapper

    def predict(self, X) -> np.ndarray:
        X = check_features(self, X)
        base = self.scorer_.predict(X)
        match = short_match(X, self.recall_floor, self.recall_target, self.precision_floor, self.precision_target)
        # A hedge, a shotgun list or a wrong number caps base and match alike (features/short.py).
        return np.where(is_short(X, self.short_words),
                        np.minimum(np.maximum(base, match), X[:, COLUMN["short_ceiling"]]), base)
