"""Scoring: from the feature matrix to a fraction of each question's marks.

- rules: `RuleScorer`, the untuned scorer with fixed, documented weights, and `score_parts`;
- learned: `LearnedScorer`, the model `grader tune` fits, and its `[model]` TOML schema;
- caps: the score caps of the gaming flags;
- confidence: how sure a score is.

`scorer_for(rubric)` is the scorer grading uses when none is given.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Iterable

import numpy as np

from ..features.columns import FEATURE_NAMES
from ..rubric import Rubric
from .caps import SCORE_CAPS, cap_for
from .general import general_scorer
from .learned import LearnedScorer, ZeroStaysZero
from .rules import RuleScorer, score_parts

__all__ = ["SCORE_CAPS", "LearnedScorer", "RuleScorer", "cap_for", "learned_cap", "score_parts", "scorer_for"]


def scorer_for(rubric: Rubric):
    """The scorer `grade()` uses when none is given: the tuned model when the rubric has a
    `[model]` (RubricError naming the field when it is malformed); `scorer = "rules"` in the rubric
    asks for the untuned RuleScorer; otherwise the general model shipped in the package
    (scoring/general.py), learned from public graded answers of other subjects. A model `tune --force`
    adopted from too few answers never credits an answer the rubric's own scorer scores 0."""
    if rubric.model:
        learned = LearnedScorer.from_dict(rubric.model, rubric.source)
        if rubric.model.get("zero_stays_zero") is True:
            return ZeroStaysZero.around(learned, scorer_for(replace(rubric, model={})))
        return learned
    if rubric.scorer == "rules":
        return RuleScorer().fit(np.zeros((1, len(FEATURE_NAMES))))
    return general_scorer()


def learned_cap(rubric: Rubric, flag_codes: Iterable[str]) -> float:
    """The highest share of marks the flags allow, with caps raised by `grader tune` applied."""
    return cap_for(flag_codes, rubric.model.get("caps") if rubric.model else None)
