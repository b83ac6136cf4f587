"""The learned scorer `grader tune` fits, and its plain-data form in the rubric (`[model]`).

It is a sum of monotone piecewise-linear terms, one per feature:

    fraction = clip(intercept + sum_f term_f(x_f) + calibration_offset, 0, 1)
    term_f(x) = sum_k weights[k] * clip((x - knots[k]) / (knots[k+1] - knots[k]), 0, 1)

(`missing` instead when a feature is not available: no concepts, no exemplars). Weights of
"increasing" features (similarity, recall, coverage, ...) are non-negative, of "decreasing" ones
(negated) non-positive, so adding a correct concept never lowers a score; the directions come from
features/columns.py. There is one such sum per regime of exemplar count (`[[model.regimes]]`):
with ten graded answers to a question the model leans on them more than with two.

The TOML schema (`to_dict` / `from_dict`, validated on load with the field named):

    [model]
    kind = "monotone-ramps"    version = 1
    alpha, n_knots, features, exemplar_regimes, min_rows     # the estimator's parameters
    [[model.regimes]]  min_exemplars, intercept
    [[model.regimes.terms]]  feature, direction, knots, weights, (missing)
    # written beside these by `grader tune`: shrinkage, answers, questions, [model.caps], and
    # zero_stays_zero = true for a model adopted (--force) from too few answers (ZeroStaysZero)
"""

from __future__ import annotations

import math
from typing import Any, Sequence

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.linear_model import Ridge
from sklearn.utils.validation import check_array, check_is_fitted

from ..features.columns import COLUMN, COLUMNS, FEATURE_NAMES
from ..rubric import RubricError, finite_number
from .caps import SCORE_CAPS
from .rules import check_features

MODEL_KIND = "monotone-ramps"
MODEL_VERSION = 1

DIRECTIONS: dict[str, str] = {c.name: c.direction for c in COLUMNS if c.direction != "none"}
"""How each feature the model scores on may move the score ("free": either way)."""
MODEL_FEATURES = tuple(DIRECTIONS)
OPTIONAL_FEATURES = frozenset(c.name for c in COLUMNS if c.optional)   # -1 when not available
OFFSET_FEATURE = "calibration_offset"
COUNT_FEATURE = "exemplar_count"
EXEMPLAR_REGIMES = (1, 6, 10)   # one model each for 0, 1-5, 6-9 and 10+ exemplars
_PARAMETERS = ("alpha", "n_knots", "features", "exemplar_regimes", "min_rows")
_WRITTEN_BY_TUNE = ("shrinkage", "answers", "questions", "caps", "zero_stays_zero")


class LearnedScorer(RegressorMixin, BaseEstimator):
    """General model: fraction of marks (0..1) from the feature matrix (columns FEATURE_NAMES).

    Each feature in `features` is expanded into ramps between the quantiles of its training
    values (`n_knots` segments); a Ridge regression with non-negative coefficients on the signed
    ramps keeps each term monotone in the feature's direction (DIRECTIONS). The question's
    calibration offset (the `calibration_offset` column) is added as is.

    How much to trust the teacher's exemplars depends on how many a question has, so there is
    one such model per regime of `exemplar_count`: `exemplar_regimes` are the lower bounds of
    the regimes above 0 (default: none, 1-5, 6-9, 10 or more exemplars). A regime with fewer
    than `min_rows` training rows is left out and its questions use the next lower regime.

    Learned attributes: `regimes_` (list of {min_exemplars, intercept, terms}; each term has
    feature, direction, knots, weights and, for optional features, missing), `n_features_in_`.
    `to_dict()` / `from_dict()` convert to and from the rubric's `[model]`.
    """

    def __init__(self, alpha: float = 3.0, n_knots: int = 4, features: Sequence[str] = MODEL_FEATURES,
                 exemplar_regimes: Sequence[int] = EXEMPLAR_REGIMES, min_rows: int = 30):
        self.alpha = alpha
        self.n_knots = n_knots
        self.features = features
        self.exemplar_regimes = exemplar_regimes
        self.min_rows = min_rows

    def fit(self, X, y, sample_weight=None):
        X = check_array(X)
        y = np.asarray(y, dtype=float).ravel()
        w = np.ones(y.size) if sample_weight is None else np.asarray(sample_weight, dtype=float).ravel()
        if X.shape[1] != len(FEATURE_NAMES):
            raise ValueError(f"X has {X.shape[1]} columns; expected the {len(FEATURE_NAMES)} of features/columns.py")
        if X.shape[0] != y.size:
            raise ValueError(f"X has {X.shape[0]} rows but y has {y.size}")
        if w.size != y.size:
            raise ValueError(f"sample_weight has {w.size} values but y has {y.size}")
        unknown = [name for name in self.features if name not in DIRECTIONS]
        if unknown:
            raise ValueError(f"unknown feature {unknown[0]!r}; choose from {', '.join(DIRECTIONS)}")
        bounds = sorted({0, *(int(b) for b in self.exemplar_regimes)})
        counts = X[:, COLUMN[COUNT_FEATURE]]
        regimes = []
        for lo, hi in zip(bounds, [*bounds[1:], math.inf]):
            rows = (counts >= lo) & (counts < hi)
            if rows.sum() >= self.min_rows or (rows.any() and not regimes and lo == 0):
                regimes.append({"min_exemplars": lo, **self._fit_regime(X[rows], y[rows], w[rows])})
        if not regimes:   # too few rows in every regime: one model for all
            regimes.append({"min_exemplars": 0, **self._fit_regime(X, y, w)})
        self.regimes_ = regimes
        self.n_features_in_ = X.shape[1]
        return self

    def _fit_regime(self, X: np.ndarray, y: np.ndarray, w: np.ndarray) -> dict[str, Any]:
        terms = []
        for name in self.features:
            values = X[:, COLUMN[name]]
            present = values[values >= 0] if name in OPTIONAL_FEATURES else values
            knots = np.unique(np.round(np.quantile(present, np.linspace(0, 1, self.n_knots + 1)), 6)) if present.size else np.array([])
            if knots.size < 2:
                continue   # constant (or never available) in the training data: says nothing
            terms.append({"feature": name, "direction": DIRECTIONS[name], "knots": knots.tolist(),
                          "optional": name in OPTIONAL_FEATURES and bool((values < 0).any())})
        basis, signs, owners = self._design(X, terms)
        target = y - X[:, COLUMN[OFFSET_FEATURE]]
        if basis.shape[1]:
            regression = Ridge(alpha=self.alpha, positive=True).fit(basis, target, sample_weight=w)
            coef, intercept = regression.coef_ * signs, float(regression.intercept_)
        else:
            coef, intercept = np.zeros(0), float(np.average(target, weights=w))
        for t_index, term in enumerate(terms):
            weights = np.zeros(len(term["knots"]) - 1)
            missing = 0.0
            for column in np.flatnonzero(owners[:, 0] == t_index):
                if owners[column, 1] < 0:
                    missing += coef[column]
                else:
                    weights[owners[column, 1]] += coef[column]
            term["weights"] = np.round(weights, 6).tolist()
            if term.pop("optional"):
                term["missing"] = round(float(missing), 6)
            elif term["feature"] in OPTIONAL_FEATURES:
                # Always available in training: when it is not, count the average contribution.
                x = X[:, COLUMN[term["feature"]]]
                term["missing"] = round(float(np.mean(sum(w * r for w, r in zip(weights, _ramps(x, term["knots"]))))), 6)
        return {"intercept": round(intercept, 6), "terms": terms}

    @staticmethod
    def _design(X: np.ndarray, terms: list[dict]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Ramp columns, the sign each must carry, and (term, segment) owning each (-1: missing)."""
        columns, signs, owners = [], [], []
        for t_index, term in enumerate(terms):
            x = X[:, COLUMN[term["feature"]]]
            available = x >= 0 if term["feature"] in OPTIONAL_FEATURES else np.ones(x.size, bool)
            allowed = {"increasing": (1.0,), "decreasing": (-1.0,), "free": (1.0, -1.0)}[term["direction"]]
            for k, ramp in enumerate(_ramps(x, term["knots"])):
                for sign in allowed:
                    columns.append(sign * np.where(available, ramp, 0.0))
                    signs.append(sign)
                    owners.append((t_index, k))
            if term.get("optional"):
                for sign in (1.0, -1.0):
                    columns.append(sign * (~available).astype(float))
                    signs.append(sign)
                    owners.append((t_index, -1))
        if not columns:
            return np.zeros((X.shape[0], 0)), np.zeros(0), np.zeros((0, 2), int)
        return np.column_stack(columns), np.array(signs), np.array(owners)

    def regime_of(self, X) -> np.ndarray:
        """Index into regimes_ for each row: the regime with the most exemplars not above the row's."""
        check_is_fitted(self, "regimes_")
        lows = np.array([r["min_exemplars"] for r in self.regimes_])
        counts = check_features(self, X)[:, COLUMN[COUNT_FEATURE]]
        return np.clip(np.searchsorted(lows, counts, side="right") - 1, 0, len(lows) - 1)

    def decision_terms(self, X) -> dict[str, np.ndarray]:
        """Each term's contribution (share of marks) per answer, plus intercept and offset."""
        X = check_features(self, X)
        which = self.regime_of(X)
        parts: dict[str, np.ndarray] = {"intercept": np.zeros(X.shape[0]),
                                        OFFSET_FEATURE: X[:, COLUMN[OFFSET_FEATURE]].copy()}
        for index, regime in enumerate(self.regimes_):
            rows = which == index
            if not rows.any():
                continue
            parts["intercept"][rows] = regime["intercept"]
            for term in regime["terms"]:
                x = X[rows, COLUMN[term["feature"]]]
                value = sum((w * r for w, r in zip(term["weights"], _ramps(x, term["knots"]))), np.zeros(x.size))
                if "missing" in term:
                    value = np.where(x >= 0, value, term["missing"])
                parts.setdefault(term["feature"], np.zeros(X.shape[0]))[rows] = value
        return parts

    def predict(self, X) -> np.ndarray:
        return np.clip(sum(self.decision_terms(X).values()), 0.0, 1.0)

    # -- plain data for the rubric ---------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        check_is_fitted(self, "regimes_")
        return {"kind": MODEL_KIND, "version": MODEL_VERSION, "alpha": float(self.alpha),
                "n_knots": int(self.n_knots), "features": list(self.features),
                "exemplar_regimes": [int(b) for b in self.exemplar_regimes], "min_rows": int(self.min_rows),
                "regimes": [{"min_exemplars": r["min_exemplars"], "intercept": r["intercept"],
                             "terms": [dict(t) for t in r["terms"]]} for r in self.regimes_]}

    @classmethod
    def from_dict(cls, data: dict[str, Any], source: str = "<rubric>") -> "LearnedScorer":
        """A fitted scorer from a rubric's `[model]` table; RubricError naming the field if malformed."""
        def bad(where: str, problem: str) -> RubricError:
            return RubricError(source, f"model.{where}" if where else "model", f"{problem}; run `grader tune` again to rewrite it")

        if not isinstance(data, dict):
            raise bad("", "must be a table written by `grader tune`")
        if data.get("kind") != MODEL_KIND or data.get("version") != MODEL_VERSION:
            raise bad("kind", f"expected kind = {MODEL_KIND!r} and version = {MODEL_VERSION}, got {data.get('kind')!r} {data.get('version')!r}")
        unknown = sorted(set(data) - {"kind", "version", "regimes", *_PARAMETERS, *_WRITTEN_BY_TUNE})
        if unknown:
            raise bad(unknown[0], "unknown key")
        features = data.get("features", list(MODEL_FEATURES))
        if not isinstance(features, list) or any(name not in DIRECTIONS for name in features):
            raise bad("features", f"must be a list of feature names from {', '.join(DIRECTIONS)}")
        regime_bounds = [_number(b, "exemplar_regimes", bad) for b in _list(data.get("exemplar_regimes", list(EXEMPLAR_REGIMES)),
                                                                          "exemplar_regimes", bad)]
        scorer = cls(alpha=_number(data.get("alpha", 3.0), "alpha", bad), n_knots=int(_number(data.get("n_knots", 4), "n_knots", bad)),
                     features=tuple(features), exemplar_regimes=tuple(int(b) for b in regime_bounds),
                     min_rows=int(_number(data.get("min_rows", 30), "min_rows", bad)))
        _check_caps(data.get("caps", {}), bad)
        regimes = data.get("regimes")
        if not isinstance(regimes, list) or not regimes:
            raise bad("regimes", "must be a non-empty list of [[model.regimes]] tables")
        parsed_regimes = []
        for r_index, regime in enumerate(regimes):
            r_where = f"regimes[{r_index}]"
            if not isinstance(regime, dict):
                raise bad(r_where, "must be a table")
            low = _number(regime.get("min_exemplars"), f"{r_where}.min_exemplars", bad)
            if parsed_regimes and low <= parsed_regimes[-1]["min_exemplars"]:
                raise bad(f"{r_where}.min_exemplars", "regimes must be in increasing order of min_exemplars")
            terms = regime.get("terms", [])
            if not isinstance(terms, list):
                raise bad(f"{r_where}.terms", "must be a list of [[model.regimes.terms]] tables")
            parsed_regimes.append({"min_exemplars": int(low),
                                   "intercept": _number(regime.get("intercept"), f"{r_where}.intercept", bad),
                                   "terms": [_parse_term(term, f"{r_where}.terms[{i}]", bad) for i, term in enumerate(terms)]})
        scorer.regimes_ = parsed_regimes
        scorer.n_features_in_ = len(FEATURE_NAMES)
        return scorer


def _check_caps(caps, bad) -> None:
    if not isinstance(caps, dict):
        raise bad("caps", "must be a table of flag = share of the marks")
    for code, value in caps.items():
        if code not in SCORE_CAPS:
            raise bad(f"caps.{code}", f"not a flag that caps scores; use one of {', '.join(SCORE_CAPS)}")
        share = _number(value, f"caps.{code}", bad)
        if not 0 <= share <= 1:
            raise bad(f"caps.{code}", f"must be a share of the marks from 0 to 1 (got {share:g})")


def _parse_term(term, where: str, bad) -> dict[str, Any]:
    if not isinstance(term, dict):
        raise bad(where, "must be a table")
    name = term.get("feature")
    if name not in DIRECTIONS:
        raise bad(f"{where}.feature", f"unknown feature {name!r}")
    direction = term.get("direction")
    if direction != DIRECTIONS[name]:
        raise bad(f"{where}.direction", f"must be {DIRECTIONS[name]!r} for {name}")
    knots = [_number(k, f"{where}.knots", bad) for k in _list(term.get("knots"), f"{where}.knots", bad)]
    weights = [_number(w, f"{where}.weights", bad) for w in _list(term.get("weights"), f"{where}.weights", bad)]
    if len(knots) < 2 or any(b <= a for a, b in zip(knots, knots[1:])):
        raise bad(f"{where}.knots", "must be at least two increasing numbers")
    if len(weights) != len(knots) - 1:
        raise bad(f"{where}.weights", f"needs {len(knots) - 1} numbers, one per segment between knots")
    if (direction == "increasing" and min(weights) < 0) or (direction == "decreasing" and max(weights) > 0):
        raise bad(f"{where}.weights", f"must all be {'>= 0' if direction == 'increasing' else '<= 0'} ({direction} feature)")
    parsed = {"feature": name, "direction": direction, "knots": knots, "weights": weights}
    if "missing" in term:
        if name not in OPTIONAL_FEATURES:
            raise bad(f"{where}.missing", f"{name} is always available; remove the key")
        parsed["missing"] = _number(term["missing"], f"{where}.missing", bad)
    return parsed


def _ramps(x: np.ndarray, knots: Sequence[float]) -> list[np.ndarray]:
    return [np.clip((x - a) / (b - a), 0.0, 1.0) for a, b in zip(knots, knots[1:])]


def _number(value, where: str, bad) -> float:
    number = finite_number(value)
    if number is None:
        raise bad(where, f"must be a number (got {value!r})")
    return number


def _list(value, where: str, bad) -> list:
    if not isinstance(value, list):
        raise bad(where, "must be a list of numbers")
    return value


class ZeroStaysZero(RegressorMixin, BaseEstimator):
    """`scorer`'s prediction, except 0 wherever `base` (the rubric's own scorer) predicts 0.

    A model forced from a few dozen marks learns an intercept and per-question offsets that credit
    any answer: "idk" or "asdf" got 1-2.5 of 5 from 30 Stakhanovism marks where the rule scorer
    found nothing in them. Both are fitted already (`around`)."""

    def __init__(self, scorer=None, base=None):
        self.scorer = scorer
        self.base = base

    @classmethod
    def around(cls, scorer, base) -> "ZeroStaysZero":
        guard = cls(scorer, base)
        guard.n_features_in_ = scorer.n_features_in_
        return guard

    def fit(self, X, y=None):
        raise NotImplementedError("ZeroStaysZero wraps fitted scorers: use ZeroStaysZero.around(scorer, base)")

    def predict(self, X) -> np.ndarray:
        check_is_fitted(self, "n_features_in_")
        return np.where(self.base.predict(X) <= 0.0, 0.0, self.scorer.predict(X))
