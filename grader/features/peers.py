"""Peer signals: how an answer compares with the other answers to the same question in the batch.

These depend on the class being graded, by design: most students answer reasonably, so an answer
close to what the class says (and to the model answers) is more likely right, and the same words
mean more beside a class that uses them. An answer graded alone, or in another class, can get
other values (see README, "Class context"). No answers x answers matrix is ever formed: every
quantity is a row sum or a product with one (see `PeerSimilarities`), so a question's answers are
read a block of rows at a time, in two passes: the sums over the class, then each row against them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

import numpy as np
import scipy.sparse as sp

MIN_PEERS = 5
"""Answers a question needs in the batch before its class can say what an answer to it looks like."""


def peer_columns(words: PeerSimilarities, chars: PeerSimilarities, lengths: np.ndarray,
                 recall: np.ndarray) -> dict[str, np.ndarray]:
    """peer_* (agreement with the model answers' direction and the class), relative_* (the answer
    against the question's typical value in the batch), from both passes over the question's demoted
    unit word rows and unit character rows, its content_words and word_recall columns."""
    peer_words, peer_word_support = words.cosine_and_support()
    peer_chars, peer_char_support = chars.cosine_and_support()
    return {
        "peer_word_cosine": peer_words, "peer_char_cosine": peer_chars,
        "peer_word_support": peer_word_support, "peer_char_support": peer_char_support,
        "relative_length": lengths - np.median(lengths),
        "relative_recall": recall - recall.mean(),
        "relative_peer_cosine": peer_chars - peer_chars.mean(),
    }


class PeerSimilarities:
    """Two ways an answer agrees with its peers (rows v_i: the answers to one question,
    L2-normalised; `model`: its model-answer vectors), given a block of rows at a time:
    `first_pass` every block, then `second_pass` every block, then `cosine_and_support()`.

    - cosine with (model answers' direction + the other answers' centroid), both unit length;
    - mean similarity to the other answers, each weighted by its own closeness to the model answers.

    An answer with no peer gets its cosine with the model answers' direction for both. The sums over
    the rows are added up row after row in row order (np.add.at), the additions scipy's sums over all
    rows at once make, so blocks of any size give the same bits as one piece.
    """

    def __init__(self, model: sp.csr_matrix):
        direction = np.asarray(model.mean(axis=0)).ravel()
        self.length = np.linalg.norm(direction)
        self.direction = direction / self.length if self.length > 0 else direction
        self.total: np.ndarray | None = None      # sum of all rows
        self.weighted: np.ndarray | None = None   # sum of all rows, each weighted by its closeness
        # Per block, in row order (concatenated at the end, so each keeps scipy's dtype):
        self._to_model: list[np.ndarray] = []     # v_i . model direction
        self._own: list[np.ndarray] = []          # |v_i|^2
        self._to_total: list[np.ndarray] = []     # v_i . total
        self._to_weighted: list[np.ndarray] = []  # v_i . weighted

    def first_pass(self, vectors: sp.csr_matrix) -> None:
        """The next block of rows, for the sums."""
        to_model = np.asarray(vectors @ self.direction).ravel()
        weights = _closeness_weights(to_model)
        if self.total is None:
            self.total = np.zeros(vectors.shape[1], dtype=vectors.dtype)
            self.weighted = np.zeros(vectors.shape[1], dtype=np.result_type(vectors.dtype, weights.dtype))
        np.add.at(self.total, vectors.indices, vectors.data)
        np.add.at(self.weighted, vectors.indices, vectors.data * np.repeat(weights, np.diff(vectors.indptr)))
        self._to_model.append(to_model)
        self._own.append(np.asarray(vectors.multiply(vectors).sum(axis=1)).ravel())

    def second_pass(self, vectors: sp.csr_matrix) -> None:
        """The next block of rows again (the same rows, in the same order), against the sums."""
        self._to_total.append(np.asarray(vectors @ self.total).ravel())
        self._to_weighted.append(np.asarray(vectors @ self.weighted).ravel())

    def others(self) -> tuple[np.ndarray, np.ndarray]:
        """v_i . (sum of the other rows) and |sum of the other rows|: the others' sum is total - v_i."""
        total, own, to_total = self.total, np.concatenate(self._own), np.concatenate(self._to_total)
        others_norm = np.sqrt(np.clip(total @ total - 2 * to_total + own, 0.0, None))
        return to_total - own, others_norm

    def cosine_and_support(self) -> tuple[np.ndarray, np.ndarray]:
        to_model, own = np.concatenate(self._to_model), np.concatenate(self._own)
        n = len(to_model)
        if n < 2:
            return to_model.copy(), to_model.copy()
        dot_others, others_norm = self.others()
        has_others = others_norm > 1e-12
        safe = np.where(has_others, others_norm, 1.0)
        model_others = np.where(has_others, (self.direction @ self.total - to_model) / safe, 0.0)
        reference_sq = float(self.length > 0) + has_others + 2 * model_others   # |u + o/|o|| squared
        reference_norm = np.sqrt(np.clip(reference_sq, 0.0, None))
        dot = to_model + np.where(has_others, dot_others / safe, 0.0)
        cosine = np.divide(dot, reference_norm * np.sqrt(own), out=np.zeros(n),
                           where=(reference_norm > 0) & (own > 0))
        weights = _closeness_weights(to_model)
        weighted = np.concatenate(self._to_weighted) - own * weights
        support = weighted / (weights.sum() - weights)
        return cosine, support


def _closeness_weights(to_model: np.ndarray) -> np.ndarray:
    return np.clip(to_model, 1e-3, None)


def peer_margins(question_id: str, sizes: dict[str, int], closest: list[str], words: PeerSimilarities,
                 totals: dict[str, np.ndarray], unit_blocks: Iterable[tuple[slice, sp.csr_matrix]]) -> np.ndarray:
    """Per answer to one question: cosine with the centroid of the batch's answers to its closest
    other question minus cosine with the centroid of the other answers to its own question (itself
    left out). Short or overlapping model answers (one-line definitions) make the model-answer
    margins noisy; the class's answers show what an answer to each question looks like. NaN where
    either question has fewer than MIN_PEERS answers.

    `sizes`: answers per question; `words`: both passes over the question's demoted unit word rows;
    `totals`: each question's sum of those rows; `unit_blocks`: (rows, the rows' vectors) over the
    question, read only when the margins are computed."""
    n = sizes[question_id]
    margins = np.full(n, np.nan)
    if n < MIN_PEERS + 1:
        return margins
    dot_others, others_norm = words.others()
    own_sim = dot_others / np.maximum(others_norm, 1e-6)
    closest = np.array(closest, dtype=object)
    for rows, unit in unit_blocks:
        nearest = closest[rows]
        for other in set(nearest) - {""}:
            if sizes.get(other, 0) < MIN_PEERS:
                continue
            picked = np.flatnonzero(nearest == other)
            other_total = totals[other]
            other_sim = np.asarray(unit[picked] @ other_total).ravel() / max(np.linalg.norm(other_total), 1e-12)
            margins[rows.start + picked] = other_sim - own_sim[rows.start + picked]
    return margins
