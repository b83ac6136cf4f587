"""Agreement metrics against hand-computed values and scikit-learn / SciPy."""

import math

import numpy as np
import pytest
from scipy import stats
from sklearn.metrics import cohen_kappa_score

from grader.metrics import (adjacent_agreement, agreement, agreement_report, exact_agreement, format_table, json_ready,
                            pearson, quadratic_weighted_kappa, rmse, spearman, to_categories)


def test_pearson_and_rmse_by_hand():
    # y = (1, 2, 3), p = (1, 3, 2): deviations (-1, 0, 1) and (-1, 1, 0): r = 1 / (sqrt2 * sqrt2) = 0.5
    assert pearson([1, 2, 3], [1, 3, 2]) == pytest.approx(0.5)
    # errors 0, 1, 1: sqrt(2/3)
    assert rmse([1, 2, 3], [1, 3, 2]) == pytest.approx(math.sqrt(2 / 3))
    assert rmse([4, 4], [4, 4]) == 0.0


def test_spearman_uses_ranks():
    assert spearman([1, 2, 3, 4], [10, 20, 30, 1000]) == pytest.approx(1.0)
    y, p = [0, 1, 1, 2, 5, 3], [1, 1, 2, 2, 4, 5]
    assert spearman(y, p) == pytest.approx(stats.spearmanr(y, p).statistic)


def test_correlations_are_nan_when_undefined():
    assert math.isnan(pearson([3, 3, 3], [1, 2, 3]))
    assert math.isnan(spearman([1], [1]))
    assert math.isnan(rmse([], []))


def test_qwk_by_hand():
    # Categories 0..2 (max 2, step 1); y = (0, 1, 2), p = (0, 2, 2).
    # Observed: (0,0), (1,2), (2,2), each 1/3. Weights (i-j)^2/4: only (1,2) costs 1/4.
    # Marginals: y (1/3, 1/3, 1/3), p (1/3, 0, 2/3); expected disagreement sum_ij w_ij * y_i * p_j
    # = 1/3 * [(0 + 1 * 2/3) + (1/4 * 1/3 + 1/4 * 2/3) + (1 * 1/3 + 0)] = 1/3 * 5/4 = 5/12,
    # so kappa = 1 - (1/12) / (5/12) = 0.8.
    observed = (1 / 3) * (1 / 4)
    y_marg, p_marg = np.array([1, 1, 1]) / 3, np.array([1, 0, 2]) / 3
    w = np.array([[0, 1, 4], [1, 0, 1], [4, 1, 0]]) / 4
    expected = (w * np.outer(y_marg, p_marg)).sum()
    assert expected == pytest.approx(5 / 12)
    assert quadratic_weighted_kappa([0, 1, 2], [0, 2, 2], step=1, max_score=2) == pytest.approx(1 - observed / expected)
    assert quadratic_weighted_kappa([0, 1, 2], [0, 2, 2], step=1, max_score=2) == pytest.approx(0.8)


def test_qwk_matches_sklearn_on_the_half_point_grid():
    rng = np.random.default_rng(3)
    y = rng.integers(0, 11, size=200) / 2
    p = np.clip(y + rng.normal(0, 1.0, size=200), 0, 5)
    ours = quadratic_weighted_kappa(y, p, step=0.5, max_score=5)
    theirs = cohen_kappa_score(to_categories(y, 0.5, 5), to_categories(p, 0.5, 5), weights="quadratic")
    assert ours == pytest.approx(theirs)
    assert quadratic_weighted_kappa(y, y, 0.5, 5) == pytest.approx(1.0)


def test_qwk_rounds_predictions_to_the_grid_and_clips():
    # 4.8 -> 5.0, 6 -> 5 (clipped), -1 -> 0: all agree.
    assert quadratic_weighted_kappa([5, 5, 0, 2], [4.8, 6, -1, 2.1], 0.5, 5) == pytest.approx(1.0)


def test_exact_and_adjacent_agreement():
    y = [5, 4, 3, 0]
    p = [5, 4.4, 4.0, 2]           # same step: 5 (yes), 4.4 -> 4.5 (no), 4 (no), 2 (no)
    assert exact_agreement(y, p, 0.5, 5) == pytest.approx(0.25)
    assert adjacent_agreement(y, p) == pytest.approx(0.75)   # 0, 0.4, 1.0 within a point; 2 is not


def test_agreement_report_overall_and_per_question():
    report = agreement_report(["a", "a", "b", "b", "b"], [5, 3, 1, 2, 3], [5, 3, 1, 2, 4], order=["b", "a"])
    assert list(report["questions"]) == ["b", "a"]
    assert report["overall"]["n"] == 5
    assert report["questions"]["a"]["rmse"] == 0
    assert report["questions"]["b"]["rmse"] == pytest.approx(math.sqrt(1 / 3))
    assert set(agreement([1, 2], [1, 2])) == {"n", "pearson", "spearman", "rmse", "qwk", "exact", "adjacent"}
    lines = format_table(report)
    assert lines[0].split()[:3] == ["question", "n", "pearson"] and lines[1].startswith("overall")


def test_json_ready_turns_nan_into_null():
    assert json_ready({"a": math.nan, "b": [1.0], "c": {"d": math.nan}}) == {"a": None, "b": [1.0], "c": {"d": None}}
