"""Agreement between the grader's scores and a teacher's: the figures `grader evaluate`, `grader
tune` and the benchmarks report.

- Pearson's r and Spearman's rho: do the two rank and space answers alike (scale-free);
- RMSE: typical distance in points;
- quadratic-weighted kappa (QWK): agreement on the score grid, corrected for chance, where a
  two-step miss costs four times a one-step miss; scores are mapped to integer categories on the
  rubric's step grid (0-5 in steps of 0.5 -> categories 0..10);
- exact agreement: same step on the grid; adjacent agreement: within one point (±1.0).

Undefined figures (a correlation of a constant, no answers) are NaN, shown as "-" and written as
null in JSON.
"""

from __future__ import annotations

import math
from collections import defaultdict
from typing import Iterable, Sequence

import numpy as np
from scipy import stats

ADJACENT_POINTS = 1.0
METRICS = ("n", "pearson", "spearman", "rmse", "qwk", "exact", "adjacent")


def _arrays(y_true, y_pred) -> tuple[np.ndarray, np.ndarray]:
    y_true = np.asarray(y_true, dtype=float).ravel()
    y_pred = np.asarray(y_pred, dtype=float).ravel()
    if y_true.shape != y_pred.shape:
        raise ValueError(f"y_true has {y_true.size} scores but y_pred has {y_pred.size}")
    return y_true, y_pred


def pearson(y_true, y_pred) -> float:
    """Pearson's r; NaN with fewer than two answers or when either side is constant."""
    y_true, y_pred = _arrays(y_true, y_pred)
    if y_true.size < 2 or np.ptp(y_true) == 0 or np.ptp(y_pred) == 0:
        return math.nan
    return float(np.corrcoef(y_true, y_pred)[0, 1])


def spearman(y_true, y_pred) -> float:
    """Spearman's rho (Pearson's r of the ranks, ties averaged); NaN as for pearson."""
    y_true, y_pred = _arrays(y_true, y_pred)
    if y_true.size < 2 or np.ptp(y_true) == 0 or np.ptp(y_pred) == 0:
        return math.nan
    return pearson(stats.rankdata(y_true), stats.rankdata(y_pred))


def rmse(y_true, y_pred) -> float:
    y_true, y_pred = _arrays(y_true, y_pred)
    if y_true.size == 0:
        return math.nan
    return float(np.sqrt(np.mean((y_true - y_pred) ** 2)))


def to_categories(scores, step: float, max_score: float) -> np.ndarray:
    """Scores -> integer categories on the grid 0, step, ..., max_score (clipped, nearest step)."""
    scores = np.clip(np.asarray(scores, dtype=float), 0.0, max_score)
    return np.rint(scores / step).astype(int)


def quadratic_weighted_kappa(y_true, y_pred, step: float = 0.5, max_score: float = 5.0) -> float:
    """Cohen's kappa with quadratic weights over the categories 0..max_score/step.

    1 is perfect agreement, 0 what chance gives. NaN when there is no answer or when the expected
    disagreement is zero (everyone, on both sides, in the same category).
    """
    y_true, y_pred = _arrays(y_true, y_pred)
    if y_true.size == 0:
        return math.nan
    k = int(round(max_score / step)) + 1
    a, b = to_categories(y_true, step, max_score), to_categories(y_pred, step, max_score)
    observed = np.zeros((k, k))
    np.add.at(observed, (a, b), 1.0)
    observed /= observed.sum()
    expected = np.outer(observed.sum(axis=1), observed.sum(axis=0))
    grid = np.arange(k)
    weights = (grid[:, None] - grid[None, :]) ** 2 / max((k - 1) ** 2, 1)
    denominator = (weights * expected).sum()
    if denominator == 0:
        return math.nan
    return float(1.0 - (weights * observed).sum() / denominator)


def exact_agreement(y_true, y_pred, step: float = 0.5, max_score: float = 5.0) -> float:
    """Share of answers given the same step on the grid."""
    y_true, y_pred = _arrays(y_true, y_pred)
    if y_true.size == 0:
        return math.nan
    return float(np.mean(to_categories(y_true, step, max_score) == to_categories(y_pred, step, max_score)))


def adjacent_agreement(y_true, y_pred, points: float = ADJACENT_POINTS) -> float:
    """Share of answers within `points` of the teacher's score (both ends included)."""
    y_true, y_pred = _arrays(y_true, y_pred)
    if y_true.size == 0:
        return math.nan
    return float(np.mean(np.abs(y_true - y_pred) <= points + 1e-9))


def agreement(y_true, y_pred, step: float = 0.5, max_score: float = 5.0) -> dict[str, float]:
    """All the figures for one set of answers, keyed as in METRICS."""
    y_true, y_pred = _arrays(y_true, y_pred)
    return {
        "n": int(y_true.size),
        "pearson": pearson(y_true, y_pred),
        "spearman": spearman(y_true, y_pred),
        "rmse": rmse(y_true, y_pred),
        "qwk": quadratic_weighted_kappa(y_true, y_pred, step, max_score),
        "exact": exact_agreement(y_true, y_pred, step, max_score),
        "adjacent": adjacent_agreement(y_true, y_pred),
    }


def agreement_report(question_ids: Sequence[str], y_true, y_pred, step: float = 0.5,
                     max_score: float = 5.0, order: Iterable[str] | None = None) -> dict:
    """{"overall": figures, "questions": {question_id: figures}}; questions in `order` first."""
    y_true, y_pred = _arrays(y_true, y_pred)
    rows: dict[str, list[int]] = defaultdict(list)
    for i, qid in enumerate(question_ids):
        rows[str(qid)].append(i)
    ranked = [q for q in (order or []) if q in rows] + sorted(q for q in rows if q not in set(order or []))
    return {
        "overall": agreement(y_true, y_pred, step, max_score),
        "questions": {q: agreement(y_true[rows[q]], y_pred[rows[q]], step, max_score) for q in ranked},
    }


def format_value(name: str, value: float) -> str:
    if name == "n":
        return str(int(value))
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if name in ("exact", "adjacent"):
        return f"{value:.0%}"
    return f"{value:.3f}"


def format_table(report: dict, label: str = "question") -> list[str]:
    """Plain-text table lines: the overall row, then one row per question."""
    header = [label, *METRICS]
    body = [["overall", *[format_value(m, report["overall"][m]) for m in METRICS]]]
    body += [[q, *[format_value(m, figures[m]) for m in METRICS]] for q, figures in report["questions"].items()]
    widths = [max(len(row[c]) for row in [header, *body]) for c in range(len(header))]
    lines = ["  ".join(cell.ljust(w) if c == 0 else cell.rjust(w) for c, (cell, w) in enumerate(zip(row, widths)))
             for row in [header, *body]]
    return lines


def json_ready(report):
    """The report with NaN replaced by None, so json.dumps writes null."""
    if isinstance(report, dict):
        return {k: json_ready(v) for k, v in report.items()}
    if isinstance(report, float) and math.isnan(report):
        return None
    return report
