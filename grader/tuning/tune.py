"""Learning from a teacher's marks: `grader tune`.

What is learned, all stored in the rubric as plain TOML data (never pickles):

- `[model]`: a general model across questions, so questions nobody has graded yet benefit too
  (`LearnedScorer`, scoring/learned.py: monotone piecewise-linear terms, one per feature, one sum
  per regime of exemplar count).
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

`grade()` picks the tuned scorer automatically when the rubric has a `[model]` (scoring.scorer_for).
This package drives the grading pipeline (it grades the teacher's answers); the pipeline never
imports it.
Model selection and the agreement `grader tune` prints are cross-validated with scikit-learn
(GridSearchCV / cross_val_predict over GroupKFold by question), so they measure how well the
model does on questions it has never seen.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field, replace
from typing import Sequence

import numpy as np
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, GroupKFold, cross_val_predict

from ..answers import Answer, InputError
from ..features import FEATURE_NAMES, AnswerFeatures
from ..grading import grade
from ..metrics import agreement
from ..rubric import Exemplar, Rubric
from ..scoring import SCORE_CAPS, LearnedScorer, learned_cap
from ..scoring.adapt import empirical_bayes_prior
from .graded import GradedRow, fractions_of
from .suggest import suggest_concepts

ALPHAS = (0.3, 1.0, 3.0, 10.0, 30.0)
EXEMPLARS_PER_LEVEL = 10
SMALL_POOLS = (2, 3, 5, 7)      # exemplar-pool sizes simulated while learning ...
ALL_POOL = (0,)                 # ... and all the graded answers of the other half
SHRINKAGE_RANGE = (1.0, 100.0)
MIN_FLAGGED = 5              # graded answers with a flag needed before its cap may be raised
CV_FOLDS = 5


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
    learned: str = ""                   # what a few marks taught on top of it (tuning/few.py), in one line


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
    if len(rows) < MIN_ANSWERS_TO_LEARN:   # adopted only when forced: never credit what the base finds nothing in
        model_data["zero_stays_zero"] = True
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
    """Prior weight (in answers) for shrinking per-question mean residuals to 0 (scoring/adapt.py's
    empirical_bayes_prior), clipped to SHRINKAGE_RANGE: the high end when nothing can be compared."""
    return empirical_bayes_prior(residuals, groups, *SHRINKAGE_RANGE)


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
        fraction = min(float(fraction), learned_cap(capped, [f.code for f in flags.get(row.answer.source, [])]))
        y_true.append(row.score)
        y_pred.append(rubric.scale_for(qid).snap(fraction * rubric.max_score(qid)))
    return agreement(y_true, y_pred, rubric.scale.step, max(rubric.max_score(q.id) for q in rubric.questions))
