"""Learning from a teacher's marks: `grader tune`.

What is learned, all stored in the rubric as plain TOML data (never pickles):

- `[model]`: a general model across questions, so questions nobody has graded yet benefit too.
  It is a sum of monotone piecewise-linear terms, one per feature (`LearnedScorer`):

      fraction = clip(intercept + sum_f term_f(x_f) + calibration_offset, 0, 1)
      term_f(x) = sum_k weights[k] * clip((x - knots[k]) / (knots[k+1] - knots[k]), 0, 1)

  (`missing` instead when a feature is not available: no concepts, no exemplars). Weights of
  "increasing" features (similarity, recall, coverage, ...) are non-negative, of "decreasing"
  ones (negated) non-positive, so adding a correct concept never lowers a score.
- per question with graded answers: `exemplars` (graded answers kept per score level; the
  `exemplar_score` feature compares new answers with them) and `calibration.offset`, the
  question's shrunken mean residual, which the `calibration_offset` feature carries to the model.
- `[model.caps]`: flag caps the teacher's marks contradict (e.g. answers flagged for copying the
  model answer that the teacher gave full marks) are raised; the flags still send answers to review.

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
from sklearn.base import BaseEstimator, RegressorMixin, clone
from sklearn.linear_model import Ridge
from sklearn.model_selection import GridSearchCV, GroupKFold, cross_val_predict
from sklearn.utils.validation import check_array, check_is_fitted

from .answers import Answer, InputError, csv_rows, read_csv
from .features import FEATURE_NAMES, AnswerFeatures
from .flags import SCORE_CAPS
from .metrics import agreement
from .rubric import Exemplar, Rubric, RubricError
from .scorer import RuleScorer
from .text import STOPWORDS, normalize, tokenize

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
}
MODEL_FEATURES = tuple(DIRECTIONS)
OPTIONAL_FEATURES = frozenset({"coverage", "exemplar_score"})   # -1 when not available
OFFSET_FEATURE = "calibration_offset"

ALPHAS = (0.3, 1.0, 3.0, 10.0, 30.0)
SHRINKAGE = 5.0              # calibration offset = sum of residuals / (answers + SHRINKAGE)
EXEMPLARS_PER_LEVEL = 10
CROSSFIT_SIZES = (3, 5, 10, 0)   # exemplar-pool sizes simulated while learning (0 = all)
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

    Learned attributes: `terms_` (feature, direction, knots, weights, missing), `intercept_`,
    `n_features_in_`. `to_dict()` / `from_dict()` convert to and from the rubric's `[model]`.
    """

    def __init__(self, alpha: float = 1.0, n_knots: int = 4, features: Sequence[str] = MODEL_FEATURES):
        self.alpha = alpha
        self.n_knots = n_knots
        self.features = features

    def fit(self, X, y):
        X = check_array(X)
        y = np.asarray(y, dtype=float).ravel()
        if X.shape[1] != len(FEATURE_NAMES):
            raise ValueError(f"X has {X.shape[1]} columns; expected the {len(FEATURE_NAMES)} of FEATURE_NAMES")
        if X.shape[0] != y.size:
            raise ValueError(f"X has {X.shape[0]} rows but y has {y.size}")
        terms = []
        for name in self.features:
            if name not in DIRECTIONS:
                raise ValueError(f"unknown feature {name!r}; choose from {', '.join(DIRECTIONS)}")
            values = X[:, _COLUMN[name]]
            present = values[values >= 0] if name in OPTIONAL_FEATURES else values
            knots = np.unique(np.round(np.quantile(present, np.linspace(0, 1, self.n_knots + 1)), 6)) if present.size else np.array([])
            if knots.size < 2:
                continue   # constant (or never available) in the training data: says nothing
            terms.append({"feature": name, "direction": DIRECTIONS[name], "knots": knots.tolist(),
                          "optional": name in OPTIONAL_FEATURES and bool((values < 0).any())})
        basis, signs, owners = self._design(X, terms)
        regression = Ridge(alpha=self.alpha, positive=True).fit(basis, y - X[:, _COLUMN[OFFSET_FEATURE]])
        coef = regression.coef_ * signs
        for t_index, term in enumerate(terms):
            segments = len(term["knots"]) - 1
            weights = np.zeros(segments)
            missing = 0.0
            for column in np.flatnonzero(owners[:, 0] == t_index):
                k = owners[column, 1]
                if k < 0:
                    missing += coef[column]
                else:
                    weights[k] += coef[column]
            term["weights"] = np.round(weights, 6).tolist()
            if term.pop("optional"):
                term["missing"] = round(float(missing), 6)
            elif term["feature"] in OPTIONAL_FEATURES:
                # Always available in training: when it is not, count the average contribution.
                x = X[:, _COLUMN[term["feature"]]]
                term["missing"] = round(float(np.mean(sum(w * r for w, r in zip(weights, _ramps(x, term["knots"]))))), 6)
        self.terms_ = terms
        self.intercept_ = round(float(regression.intercept_), 6)
        self.n_features_in_ = X.shape[1]
        return self

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

    def decision_terms(self, X) -> dict[str, np.ndarray]:
        """Each term's contribution (share of marks) per answer, plus intercept and offset."""
        check_is_fitted(self, "terms_")
        X = check_array(X)
        parts = {"intercept": np.full(X.shape[0], self.intercept_),
                 OFFSET_FEATURE: X[:, _COLUMN[OFFSET_FEATURE]].copy()}
        for term in self.terms_:
            x = X[:, _COLUMN[term["feature"]]]
            value = sum((w * r for w, r in zip(term["weights"], _ramps(x, term["knots"]))), np.zeros(x.size))
            if "missing" in term:
                value = np.where(x >= 0, value, term["missing"])
            parts[term["feature"]] = value
        return parts

    def predict(self, X) -> np.ndarray:
        return np.clip(sum(self.decision_terms(X).values()), 0.0, 1.0)

    # -- plain data for the rubric ---------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        check_is_fitted(self, "terms_")
        return {"kind": MODEL_KIND, "version": MODEL_VERSION, "alpha": float(self.alpha),
                "n_knots": int(self.n_knots), "intercept": self.intercept_,
                "terms": [dict(term) for term in self.terms_]}

    @classmethod
    def from_dict(cls, data: dict[str, Any], source: str = "<rubric>") -> "LearnedScorer":
        """A fitted scorer from a rubric's `[model]` table; RubricError naming the field if malformed."""
        def bad(where: str, problem: str) -> RubricError:
            return RubricError(source, f"model.{where}" if where else "model", f"{problem}; run `grader tune` again to rewrite it")

        if data.get("kind") != MODEL_KIND or data.get("version") != MODEL_VERSION:
            raise bad("kind", f"expected kind = {MODEL_KIND!r} and version = {MODEL_VERSION}, got {data.get('kind')!r} {data.get('version')!r}")
        scorer = cls(alpha=_number(data.get("alpha", 1.0), "alpha", bad), n_knots=int(_number(data.get("n_knots", 4), "n_knots", bad)))
        terms = data.get("terms", [])
        if not isinstance(terms, list):
            raise bad("terms", "must be a list of [[model.terms]] tables")
        parsed = []
        for i, term in enumerate(terms):
            where = f"terms[{i}]"
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
            parsed_term = {"feature": name, "direction": direction, "knots": knots, "weights": weights}
            if "missing" in term:
                if name not in OPTIONAL_FEATURES:
                    raise bad(f"{where}.missing", f"{name} is always available; remove the key")
                parsed_term["missing"] = _number(term["missing"], f"{where}.missing", bad)
            parsed.append(parsed_term)
        scorer.terms_ = parsed
        scorer.intercept_ = _number(data.get("intercept"), "intercept", bad)
        scorer.n_features_in_ = len(FEATURE_NAMES)
        return scorer


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
    raised = rubric.model.get("caps", {}) if rubric.model else {}
    return min([float(raised.get(f.code, SCORE_CAPS.get(f.code, 1.0))) for f in flags], default=1.0)


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


def _crossfit_features(base: Rubric, rows: Sequence[GradedRow], rng: np.random.Generator, per_level: int) -> np.ndarray:
    """Features of each graded answer as if the teacher had graded a few *other* answers to its
    question: each question's answers are split in two halves; one half's exemplars (a pool of
    3, 5, 10 or all) score the other half, then the other way round. No answer meets itself."""
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
            size = int(rng.choice(CROSSFIT_SIZES)) or len(indexes)
            exemplars[qid] = [rows[i] for i in indexes[:size]]
        targets = [i for indexes in halves[scored].values() for i in indexes]
        if targets:
            F[targets] = featurize(with_exemplars(base, exemplars, per_level), [rows[i].answer for i in targets])
    return F


def fractions_of(rows: Sequence[GradedRow], rubric: Rubric) -> np.ndarray:
    return np.array([row.score / rubric.max_score(row.answer.question_id) for row in rows])


def tune(rubric: Rubric, rows: Sequence[GradedRow], *, report: bool = True, alphas: Sequence[float] = ALPHAS,
         shrinkage: float = SHRINKAGE, per_level: int = EXEMPLARS_PER_LEVEL, random_state: int = 0) -> TuneResult:
    """Learn from graded answers; returns the tuned rubric (a new object) and what was learned.

    Exemplars and calibration of an earlier tune are replaced by what these graded answers show.
    With report=True also measures agreement before (the rubric as given) and after
    (cross-validated by question).
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

    zero_shot = featurize(base, answers)                      # questions seen with no exemplars
    few_shot = _crossfit_features(base, rows, rng, per_level)  # ... and with a few graded ones
    X = np.vstack([zero_shot, few_shot])
    y2, groups2 = np.concatenate([y, y]), np.concatenate([groups, groups])

    estimator = LearnedScorer()
    alpha = estimator.alpha
    if n_questions >= 2:
        cv = GroupKFold(n_splits=min(CV_FOLDS, n_questions))
        search = GridSearchCV(estimator, {"alpha": list(alphas)}, cv=cv, scoring="neg_mean_squared_error")
        search.fit(X, y2, groups=groups2)
        alpha = search.best_params_["alpha"]
    model = clone(estimator).set_params(alpha=alpha).fit(X, y2)

    # Per-question calibration: the shrunken mean residual where the question was seen with exemplars.
    residuals = y - model.predict(few_shot)
    by_question: dict[str, list[int]] = defaultdict(list)
    for i, qid in enumerate(groups):
        by_question[qid].append(i)
    graded_rows = {qid: [rows[i] for i in idx] for qid, idx in by_question.items()}
    tuned_questions = []
    for q in base.questions:
        if q.id in by_question:
            idx = by_question[q.id]
            offset = float(residuals[idx].sum() / (len(idx) + shrinkage))
            q = replace(q, calibration={"offset": round(offset, 6), "answers": float(len(idx))},
                        exemplars=select_exemplars(graded_rows[q.id], rubric, per_level))
        tuned_questions.append(q)

    flagged = grade(base, answers)
    caps = _learn_caps(flagged, rows, rubric)
    model_data = model.to_dict()
    model_data["answers"] = len(rows)
    model_data["questions"] = n_questions
    if caps:
        model_data["caps"] = caps
    tuned = replace(rubric, model=model_data, questions=tuple(tuned_questions))

    result = TuneResult(tuned, caps=caps, answers=len(rows), questions=n_questions, alpha=alpha,
                        suggestions=suggest_concepts(rubric, rows))
    if report:
        result.before = _agreement_of(grade(rubric, answers), rows, rubric)
        if n_questions >= 2:
            predicted = cross_val_predict(LearnedScorer(alpha=alpha), X, y2, groups=groups2,
                                          cv=GroupKFold(n_splits=min(CV_FOLDS, n_questions)))[: len(rows)]
            result.after = _cv_agreement(predicted, flagged, rows, rubric, caps)
    return result


def _learn_caps(graded, rows: Sequence[GradedRow], rubric: Rubric) -> dict[str, float]:
    """Caps the teacher's marks contradict: a flag on at least MIN_FLAGGED graded answers whose
    marks often exceed its cap gets the cap raised to the 90th percentile of those marks."""
    marks = _marks_by_source(rows, rubric)
    by_flag: dict[str, list[float]] = defaultdict(list)
    for result in graded:
        for code in result.flag_codes:
            if result.source in marks:
                by_flag[code].append(marks[result.source])
    caps = {}
    for code, values in sorted(by_flag.items()):
        default = SCORE_CAPS.get(code, 1.0)
        if default < 1.0 and len(values) >= MIN_FLAGGED:
            raised = round(float(np.quantile(values, 0.9)), 2)
            if raised > default:
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
            if share_good > share_rest:
                candidates.append((-(share_good - share_rest), -count, forms[term].most_common(1)[0][0]))
        if candidates:
            suggestions[q.id] = [form for *_, form in sorted(candidates)[:limit]]
    return suggestions


def _terms(text: str) -> tuple[list[str], list[str]]:
    """Content stems + consecutive pairs, and the same as written."""
    tokens = [t for t in tokenize(text) if t.is_content and t.word.isalpha() and len(t.word) > 2 and t.word not in STOPWORDS]
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
