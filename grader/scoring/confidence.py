"""Confidence: how sure a score is, 0..1."""

from __future__ import annotations

import numpy as np

from ..features.columns import COLUMN
from .rules import score_parts


def confidence(values: np.ndarray, fractions: np.ndarray, steps: np.ndarray) -> np.ndarray:
    """Lower near a rounding boundary between two score steps (`steps`: each answer's step as a
    share of its marks), when the concept evidence and the model-answer similarity disagree, and
    when an answer is unlike every model answer and exemplar: one that earns marks has nothing to
    compare it with, and a low score on real sentences that share few words with the model
    answers may be the same meaning in other words ("pops" for "bursts"), which the grader cannot
    see: at most 0.5, so it goes to the review queue."""
    parts = score_parts(values)
    offset = np.abs((fractions / steps) - np.round(fractions / steps))      # 0 on a step, 0.5 on a boundary
    boundary = 1.0 - 0.6 * offset                                            # 0.7..1
    agreement = 1.0 - 0.6 * np.abs(parts["concepts"] - parts["recall"])
    nearest_reference = np.maximum.reduce([values[:, COLUMN["word_cosine"]], values[:, COLUMN["char_cosine"]],
                                           values[:, COLUMN["exemplar_score"]]])
    unlike_references = (nearest_reference < 0.1) & (fractions > 0.2)
    sentences = (values[:, COLUMN["function_ratio"]] >= 0.2) & (values[:, COLUMN["content_words"]] >= np.log1p(3))
    other_words = sentences & (np.maximum(values[:, COLUMN["word_recall"]], nearest_reference) < 0.25) & (fractions <= 0.5)
    sure = boundary * agreement * (0.6 + 0.4 * parts["substance"]) * np.where(unlike_references, 0.6, 1.0)
    return np.clip(np.where(other_words, np.minimum(sure, 0.45), sure), 0.0, 1.0)
