"""`grader tune` with a handful of marks per question: too few for a general model, enough for
per-question calibration and exemplar credit on top of the rubric's own scorer
(scoring/adapt.py, MarkAdapter), chosen and checked by leave-one-out on the marks themselves."""

from __future__ import annotations

from dataclasses import replace
from typing import Sequence

from ..grading import grade
from ..marking import adapter_for, adapter_rows
from ..rubric import Rubric
from ..scoring.adapt import MarkAdapter
from .graded import GradedRow


def learn_from_marks(rubric: Rubric, rows: Sequence[GradedRow]) -> tuple[Rubric, MarkAdapter]:
    """The rubric with `[marks]`: what the marks teach on top of its scorer (anything an earlier
    tune put in `[marks]` is replaced), and the fitted adapter (its `summary()` is the line to print)."""
    base = replace(rubric, marks={})
    by_source = {g.source: g for g in grade(base, [row.answer for row in rows])}
    pairs = [(by_source[row.answer.source], row) for row in rows
             if row.answer.source in by_source and by_source[row.answer.source].raw_score is not None]
    adapter = adapter_for(base).fit(adapter_rows([g for g, _ in pairs], base),
                                [row.score / g.max_score for g, row in pairs])
    return replace(base, marks=adapter.to_dict()), adapter
