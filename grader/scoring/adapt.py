"""Learning from a handful of the teacher's marks, on top of whatever the base scorer says.

`MarkAdapter` moves each question's scores toward the teacher's marks of that question:

    calibrated = base + shift + slope * (base - centre)          (shrunken per question)
    adapted    = calibrated + sum_j s_j r_j / (sum_j s_j + pull)   (exemplar credit)

where r_j is marked answer j's residual (its mark minus its calibrated score) and s_j the squared
cosine of the content-word stems of the answer and answer j: an answer much like a marked one
shares its residual. The shift is the question's mean residual shrunk by `n / (n + shift_prior)`
and the slope is a ridge slope with prior `slope_prior`, so three marks move a question a little
and ten move it more. The priors are chosen by leave-one-out on the marks themselves, pooled over
questions (each mark predicted from the *other* marks of its question), among a grid that includes
"learn nothing"; the adaptation is used only when it beats the base score's leave-one-out error
by MIN_GAIN, so marks that do not agree with each other change nothing.

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

# The grid leave-one-out chooses from (inf = not learned). Small on purpose: with 9 marks, choosing
# among 80 combinations (slopes and finer priors included) chose noise and lost 0.01-0.02 Pearson
# on dev_gaming_b at k=3 (development figures); slopes are available but not searched by default.
SHIFT_PRIORS = (2.0, 8.0, np.inf)
SLOPE_PRIORS = (np.inf,)
PULLS = (1.0, np.inf)
MIN_GAIN = 0.1
"""Relative cut in leave-one-out squared error the adaptation must reach to be used."""
MODEL_LIKE = 0.8


def content_stems(text: str) -> frozenset[str]:
    return frozenset(t.stem for t in tokenize(text) if t.is_content)


def stem_similarity(a: frozenset[str], b: frozenset[str]) -> float:
    """Cosine of the two answers' binary content-stem vectors."""
    return len(a & b) / np.sqrt(len(a) * len(b)) if a and b else 0.0


def _calibrate(base_marked, y_marked, shift_prior, slope_prior):
    """(shift, slope, centre) from a question's marks."""
    residuals = y_marked - base_marked
    n = len(residuals)
    shift = residuals.sum() / (n + shift_prior) if np.isfinite(shift_prior) else 0.0
    centre = float(base_marked.mean()) if n else 0.0
    spread = base_marked - centre
    slope = (spread @ (residuals - shift)) / (spread @ spread + slope_prior) if np.isfinite(slope_prior) and n > 1 else 0.0
    return float(shift), float(slope), centre


def _predict_question(base, stems, marked_base, marked_y, marked_stems, priors):
    """Adapted fractions of one question's answers from its marks (before the guards)."""
    shift_prior, slope_prior, pull = priors
    shift, slope, centre = _calibrate(marked_base, marked_y, shift_prior, slope_prior)
    calibrated = base + shift + slope * (base - centre)
    if not np.isfinite(pull) or not len(marked_y):
        return calibrated
    residuals = marked_y - (marked_base + shift + slope * (marked_base - centre))
    weights = np.array([[stem_similarity(s, m) ** 2 for m in marked_stems] for s in stems]).reshape(len(base), len(marked_y))
    return calibrated + (weights @ residuals) / (weights.sum(axis=1) + pull)


def _guard(adapted, base, caps, recalls):
    adapted = np.clip(adapted, 0.0, 1.0)
    # A capped (flagged) answer, or one in which the grader found nothing to credit, is never raised.
    adapted = np.where((caps < 1.0) | (base <= 0.0), np.minimum(adapted, base), adapted)
    return np.where(recalls >= MODEL_LIKE, np.maximum(adapted, base), adapted)   # a model-like one never lowered


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


class MarkAdapter(RegressorMixin, BaseEstimator):
    """Per-question calibration and exemplar credit from a few marks; see the module docstring."""

    def __init__(self, shift_priors: Sequence[float] = SHIFT_PRIORS, slope_priors: Sequence[float] = SLOPE_PRIORS,
                 pulls: Sequence[float] = PULLS, min_gain: float = MIN_GAIN):
        self.shift_priors = shift_priors
        self.slope_priors = slope_priors
        self.pulls = pulls
        self.min_gain = min_gain

    def fit(self, X, y):
        questions, texts, base, caps, recalls = _check_rows(X)
        y = np.asarray(y, dtype=float).ravel()
        if len(y) != len(base):
            raise ValueError(f"MarkAdapter: {len(base)} rows but {len(y)} marks")
        by_question: dict[str, list[int]] = defaultdict(list)
        for i, qid in enumerate(questions):
            by_question[qid].append(i)
        stems = [content_stems(t) for t in texts]
        errors = {}
        for priors in product(self.shift_priors, self.slope_priors, self.pulls):
            errors[priors] = self._loo_error(priors, by_question, stems, base, caps, recalls, y)
        nothing = (np.inf, np.inf, np.inf)
        self.base_error_ = float(((y - base) ** 2).mean()) if len(y) else 0.0
        best = min(errors, key=errors.get) if errors else nothing
        self.loo_error_ = float(errors.get(best, self.base_error_))
        self.gain_ = 1.0 - self.loo_error_ / self.base_error_ if self.base_error_ > 0 else 0.0
        self.priors_ = best if self.gain_ >= self.min_gain else nothing
        self.marks_ = {qid: {"base": base[idx].tolist(), "marks": y[idx].tolist(), "answers": [texts[i] for i in idx]}
                       for qid, idx in by_question.items()}
        return self

    def _loo_error(self, priors, by_question, stems, base, caps, recalls, y) -> float:
        squared = []
        for idx in by_question.values():
            idx = np.array(idx)
            for k in range(len(idx)):
                others = np.delete(idx, k)
                i = idx[k]
                adapted = _predict_question(base[[i]], [stems[i]], base[others], y[others], [stems[j] for j in others], priors)
                squared.append((_guard(adapted, base[[i]], caps[[i]], recalls[[i]])[0] - y[i]) ** 2)
        return float(np.mean(squared)) if squared else np.inf

    def predict(self, X) -> np.ndarray:
        check_is_fitted(self, "priors_")
        questions, texts, base, caps, recalls = _check_rows(X)
        adapted = base.copy()
        if all(np.isinf(p) for p in self.priors_):
            return adapted
        rows: dict[str, list[int]] = defaultdict(list)
        for i, qid in enumerate(questions):
            if qid in self.marks_:
                rows[qid].append(i)
        for qid, idx in rows.items():
            marked = self.marks_[qid]
            adapted[idx] = _predict_question(base[idx], [content_stems(texts[i]) for i in idx], np.array(marked["base"]),
                                             np.array(marked["marks"]), [content_stems(t) for t in marked["answers"]],
                                             self.priors_)
        return _guard(adapted, base, caps, recalls)

    def summary(self) -> str:
        """One line for the teacher: what was learned and how sure it is."""
        check_is_fitted(self, "priors_")
        n = sum(len(m["marks"]) for m in self.marks_.values())
        if all(np.isinf(p) for p in self.priors_):
            return (f"Your {n} marks of {len(self.marks_)} questions did not predict each other better than the grader "
                    f"(leave-one-out error {self.gain_:+.0%}): the other answers keep the grader's scores.")
        shift, slope, pull = self.priors_
        parts = [name for name, p in (("each question's level", shift), ("its spread", slope),
                                      ("credit from answers like yours", pull)) if np.isfinite(p)]
        return (f"Learned {', '.join(parts)} from your {n} marks of {len(self.marks_)} questions: "
                f"leave-one-out error on your marks {self.gain_:.0%} lower than the grader's.")

    def to_dict(self) -> dict[str, Any]:
        """Plain data (TOML-ready): the chosen priors (absent = not learned) and the marks."""
        check_is_fitted(self, "priors_")
        names = ("shift_prior", "slope_prior", "pull")
        return {"priors": {k: float(v) for k, v in zip(names, self.priors_) if np.isfinite(v)},
                "gain": round(self.gain_, 4), "questions": self.marks_}

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
        adapter = cls()
        priors = data.get("priors", {})
        adapter.priors_ = tuple(float(priors.get(k, np.inf)) for k in ("shift_prior", "slope_prior", "pull"))
        adapter.gain_ = float(data.get("gain", 0.0))
        adapter.marks_ = {qid: {"base": list(map(float, m["base"])), "marks": list(map(float, m["marks"])),
                                "answers": list(map(str, m["answers"]))} for qid, m in data.get("questions", {}).items()}
        return adapter
