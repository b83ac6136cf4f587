"""Learning from a teacher's marks: `grader tune`.

What is learned, all stored in the rubric as plain TOML data (never pickles):

- `[model]`: a general model across questions, so questions nobody has graded yet benefit too.
  It is a sum of monotone piecewise-linear terms, one per feature (`LearnedScorer`):

      fraction = clip(intercept + sum_f term_f(x_f) + calibration_offset, 0, 1)
      term_f(x) = sum_k weights[k] * clip((x - knots[k]) / (knots[k+1] - knots[k]), 0, 1)

  (`missing` instead when a feature is not available: no concepts, no exemplars). Weights of
  "increasing" features (similarity, recall, coverage, ...) are non-negative, of "decreasing"
  ones (negated) non-positive, so adding a correct concept never lowers a score. There is one
  such sum per regime of exemplar count (`[[model.regimes]]`): with ten graded answers to a
  question the model leans on them more than with two.
- per question with graded answers: `exemplars` (graded answers kept per score level; the
  `exemplar_score` and `exemplar_nearest` features compare new answers with them) and
  `calibration.offset`, the question's shrunken mean residual, which the `calibration_offset`
  feature carries to the model.
- `[model.caps]`: flag caps the teacher's marks contradict (e.g. answers flagged for copying the
  model answer that the teacher gave full marks) are raised; the flags still send answers to review.

The model learns these situations from the same graded answers: each answer once as if its
question had no graded answers, and twice scored against exemplars drawn from the *other* graded
answers to its question (a few of them, and all of one half; `_crossfit_features`), never
against itself.

`grade()` picks the tuned scorer automatically when the rubric has a `[model]` (`scorer_for`).
Model selection and the agreement `grader tune` prints are cross-validated with scikit-learn
(GridSearchCV / cross_val_predict over GroupKFold by question), so they measure how well the
model does on questions it has never seen.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Sequence

import numpy as np
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS
from sklearn.base import BaseEstimator, RegressorMixin, clone
from sklearn.linear_model import Ridge
from sklearn.model_selection import GridSearchCV, GroupKFold, cross_val_predict
from sklearn.utils.validation import check_array, check_is_fitted

from .answers import Answer, InputError, csv_rows, read_csv
from .features import FEATURE_NAMES, AnswerFeatures
from .flags import SCORE_CAPS, cap_for
from .metrics import agreement
from .rubric import Exemplar, Rubric, RubricError
from .scorer import RuleScorer
from .text import normalize, tokenize

MODEL_KIND = "monotone-ramps"
MODEL_VERSION = 1

# How each feature may move the score. "free" features can go either way.
DIRECTIONS: dict[str, str] = {
    "word_recall": "increasing",
    "char_recall": "increasing",
    "word_cosine": "increasing",
    "char_cosine": "increasing",
    "coverage": "increasing",
    "negated": "decreasing",
    "novelty": "free",
    "function_ratio": "free",
    "content_words": "increasing",
    "unique_ratio": "free",
    "topic_density": "increasing",
    "exemplar_score": "increasing",
    "peer_word_cosine": "increasing",
    "peer_char_cosine": "increasing",
    "peer_word_support": "increasing",
    "peer_char_support": "increasing",
    "relative_length": "increasing",
    "exemplar_nearest": "increasing",
    "relative_recall": "increasing",
    "relative_peer_cosine": "increasing",
}
MODEL_FEATURES = tuple(DIRECTIONS)
OPTIONAL_FEATURES = frozenset({"coverage", "exemplar_score", "exemplar_nearest"})   # -1 when not available
OFFSET_FEATURE = "calibration_offset"
COUNT_FEATURE = "exemplar_count"

ALPHAS = (0.3, 1.0, 3.0, 10.0, 30.0)
EXEMPLAR_REGIMES = (1, 6, 10)   # one model each for 0, 1-5, 6-9 and 10+ exemplars
EXEMPLARS_PER_LEVEL = 10
SMALL_POOLS = (2, 3, 5, 7)      # exemplar-pool sizes simulated while learning ...
ALL_POOL = (0,)                 # ... and all the graded answers of the other half
SHRINKAGE_RANGE = (1.0, 100.0)
MIN_FLAGGED = 5              # graded answers with a flag needed before its cap may be raised
CV_FOLDS = 5

_COLUMN = {name: i for i, name in enumerate(FEATURE_NAMES)}


# -- the estimator ---------------------------------------------------------------------------

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

    def fit(self, X, y):
        X = check_array(X)
        y = np.asarray(y, dtype=float).ravel()
        if X.shape[1] != len(FEATURE_NAMES):
            raise ValueError(f"X has {X.shape[1]} columns; expected the {len(FEATURE_NAMES)} of FEATURE_NAMES")
        if X.shape[0] != y.size:
            raise ValueError(f"X has {X.shape[0]} rows but y has {y.size}")
        unknown = [name for name in self.features if name not in DIRECTIONS]
        if unknown:
            raise ValueError(f"unknown feature {unknown[0]!r}; choose from {', '.join(DIRECTIONS)}")
        bounds = sorted({0, *(int(b) for b in self.exemplar_regimes)})
        counts = X[:, _COLUMN[COUNT_FEATURE]]
        regimes = []
        for lo, hi in zip(bounds, [*bounds[1:], math.inf]):
            rows = (counts >= lo) & (counts < hi)
            if rows.sum() >= self.min_rows or (rows.any() and not regimes and lo == 0):
                regimes.append({"min_exemplars": lo, **self._fit_regime(X[rows], y[rows])})
        if not regimes:   # too few rows in every regime: one model for all
            regimes.append({"min_exemplars": 0, **self._fit_regime(X, y)})
        self.regimes_ = regimes
        self.n_features_in_ = X.shape[1]
        return self

    def _fit_regime(self, X: np.ndarray, y: np.ndarray) -> dict[str, Any]:
        terms = []
        for name in self.features:
            values = X[:, _COLUMN[name]]
            present = values[values >= 0] if name in OPTIONAL_FEATURES else values
            knots = np.unique(np.round(np.quantile(present, np.linspace(0, 1, self.n_knots + 1)), 6)) if present.size else np.array([])
            if knots.size < 2:
                continue   # constant (or never available) in the training data: says nothing
            terms.append({"feature": name, "direction": DIRECTIONS[name], "knots": knots.tolist(),
                          "optional": name in OPTIONAL_FEATURES and bool((values < 0).any())})
        basis, signs, owners = self._design(X, terms)
        target = y - X[:, _COLUMN[OFFSET_FEATURE]]
        if basis.shape[1]:
            regression = Ridge(alpha=self.alpha, positive=True).fit(basis, target)
            coef, intercept = regression.coef_ * signs, float(regression.intercept_)
        else:
            coef, intercept = np.zeros(0), float(target.mean())
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
                x = X[:, _COLUMN[term["feature"]]]
                term["missing"] = round(float(np.mean(sum(w * r for w, r in zip(weights, _ramps(x, term["knots"]))))), 6)
        return {"intercept": round(intercept, 6), "terms": terms}

    @staticmethod
    def _design(X: np.ndarray, terms: list[dict]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Ramp columns, the sign each must carry, and (term, segment) owning each (-1: missing)."""
        columns, signs, owners = [], [], []
        for t_index, term in enumerate(terms):
            x = X[:, _COLUMN[term["feature"]]]
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
        counts = check_array(X)[:, _COLUMN[COUNT_FEATURE]]
        return np.clip(np.searchsorted(lows, counts, side="right") - 1, 0, len(lows) - 1)

    def decision_terms(self, X) -> dict[str, np.ndarray]:
        """Each term's contribution (share of marks) per answer, plus intercept and offset."""
        X = check_array(X)
        which = self.regime_of(X)
        parts: dict[str, np.ndarray] = {"intercept": np.zeros(X.shape[0]),
                                        OFFSET_FEATURE: X[:, _COLUMN[OFFSET_FEATURE]].copy()}
        for index, regime in enumerate(self.regimes_):
            rows = which == index
            if not rows.any():
                continue
            parts["intercept"][rows] = regime["intercept"]
            for term in regime["terms"]:
                x = X[rows, _COLUMN[term["feature"]]]
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
                "n_knots": int(self.n_knots),
                "regimes": [{"min_exemplars": r["min_exemplars"], "intercept": r["intercept"],
                             "terms": [dict(t) for t in r["terms"]]} for r in self.regimes_]}

    @classmethod
    def from_dict(cls, data: dict[str, Any], source: str = "<rubric>") -> "LearnedScorer":
        """A fitted scorer from a rubric's `[model]` table; RubricError naming the field if malformed."""
        def bad(where: str, problem: str) -> RubricError:
            return RubricError(source, f"model.{where}" if where else "model", f"{problem}; run `grader tune` again to rewrite it")

        if data.get("kind") != MODEL_KIND or data.get("version") != MODEL_VERSION:
            raise bad("kind", f"expected kind = {MODEL_KIND!r} and version = {MODEL_VERSION}, got {data.get('kind')!r} {data.get('version')!r}")
        scorer = cls(alpha=_number(data.get("alpha", 3.0), "alpha", bad), n_knots=int(_number(data.get("n_knots", 4), "n_knots", bad)))
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
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise bad(where, f"must be a number (got {value!r})")
    return float(value)


def _list(value, where: str, bad) -> list:
    if not isinstance(value, list):
        raise bad(where, "must be a list of numbers")
    return value


# -- using a tuned rubric ----------------------------------------------------------------------

def scorer_for(rubric: Rubric, values: np.ndarray | None = None):
    """The scorer `grade()` uses when none is given: the tuned model when the rubric has a
    `[model]`, else the untuned RuleScorer (fitted on `values`, the batch's feature matrix)."""
    if rubric.model:
        return LearnedScorer.from_dict(rubric.model, rubric.source)
    scorer = RuleScorer()
    return scorer.fit(values) if values is not None else scorer.fit(np.zeros((1, len(FEATURE_NAMES))))


def learned_cap(rubric: Rubric, flags) -> float:
    """The highest share of marks the flags allow, with caps raised by `grader tune` applied."""
    return cap_for(flags, rubric.model.get("caps") if rubric.model else None)


# -- graded answers ----------------------------------------------------------------------------

@dataclass(frozen=True)
class GradedRow:
    answer: Answer
    score: float


def read_graded(path: str | Path, rubric: Rubric) -> tuple[list[GradedRow], list[Answer]]:
    """Teacher-graded answers from a CSV (student_id, question_id, answer, score).

    Returns (graded rows, answers left out: blank, unreadable or without a score). Raises
    InputError naming the file, line and column for a missing score column, a score that is not
    a number or outside 0..max, or a question the rubric does not have.
    """
    path = Path(path)
    scores = _score_column(path)
    answers = read_csv(path)
    rows, left_out = [], []
    for answer in answers:
        line = int(answer.source.rsplit(":", 1)[1])
        raw = scores.get(line, "")
        if rubric.question(answer.question_id) is None:
            known = ", ".join(q.id for q in rubric.questions[:8]) + (", ..." if len(rubric.questions) > 8 else "")
            raise InputError(f"{path}: line {line}: question {answer.question_id!r} is not in the rubric {rubric.source} "
                             f"(it has {known}); add the question to the rubric or remove the row")
        if answer.problem is not None or not raw:
            left_out.append(answer)
            continue
        try:
            score = float(raw)
        except ValueError:
            score = math.nan
        limit = rubric.max_score(answer.question_id)
        if not math.isfinite(score) or not 0 <= score <= limit:
            raise InputError(f"{path}: line {line}: column score is {raw!r}; give a number from 0 to {limit:g} "
                             "(or leave it empty to skip the answer)")
        rows.append(GradedRow(answer, score))
    return rows, left_out


def _score_column(path: Path) -> dict[int, str]:
    """line number -> the score cell (read_csv numbers rows the same way)."""
    return {line: normalize(row["score"])
            for line, row in csv_rows(path, ("student_id", "question_id", "answer", "score"), what="graded answers")}


# -- tuning ------------------------------------------------------------------------------------

@dataclass
class TuneResult:
    rubric: Rubric
    before: dict | None = None          # agreement of the rubric as it was (on the graded answers)
    after: dict | None = None           # cross-validated agreement of the tuned model (unseen questions)
    suggestions: dict[str, list[str]] = field(default_factory=dict)   # question id -> terms to consider
    caps: dict[str, float] = field(default_factory=dict)
    answers: int = 0
    questions: int = 0
    alpha: float = 1.0
    kept: str = ""                      # why the rubric was kept as given instead of the learned model


def plain_rubric(rubric: Rubric) -> Rubric:
    """The rubric without anything learned (no model, calibration or exemplars)."""
    return replace(rubric, model={}, questions=tuple(replace(q, calibration={}, exemplars=()) for q in rubric.questions))


def featurize(rubric: Rubric, answers: Sequence[Answer]) -> np.ndarray:
    """Feature matrix of a batch of answers, computed exactly as grade() computes it."""
    X = [(a.question_id, a.text) for a in answers]
    return AnswerFeatures(rubric).fit(X).transform(X)


def select_exemplars(rows: Sequence[GradedRow], rubric: Rubric, per_level: int = EXEMPLARS_PER_LEVEL) -> tuple[Exemplar, ...]:
    """Graded answers kept as exemplars: up to `per_level` per score step, in input order."""
    kept: dict[float, list[Exemplar]] = defaultdict(list)
    for row in rows:
        level = rubric.scale_for(row.answer.question_id).snap(row.score)
        if len(kept[level]) < per_level:
            kept[level].append(Exemplar(score=row.score, answer=row.answer.text))
    return tuple(e for level in sorted(kept) for e in kept[level])


def with_exemplars(rubric: Rubric, by_question: dict[str, Sequence[GradedRow]], per_level: int = EXEMPLARS_PER_LEVEL) -> Rubric:
    questions = tuple(replace(q, exemplars=select_exemplars(by_question.get(q.id, ()), rubric, per_level))
                      for q in rubric.questions)
    return replace(rubric, questions=questions)


def _crossfit_features(base: Rubric, rows: Sequence[GradedRow], rng: np.random.Generator, per_level: int,
                       sizes: Sequence[int] = SMALL_POOLS) -> np.ndarray:
    """Features of each graded answer as if the teacher had graded a few *other* answers to its
    question: each question's answers are split in two halves; exemplars from one half (a pool
    of one of `sizes` answers, 0 = all of them) score the other half, then the other way round.
    No answer is ever scored against itself or its own mark."""
    by_question: dict[str, list[int]] = defaultdict(list)
    for i, row in enumerate(rows):
        by_question[row.answer.question_id].append(i)
    halves: list[dict[str, list[int]]] = [{}, {}]
    for qid, indexes in by_question.items():
        order = list(rng.permutation(indexes))
        halves[0][qid], halves[1][qid] = order[0::2], order[1::2]
    F = np.zeros((len(rows), len(FEATURE_NAMES)))
    for pool, scored in ((0, 1), (1, 0)):
        exemplars = {}
        for qid, indexes in halves[pool].items():
            size = int(rng.choice(sizes)) or len(indexes)
            exemplars[qid] = [rows[i] for i in indexes[:size]]
        targets = [i for indexes in halves[scored].values() for i in indexes]
        if targets:
            F[targets] = featurize(with_exemplars(base, exemplars, per_level), [rows[i].answer for i in targets])
    return F


def fractions_of(rows: Sequence[GradedRow], rubric: Rubric) -> np.ndarray:
    return np.array([row.score / rubric.max_score(row.answer.question_id) for row in rows])


MIN_ANSWERS_TO_LEARN = 100
"""Fewer graded answers than this and the learned model is not adopted (unless forced): on a
small set, a model with dozens of terms and a cross-validated choice of its own penalty looks
better than it is (36 answers to the three Stakhanovism questions: cross-validated r 0.88, r 0.77
on the other students' answers, against 0.88 for the rubric as written)."""
MIN_PEARSON_GAIN = 0.02
"""...and it must beat the rubric as given, cross-validated, by this much Pearson r, RMSE no worse."""


def tune(rubric: Rubric, rows: Sequence[GradedRow], *, report: bool = True, alphas: Sequence[float] = ALPHAS,
         shrinkage: float | None = None, per_level: int = EXEMPLARS_PER_LEVEL, random_state: int = 0,
         force: bool = False) -> TuneResult:
    """Learn from graded answers; returns the tuned rubric (a new object) and what was learned.

    Exemplars and calibration of an earlier tune are replaced by what these graded answers show.
    `shrinkage` (answers' worth of prior weight on a zero offset) is estimated from the data by
    empirical Bayes when None. With report=True also measures agreement before (the rubric as
    given) and after (cross-validated by question).

    Unless `force`, the learned model is adopted only with at least MIN_ANSWERS_TO_LEARN graded
    answers and, when agreement is measured, a clear cross-validated gain over the rubric as given;
    otherwise result.rubric is the rubric as given and result.kept says why.
    """
    from .grading import grade

    rows = list(rows)
    if not rows:
        raise InputError("no graded answers to learn from; give a CSV with student_id, question_id, answer and score")
    base = plain_rubric(rubric)
    rng = np.random.default_rng(random_state)
    answers = [row.answer for row in rows]
    y = fractions_of(rows, rubric)
    groups = np.array([a.question_id for a in answers])
    n_questions = len(set(groups))

    # Every answer three times: as if its question had no graded answers, and scored against
    # a few / all of the graded answers in the other half of its question.
    flagged = grade(base, answers)           # flags (for the caps) and the features grade() sees
    zero_shot = _features_of(flagged, answers) if len({a.source for a in answers}) == len(answers) else None
    if zero_shot is None:
        zero_shot = featurize(base, answers)
    few_shot = _crossfit_features(base, rows, rng, per_level, SMALL_POOLS)
    many_shot = _crossfit_features(base, rows, rng, per_level, ALL_POOL)
    X = np.vstack([zero_shot, few_shot, many_shot])
    y3, groups3 = np.tile(y, 3), np.tile(groups, 3)

    estimator = LearnedScorer()
    alpha = estimator.alpha
    if n_questions >= 2:
        cv = GroupKFold(n_splits=min(CV_FOLDS, n_questions))
        search = GridSearchCV(estimator, {"alpha": list(alphas)}, cv=cv, scoring="neg_mean_squared_error")
        search.fit(X, y3, groups=groups3)
        alpha = search.best_params_["alpha"]
    model = clone(estimator).set_params(alpha=alpha).fit(X, y3)

    # Per-question calibration: the question's mean residual where it was seen with a few
    # exemplars, shrunk towards 0 as much as the questions' residuals actually differ.
    residuals = y - model.predict(few_shot)
    if shrinkage is None:
        shrinkage = _empirical_bayes_shrinkage(residuals, groups)
    by_question: dict[str, list[int]] = defaultdict(list)
    for i, qid in enumerate(groups):
        by_question[qid].append(i)
    tuned_questions = []
    for q in base.questions:
        if q.id in by_question:
            idx = by_question[q.id]
            offset = float(residuals[idx].sum() / (len(idx) + shrinkage))
            q = replace(q, calibration={"offset": round(offset, 6), "answers": float(len(idx))},
                        exemplars=select_exemplars([rows[i] for i in idx], rubric, per_level))
        tuned_questions.append(q)

    caps = _learn_caps(flagged, rows, rubric)
    model_data = model.to_dict()
    model_data.update(shrinkage=round(float(shrinkage), 3), answers=len(rows), questions=n_questions)
    if caps:
        model_data["caps"] = caps
    tuned = replace(rubric, model=model_data, questions=tuple(tuned_questions))

    result = TuneResult(tuned, caps=caps, answers=len(rows), questions=n_questions, alpha=alpha,
                        suggestions=suggest_concepts(rubric, rows))
    if report:
        result.before = _agreement_of(flagged if rubric == base else grade(rubric, answers), rows, rubric)
        if n_questions >= 2:
            predicted = cross_validated_fractions(X, y3, groups3, alpha)[: len(rows)]
            result.after = _cv_agreement(predicted, flagged, rows, rubric, caps)
    if not force:
        result.kept = _reason_to_keep(result)
        if result.kept:
            result.rubric = rubric
    return result


def _reason_to_keep(result: TuneResult) -> str:
    """Why the rubric as given should be kept instead of the learned model ('' to adopt it)."""
    if result.answers < MIN_ANSWERS_TO_LEARN:
        return (f"only {result.answers} graded answers; a learned model needs at least {MIN_ANSWERS_TO_LEARN} "
                "to be trusted on answers it has not seen")
    if result.before and result.after:
        gain = result.after["pearson"] - result.before["pearson"]
        if gain < MIN_PEARSON_GAIN or result.after["rmse"] > result.before["rmse"]:
            return (f"cross-validated agreement does not clearly improve (Pearson {result.before['pearson']:.3f} -> "
                    f"{result.after['pearson']:.3f}, RMSE {result.before['rmse']:.3f} -> {result.after['rmse']:.3f})")
    return ""


def _features_of(graded, answers: Sequence[Answer]) -> np.ndarray | None:
    """The feature matrix grade() computed, in the order of `answers` (None if one is missing)."""
    by_source = {g.source: g.features for g in graded}
    if any(not by_source.get(a.source) for a in answers):
        return None
    return np.array([[by_source[a.source][name] for name in FEATURE_NAMES] for a in answers])


def _empirical_bayes_shrinkage(residuals: np.ndarray, groups: np.ndarray) -> float:
    """Prior weight (in answers) for shrinking per-question mean residuals to 0: the within-
    question residual variance over the variance of the questions' true offsets (method of
    moments), clipped to SHRINKAGE_RANGE."""
    low, high = SHRINKAGE_RANGE
    names = np.unique(groups)
    if len(names) < 2 or len(residuals) <= len(names):
        return high
    means = np.array([residuals[groups == g].mean() for g in names])
    sizes = np.array([(groups == g).sum() for g in names])
    within = sum(((residuals[groups == g] - m) ** 2).sum() for g, m in zip(names, means)) / (len(residuals) - len(names))
    between = means.var() - np.mean(within / sizes)
    if between <= 0:
        return high
    return float(np.clip(within / between, low, high))


def cross_validated_fractions(X: np.ndarray, y: np.ndarray, groups: np.ndarray, alpha: float = 3.0,
                              n_splits: int = CV_FOLDS) -> np.ndarray:
    """Out-of-fold predictions, GroupKFold by question: each question's answers are predicted by
    a model fitted on the other questions only."""
    cv = GroupKFold(n_splits=min(n_splits, len(set(groups))))
    return cross_val_predict(LearnedScorer(alpha=alpha), X, y, groups=groups, cv=cv)


def _learn_caps(graded, rows: Sequence[GradedRow], rubric: Rubric) -> dict[str, float]:
    """Caps the teacher's marks contradict, raised to the 90th percentile of the marks of the
    answers carrying the flag. A flag seen on fewer than MIN_FLAGGED graded answers is judged
    together with the marks of all the other capped flags: how this teacher treats answers the
    flags catch (in a course where students copy textbook definitions, or write code, a "copied"
    or "gibberish" answer can be a good one). Flags still send the answers to review."""
    marks = _marks_by_source(rows, rubric)
    by_flag: dict[str, list[float]] = defaultdict(list)
    for result in graded:
        for code in set(result.flag_codes):
            if result.source in marks and SCORE_CAPS.get(code, 1.0) < 1.0:
                by_flag[code].append(marks[result.source])
    caps = {}
    for code, values in sorted(by_flag.items()):
        if len(values) < MIN_FLAGGED:
            values = values + [v for other, more in by_flag.items() if other != code for v in more]
        if len(values) >= MIN_FLAGGED:
            raised = round(float(np.quantile(values, 0.9)), 2)
            if raised > SCORE_CAPS[code]:
                caps[code] = raised
    return caps


def _marks_by_source(rows: Sequence[GradedRow], rubric: Rubric) -> dict[str, float]:
    return {row.answer.source: row.score / rubric.max_score(row.answer.question_id) for row in rows}


def _agreement_of(graded, rows: Sequence[GradedRow], rubric: Rubric) -> dict:
    teacher = {row.answer.source: row.score for row in rows}
    pairs = [(teacher[g.source], g.score) for g in graded if g.score is not None and g.source in teacher]
    y_true, y_pred = zip(*pairs) if pairs else ((), ())
    return agreement(y_true, y_pred, rubric.scale.step, max(rubric.max_score(q.id) for q in rubric.questions))


def _cv_agreement(predicted: np.ndarray, graded, rows: Sequence[GradedRow], rubric: Rubric, caps: dict[str, float]) -> dict:
    """Agreement of cross-validated fractions after the same caps and rounding grade() applies."""
    flags = {g.source: g.flags for g in graded}
    capped = replace(rubric, model={"caps": caps})
    y_true, y_pred = [], []
    for row, fraction in zip(rows, predicted):
        qid = row.answer.question_id
        fraction = min(float(fraction), learned_cap(capped, flags.get(row.answer.source, [])))
        y_true.append(row.score)
        y_pred.append(rubric.scale_for(qid).snap(fraction * rubric.max_score(qid)))
    return agreement(y_true, y_pred, rubric.scale.step, max(rubric.max_score(q.id) for q in rubric.questions))


# -- suggestions -------------------------------------------------------------------------------

def suggest_concepts(rubric: Rubric, rows: Sequence[GradedRow], limit: int = 3, high: float = 0.8,
                     min_answers: int = 4) -> dict[str, list[str]]:
    """Words and word pairs that high-scoring answers (>= `high` of the marks) often use and the
    rubric lacks (not in the prompt, model answers or concept phrases), more common in them than
    in the other answers: candidates for aliases or concepts. Question id -> phrases."""
    by_question: dict[str, list[GradedRow]] = defaultdict(list)
    for row in rows:
        by_question[row.answer.question_id].append(row)
    suggestions = {}
    for q in rubric.questions:
        graded = by_question.get(q.id, [])
        scale = rubric.max_score(q.id)
        good = [r for r in graded if r.score >= high * scale]
        rest = [r for r in graded if r.score < high * scale]
        if len(good) < min_answers:
            continue
        known = set()
        for text in (q.prompt, *q.model_answers, *[p for c in q.concepts for p in c.phrases]):
            known |= set(_terms(text)[0])
        good_counts, forms = _term_counts(good)
        rest_counts, _ = _term_counts(rest)
        candidates = []
        for term, count in good_counts.items():
            if count < max(2, 0.3 * len(good)) or any(part in known for part in term.split(" ")):
                continue
            share_good = count / len(good)
            share_rest = rest_counts.get(term, 0) / len(rest) if rest else 0.0
            if share_good - share_rest >= 0.2:
                candidates.append((-(share_good - share_rest), -count, forms[term].most_common(1)[0][0]))
        if candidates:
            suggestions[q.id] = [form for *_, form in sorted(candidates)[:limit]]
    return suggestions


def _terms(text: str) -> tuple[list[str], list[str]]:
    """Content stems + consecutive pairs, and the same as written."""
    # scikit-learn's full list here: words like "few" or "became" count as content for matching,
    # but are never worth proposing as a concept.
    tokens = [t for t in tokenize(text) if t.is_content and t.word.isalpha() and len(t.word) > 2
              and t.word not in ENGLISH_STOP_WORDS]
    stems = [t.stem for t in tokens]
    words = [t.word for t in tokens]
    return stems + [f"{a} {b}" for a, b in zip(stems, stems[1:])], words + [f"{a} {b}" for a, b in zip(words, words[1:])]


def _term_counts(rows: Sequence[GradedRow]) -> tuple[Counter, dict[str, Counter]]:
    counts: Counter[str] = Counter()
    forms: dict[str, Counter] = defaultdict(Counter)
    for row in rows:
        stems, words = _terms(row.answer.text)
        counts.update(set(stems))
        for s, w in zip(stems, words):
            forms[s][w] += 1
    return counts, forms


# -- evaluating ------------------------------------------------------------------------------

def evaluate(rubric: Rubric, rows: Sequence[GradedRow]) -> dict:
    """Grade the teacher-graded answers with the rubric and compare: {"overall", "questions",
    "not_scored"} (answers grade() left unscored, e.g. blank or unreadable, are counted apart)."""
    from .grading import grade
    from .metrics import agreement_report

    teacher = {row.answer.source: row.score for row in rows}
    graded = [g for g in grade(rubric, [row.answer for row in rows]) if g.source in teacher]
    scored = [g for g in graded if g.score is not None]
    report = agreement_report([g.question_id for g in scored], [teacher[g.source] for g in scored],
                              [g.score for g in scored], rubric.scale.step,
                              max(rubric.max_score(q.id) for q in rubric.questions),
                              order=[q.id for q in rubric.questions])
    report["not_scored"] = len(graded) - len(scored)
    return report
