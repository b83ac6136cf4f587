"""Learning from a handful of the teacher's marks, on top of whatever the base scorer says.

`MarkAdapter` moves scores toward the teacher's marks in three layers:

    pooled     = base + c_shift + c_slope * (base - c_centre)               (one map for the rubric)
    calibrated = pooled + shift_q                                             (shrunken, per question)
    adapted    = calibrated + sum_j s_j r_j / (sum_j s_j + pull)              (exemplar credit)

The pooled map is learned from all the marks of the rubric: a grader miscalibrated on a new course
is usually off the same way on every question, so ten marks spread over four questions teach it
better than ten of one. Its shift and slope are ridge estimates shrunk toward the identity, as if
the shift had a prior of standard deviation `pooled_prior_sd` (consistent marks move it far, noisy
ones little); the slope is kept above -MAX_FLATTEN so the map stays increasing. shift_q is the
question's mean residual after the pooled map, shrunk by `n / (n + shift_prior)`, the prior
estimated from the marks (empirical Bayes: how much more the questions' mean residuals differ than
their noise explains). r_j is marked answer j's residual after both, and s_j the `sharpness`-th
power of how much more the answer shares content-word stems with marked answer j than two answers
to the question typically do (`relative`; the plain cosine without it): an answer much like a marked
one shares its residual, while the topic words every answer uses do not make a hidden shift.

What is learned is chosen by cross-validation on the marks themselves, among a small grid that
includes "learn nothing": each mark is predicted with the pooled map fitted on the *other
questions'* marks (so a map is kept only when it transfers across questions) and the per-question
parts fitted on the other marks of its question. The adaptation is used only when it cuts the
grader's error on the marks by `min_gain` *and* the cut is `min_z` standard errors of the paired
per-mark differences away from zero: with few or inconsistent marks that bar is high, so thin
evidence changes nothing. The bar depends on the base (`for_base`): the rule scorer's fixed
weights know nothing of a teacher's scale, and a model tuned on this course's marks was still taught
by marks of new questions (FOR_RULES: no standard-error bar, as measured on UNT), while the shipped
general model is calibrated on average on new courses and must be shown wrong clearly.

Guards, whatever was learned: an answer a flag caps, or one scored 0, is never raised (not above
the base score, so never above its cap), and a model-like answer (word recall of the model answer at least
MODEL_LIKE) is never lowered below its base score.

X rows: (question_id, text, base fraction after caps, cap, word recall of the model answer);
y: the teacher's marks as fractions of the question's marks.
"""

from __future__ import annotations

from collections import defaultdict
from itertools import product
from typing import Any, Sequence

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.utils.validation import check_is_fitted

from ..rubric import RubricError
from ..text import tokenize

ESTIMATED = -1.0
"""A shift prior estimated from the marks (empirical Bayes: how much more the questions' mean
residuals differ than their noise explains); a rubric of one question uses ONE_QUESTION_PRIOR."""
ONE_QUESTION_PRIOR = 8.0
# The grid cross-validation chooses from (inf = not learned), for the shipped general model, fitted
# to other courses' marks: on average it is calibrated already, so a correction must
# show itself clearly. Development figures (tests/fixtures/dev_subjects, ~25 answers per question):
# a linear map fitted on *all* of a subject's marks cut the general model's RMSE by at most 0.02 (its
# rubric-wide offsets were -0.03..+0.03 of the marks: a prior sd of 0.07 is generous), and with 12
# marks a gate of 1 standard error let chance offsets through (-0.01 to -0.02 Pearson).
SHIFT_PRIORS = (ESTIMATED, np.inf)
SLOPE_PRIORS = (np.inf,)
PULLS = (1.0, np.inf)
POOLED_PRIORS = (0.07, np.inf)
SHARPNESS = 2.0
MIN_GAIN = 0.1
"""Relative cut in cross-validated squared error the adaptation must reach to be used..."""
MIN_Z = 2.5
"""...and how many standard errors of the paired per-mark differences that cut must be..."""
MIN_Z_MAP = 2.5
"""...or, when the rubric-wide map is all that is learned, how many standard errors the marks' mean
offset from the grader must be (chance offsets of 12-60 marks on the dev subjects: at most 1.9)."""
FOR_RULES = {"shift_priors": (2.0, 8.0, np.inf), "pulls": (1.0, np.inf), "pooled_priors": (np.inf,),
             "relative": False, "min_z": 0.0, "min_z_map": 0.0}
"""The grid for the rule scorer, whose fixed weights know nothing of a teacher's scale: the grid
measured on UNT (k=10: 0.654 -> 0.738 Pearson) and the Stakhanovism sets (development figures);
there the stricter grid above lost most of UNT's gain (a per-question level is real there)."""
MAX_FLATTEN = 0.75
MODEL_LIKE = 0.8
NOTHING = (np.inf, np.inf, np.inf, np.inf)
PRIOR_NAMES = ("shift_prior", "slope_prior", "pull", "pooled_prior_sd")


def content_stems(text: str) -> frozenset[str]:
    return frozenset(t.stem for t in tokenize(text) if t.is_content)


def stem_similarity(a: frozenset[str], b: frozenset[str]) -> float:
    """Cosine of the two answers' binary content-stem vectors."""
    return len(a & b) / np.sqrt(len(a) * len(b)) if a and b else 0.0


def empirical_bayes_prior(residuals: np.ndarray, groups: np.ndarray, low: float = 1.0, high: float = np.inf) -> float:
    """Prior weight (in answers) for shrinking per-question mean residuals to 0: the within-
    question residual variance over the variance of the questions' true offsets (method of
    moments), clipped to [low, high]; `high` when the questions do not differ more than noise."""
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


def resolve_shift_prior(shift_prior: float, residuals: np.ndarray, groups: np.ndarray) -> float:
    """The number a grid's shift prior stands for: ESTIMATED is estimated from these residuals."""
    if shift_prior != ESTIMATED:
        return shift_prior
    return ONE_QUESTION_PRIOR if len(np.unique(groups)) < 2 else empirical_bayes_prior(residuals, groups)


def pooled_map(base_marked, y_marked, prior_sd) -> tuple[float, float, float]:
    """(shift, slope, centre) of the rubric-wide map from all its marks: ridge estimates shrunk toward
    the identity as if the shift had a prior of standard deviation `prior_sd` (a fraction of the marks),
    so the prior weighs residual variance / prior_sd^2 marks: consistent marks move the map far, noisy
    ones little (the slope's prior is scaled by the spread of a uniform score)."""
    n = len(y_marked)
    if not np.isfinite(prior_sd) or n < 2:
        return 0.0, 0.0, 0.0
    centre = float(base_marked.mean())
    residuals = y_marked - base_marked
    weight = max(float(residuals.var(ddof=1)), 1e-4) / prior_sd ** 2
    shift = residuals.sum() / (n + weight)
    spread = base_marked - centre
    slope = (spread @ (residuals - residuals.mean())) / (spread @ spread + weight / 12.0)
    return float(shift), float(max(slope, -MAX_FLATTEN)), centre


def apply_map(base, mapping) -> np.ndarray:
    shift, slope, centre = mapping
    return base + shift + slope * (base - centre)


def _calibrate(base_marked, y_marked, shift_prior, slope_prior):
    """(shift, slope, centre) of one question from its marks (after the pooled map)."""
    residuals = y_marked - base_marked
    n = len(residuals)
    shift = residuals.sum() / (n + shift_prior) if np.isfinite(shift_prior) else 0.0
    centre = float(base_marked.mean()) if n else 0.0
    spread = base_marked - centre
    slope = (spread @ (residuals - shift)) / (spread @ spread + slope_prior) if np.isfinite(slope_prior) and n > 1 else 0.0
    return float(shift), float(slope), centre


def _predict_question(pooled, weights, marked_pooled, marked_y, priors, sharpness, typical=0.0):
    """Adapted fractions of one question's answers (pooled map applied) from its marks, before the
    guards; `weights` are the stem cosines of each answer to each marked answer."""
    shift_prior, slope_prior, pull = priors[:3]
    shift, slope, centre = _calibrate(marked_pooled, marked_y, shift_prior, slope_prior)
    calibrated = pooled + shift + slope * (pooled - centre)
    if not np.isfinite(pull) or not len(marked_y):
        return calibrated
    residuals = marked_y - (marked_pooled + shift + slope * (marked_pooled - centre))
    weights = np.clip((weights - typical) / max(1.0 - typical, 1e-9), 0.0, 1.0) ** sharpness
    return calibrated + (weights @ residuals) / (weights.sum(axis=1) + pull)


def _guard(adapted, base, caps, recalls):
    adapted = np.clip(adapted, 0.0, 1.0)
    # A capped (flagged) answer, or one in which the grader found nothing to credit, is never raised.
    adapted = np.where((caps < 1.0) | (base <= 0.0), np.minimum(adapted, base), adapted)
    return np.where(recalls >= MODEL_LIKE, np.maximum(adapted, base), adapted)   # a model-like one never lowered


def _similarities(stems, marked_stems) -> np.ndarray:
    return np.array([[stem_similarity(s, m) for m in marked_stems] for s in stems], dtype=float).reshape(len(stems), len(marked_stems))


def _evidence(base_squared: np.ndarray, squared: np.ndarray) -> tuple[float, float, np.ndarray]:
    """(relative cut in mean squared error, its standard errors over the paired per-mark cuts, squared)."""
    if not len(squared):
        return 0.0, 0.0, squared
    base_error = base_squared.mean()
    gain = 1.0 - squared.mean() / base_error if base_error > 0 else 0.0
    cut = base_squared - squared
    spread = cut.std(ddof=1) / np.sqrt(len(cut)) if len(cut) > 1 else np.inf
    z = cut.mean() / spread if spread > 0 else (np.inf if cut.mean() > 0 else 0.0)
    return float(gain), float(z), squared


def typical_similarity(square: np.ndarray) -> float:
    """Mean similarity of distinct marked answers of a question: what any two answers to it share."""
    n = len(square)
    return float((square.sum() - np.trace(square)) / (n * (n - 1))) if n > 1 else 0.0


def _check_rows(X) -> tuple[list[str], list[str], np.ndarray, np.ndarray, np.ndarray]:
    rows = list(X)
    if any(len(row) != 5 for row in rows):
        raise ValueError("MarkAdapter expects rows of (question_id, text, base fraction, cap, model recall)")
    questions = [str(r[0]) for r in rows]
    texts = [str(r[1]) for r in rows]
    numbers = np.array([[float(r[2]), float(r[3]), float(r[4])] for r in rows], dtype=float).reshape(len(rows), 3)
    if not np.isfinite(numbers).all():
        raise ValueError("MarkAdapter: base fraction, cap and model recall must be finite numbers")
    return questions, texts, numbers[:, 0], numbers[:, 1], numbers[:, 2]


def cross_validated_errors(priors, by_question, similarity, base, caps, recalls, y, sharpness, relative=True) -> np.ndarray:
    """Each mark's squared error predicted from the others: the pooled map from the other
    questions' marks, the question's own parts (an estimated shift prior too) from the other marks."""
    squared = np.empty(len(y))
    questions = list(by_question.values())
    groups = np.empty(len(y), dtype=int)
    for q, idx in enumerate(questions):
        groups[idx] = q
    for q, idx in enumerate(questions):
        rest = np.concatenate([questions[o] for o in range(len(questions)) if o != q] or [np.zeros(0, int)])
        mapping = pooled_map(base[rest], y[rest], priors[3]) if len(rest) else (0.0, 0.0, 0.0)
        pooled = apply_map(base[idx], mapping)
        for k, i in enumerate(idx):
            others = np.delete(np.arange(len(idx)), k)
            typical = typical_similarity(similarity[q][np.ix_(others, others)]) if relative else 0.0
            kept = np.arange(len(y)) != i
            shift_prior = resolve_shift_prior(priors[0], (y - base)[kept], groups[kept])
            adapted = _predict_question(pooled[[k]], similarity[q][[k]][:, others], pooled[others], y[idx[others]],
                                        (shift_prior, *priors[1:]), sharpness, typical)
            squared[i] = (_guard(adapted, base[[i]], caps[[i]], recalls[[i]])[0] - y[i]) ** 2
    return squared


class MarkAdapter(RegressorMixin, BaseEstimator):
    """Rubric-wide and per-question calibration and exemplar credit from a few marks; see the module docstring.
    `MarkAdapter(**FOR_RULES)` on top of the rule scorer (`for_base`)."""

    def __init__(self, shift_priors: Sequence[float] = SHIFT_PRIORS, slope_priors: Sequence[float] = SLOPE_PRIORS,
                 pulls: Sequence[float] = PULLS, pooled_priors: Sequence[float] = POOLED_PRIORS,
                 sharpness: float = SHARPNESS, relative: bool = True, min_gain: float = MIN_GAIN, min_z: float = MIN_Z,
                 min_z_map: float = MIN_Z_MAP):
        self.shift_priors = shift_priors
        self.slope_priors = slope_priors
        self.pulls = pulls
        self.pooled_priors = pooled_priors
        self.sharpness = sharpness
        self.relative = relative
        self.min_gain = min_gain
        self.min_z = min_z
        self.min_z_map = min_z_map

    def fit(self, X, y):
        questions, texts, base, caps, recalls = _check_rows(X)
        y = np.asarray(y, dtype=float).ravel()
        if len(y) != len(base):
            raise ValueError(f"MarkAdapter: {len(base)} rows but {len(y)} marks")
        by_question: dict[str, list[int]] = defaultdict(list)
        for i, qid in enumerate(questions):
            by_question[qid].append(i)
        groups = {qid: np.array(idx) for qid, idx in by_question.items()}
        stems = [content_stems(t) for t in texts]
        similarity = [_similarities([stems[i] for i in idx], [stems[i] for i in idx]) for idx in groups.values()]
        base_squared = (y - base) ** 2
        self.base_error_ = float(base_squared.mean()) if len(y) else 0.0
        # A rubric-wide map is checked on questions it was not fitted on: it needs marks of two questions.
        pooled_priors = self.pooled_priors if len(groups) > 1 else (np.inf,)
        grid = sorted(product(self.shift_priors, self.slope_priors, self.pulls, pooled_priors),
                      key=lambda p: sum(np.isfinite(p)))   # on a tie, the candidate that learns less
        residuals = y - base
        spread = residuals.std(ddof=1) / np.sqrt(len(y)) if len(y) > 1 else np.inf
        offset_z = abs(residuals.mean()) / spread if spread > 0 else (np.inf if residuals.any() else 0.0)
        errors = {priors: cross_validated_errors(priors, groups, similarity, base, caps, recalls, y, self.sharpness,
                                                 self.relative) for priors in grid}
        candidates = []
        for priors, squared in errors.items():
            gain, _, _ = _evidence(base_squared, squared)
            # The rubric-wide map alone is one increasing map for every answer: its evidence is how far
            # the marks' mean offset is from 0, in standard errors (the paired cut is a weaker test).
            # Per-question parts must earn their place on top of the map they come with.
            map_only = (np.inf, np.inf, np.inf, priors[3])
            if priors == map_only:
                z = offset_z if np.isfinite(priors[3]) else 0.0
            else:
                z = _evidence(errors.get(map_only, base_squared), squared)[1]
            candidates.append((priors, gain, z, squared))
        passing = [c for c in candidates if c[1] >= self.min_gain and c[2] >= self._bar(c[0])]
        # The best candidate that clears its bar; without one, nothing is learned (the best is reported).
        chosen, self.gain_, self.z_, best_squared = min(passing or candidates, key=lambda c: c[3].mean())
        if not passing:
            chosen = NOTHING
        self.loo_error_ = float(best_squared.mean()) if len(y) else 0.0
        labels = np.array([qid for qid, idx in groups.items() for _ in idx])
        order = np.concatenate(list(groups.values()))
        self.priors_ = (resolve_shift_prior(chosen[0], (y - base)[order], labels), *chosen[1:])
        self.mapping_ = pooled_map(base, y, self.priors_[3])
        self.marks_ = {qid: {"base": base[idx].tolist(), "marks": y[idx].tolist(), "answers": [texts[i] for i in idx]}
                       for qid, idx in groups.items()}
        return self

    def _bar(self, priors) -> float:
        """Standard errors a candidate's evidence must reach: for the rubric-wide map alone, of the marks'
        mean offset; with per-question parts, of the paired per-mark cut in squared error."""
        return self.min_z_map if all(np.isinf(p) for p in priors[:3]) else self.min_z

    def predict(self, X) -> np.ndarray:
        check_is_fitted(self, "priors_")
        questions, texts, base, caps, recalls = _check_rows(X)
        if all(np.isinf(p) for p in self.priors_):
            return base.copy()
        adapted = apply_map(base, self.mapping_)
        rows: dict[str, list[int]] = defaultdict(list)
        for i, qid in enumerate(questions):
            if qid in self.marks_:
                rows[qid].append(i)
        for qid, idx in rows.items():
            marked = self.marks_[qid]
            marked_stems = [content_stems(t) for t in marked["answers"]]
            similarity = _similarities([content_stems(texts[i]) for i in idx], marked_stems)
            typical = typical_similarity(_similarities(marked_stems, marked_stems)) if self.relative else 0.0
            adapted[idx] = _predict_question(adapted[idx], similarity, apply_map(np.array(marked["base"]), self.mapping_),
                                             np.array(marked["marks"]), self.priors_, self.sharpness, typical)
        return _guard(adapted, base, caps, recalls)

    def summary(self) -> str:
        """One line for the teacher: what was learned and how sure it is."""
        check_is_fitted(self, "priors_")
        n = sum(len(m["marks"]) for m in self.marks_.values())
        if all(np.isinf(p) for p in self.priors_):
            bar = min(self.min_z, self.min_z_map)
            needed = f"{self.min_gain:.0%} at {bar:g} standard errors" if bar > 0 else f"{self.min_gain:.0%}"
            return (f"Your {n} marks of {len(self.marks_)} questions did not show the grader clearly wrong (the best "
                    f"correction cut its cross-validated error on them by {max(self.gain_, 0.0):.0%}, "
                    f"{max(self.z_, 0.0):.1f} standard errors; {needed} needed): the other answers keep the grader's scores.")
        shift, slope, pull, pooled = self.priors_
        parts = [name for name, p in ((self._map_words(), pooled), ("each question's level", shift), ("its spread", slope),
                                      ("credit from answers like yours", pull)) if np.isfinite(p)]
        return (f"Learned {', '.join(parts)} from your {n} marks of {len(self.marks_)} questions: "
                f"cross-validated error on your marks {self.gain_:.0%} lower than the grader's "
                f"({self.z_:.1f} standard errors; {'fairly sure' if self.z_ >= 2 else 'tentative'}).")

    def _map_words(self) -> str:
        shift, slope, _ = self.mapping_
        return f"a rubric-wide correction ({shift:+.0%} of the marks, spread x{1 + slope:.2f})"

    def to_dict(self) -> dict[str, Any]:
        """Plain data (TOML-ready): the chosen priors (absent = not learned), the pooled map and the marks."""
        check_is_fitted(self, "priors_")
        data = {"priors": {k: float(v) for k, v in zip(PRIOR_NAMES, self.priors_) if np.isfinite(v)},
                "gain": round(self.gain_, 4), "z": round(min(self.z_, 1e6), 4), "sharpness": float(self.sharpness),
                "relative": bool(self.relative),
                "questions": self.marks_}
        if np.isfinite(self.priors_[3]):
            data["pooled"] = dict(zip(("shift", "slope", "centre"), map(float, self.mapping_)))
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any], source: str = "<rubric>") -> "MarkAdapter":
        """The adapter a rubric's `[marks]` holds; RubricError naming the field when it is malformed."""
        try:
            return cls._from_dict(data)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise RubricError(source, "marks", f"is not what `grader tune` writes ({exc!r}); "
                              "tune again, or remove [marks] to grade without it") from None

    @classmethod
    def _from_dict(cls, data: dict[str, Any]) -> "MarkAdapter":
        relative = data.get("relative", False)   # [marks] written before relative similarity: absolute
        if not isinstance(relative, bool):
            raise ValueError("relative must be true or false")
        adapter = cls(sharpness=float(data.get("sharpness", SHARPNESS)), relative=relative)
        priors = data.get("priors", {})
        adapter.priors_ = tuple(float(priors.get(k, np.inf)) for k in PRIOR_NAMES)
        adapter.gain_ = float(data.get("gain", 0.0))
        adapter.z_ = float(data.get("z", 0.0))
        pooled = data.get("pooled", {})
        adapter.mapping_ = tuple(float(pooled.get(k, 0.0)) for k in ("shift", "slope", "centre"))
        if not all(np.isfinite(adapter.mapping_)):
            raise ValueError("pooled: shift, slope and centre must be finite numbers")
        adapter.marks_ = {qid: {"base": list(map(float, m["base"])), "marks": list(map(float, m["marks"])),
                                "answers": list(map(str, m["answers"]))} for qid, m in data.get("questions", {}).items()}
        return adapter


def for_base(rules: bool) -> MarkAdapter:
    """The adapter for a base scorer: the rule scorer's grid (FOR_RULES, also for a model tuned on
    the course's own marks) or the stricter one of the general model, calibrated on other courses."""
    return MarkAdapter(**FOR_RULES) if rules else MarkAdapter()
