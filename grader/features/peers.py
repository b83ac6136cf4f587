"""Peer signals: how an answer compares with the other answers to the same question in the batch.

These depend on the class being graded, by design: most students answer reasonably, so an answer
close to what the class says (and to the model answers) is more likely right, and the same words
mean more beside a class that uses them. An answer graded alone, or in another class, can get
other values (see README, "Class context"). No answers x answers matrix is ever formed: every
quantity is a row sum or a product with it (`leave_one_out`).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from .batch import QuestionBatch
from .vectors import l2_rows

MIN_PEERS = 5
"""Answers a question needs in the batch before its class can say what an answer to it looks like."""


def peer_columns(batch: QuestionBatch, done: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """peer_* (agreement with the model answers' direction and the class), relative_* (the answer
    against the question's typical value in the batch)."""
    ref = batch.references
    peer_words, peer_word_support = peer_similarities(l2_rows(batch.demoted), ref.words)
    peer_chars, peer_char_support = peer_similarities(batch.chars, ref.chars)
    lengths, recall = done["content_words"], done["word_recall"]
    return {
        "peer_word_cosine": peer_words, "peer_char_cosine": peer_chars,
        "peer_word_support": peer_word_support, "peer_char_support": peer_char_support,
        "relative_length": lengths - np.median(lengths),
        "relative_recall": recall - recall.mean(),
        "relative_peer_cosine": peer_chars - peer_chars.mean(),
    }


def peer_similarities(vectors: sp.csr_matrix, model: sp.csr_matrix) -> tuple[np.ndarray, np.ndarray]:
    """Two ways an answer agrees with its peers (rows of `vectors`: the answers to one question,
    L2-normalised; `model`: its model-answer vectors).

    - cosine with (model answers' direction + the other answers' centroid), both unit length;
    - mean similarity to the other answers, each weighted by its own closeness to the model answers.

    An answer with no peer gets its cosine with the model answers' direction for both.
    """
    n = vectors.shape[0]
    direction = np.asarray(model.mean(axis=0)).ravel()
    length = np.linalg.norm(direction)
    direction = direction / length if length > 0 else direction
    to_model = np.asarray(vectors @ direction).ravel()
    if n < 2:
        return to_model.copy(), to_model.copy()
    # Never form the answers x answers similarity matrix (33,000 squared for a big question):
    # every quantity below is a row sum or a product with it, i.e. a matrix-vector product.
    own, total, dot_others, others_norm = leave_one_out(vectors)
    has_others = others_norm > 1e-12
    safe = np.where(has_others, others_norm, 1.0)
    model_others = np.where(has_others, (direction @ total - to_model) / safe, 0.0)
    reference_sq = float(length > 0) + has_others + 2 * model_others   # |u + o/|o|| squared
    reference_norm = np.sqrt(np.clip(reference_sq, 0.0, None))
    dot = to_model + np.where(has_others, dot_others / safe, 0.0)
    cosine = np.divide(dot, reference_norm * np.sqrt(own), out=np.zeros(n), where=(reference_norm > 0) & (own > 0))
    weights = np.clip(to_model, 1e-3, None)
    weighted = np.asarray(vectors @ (vectors.T @ weights)).ravel() - own * weights
    support = weighted / (weights.sum() - weights)
    return cosine, support


def peer_margins(by_question: dict[str, list[int]], unit_rows: dict[str, sp.csr_matrix],
                 other_questions: list[str]) -> np.ndarray:
    """Per answer: cosine with the centroid of the batch's answers to its closest other question
    minus cosine with the centroid of the other answers to its own question (itself left out).
    Short or overlapping model answers (one-line definitions) make the model-answer margins noisy;
    the class's answers show what an answer to each question looks like. NaN where either question
    has fewer than MIN_PEERS answers."""
    n = sum(len(rows) for rows in by_question.values())
    margins = np.full(n, np.nan)
    totals = {qid: np.asarray(unit.sum(axis=0)).ravel() for qid, unit in unit_rows.items()}
    closest = np.array(other_questions, dtype=object)
    for qid, rows in by_question.items():
        if len(rows) < MIN_PEERS + 1:
            continue
        unit, rows = unit_rows[qid], np.asarray(rows)
        _, _, dot_others, others_norm = leave_one_out(unit)
        own_sim = dot_others / np.maximum(others_norm, 1e-6)
        for other in set(closest[rows]) - {""}:
            if len(by_question.get(other, ())) < MIN_PEERS:
                continue
            picked = np.flatnonzero(closest[rows] == other)
            other_total = totals[other]
            other_sim = np.asarray(unit[picked] @ other_total).ravel() / max(np.linalg.norm(other_total), 1e-12)
            margins[rows[picked]] = other_sim - own_sim[picked]
    return margins


def leave_one_out(vectors: sp.csr_matrix) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """For the rows v_i of `vectors`: |v_i|^2, the sum of all rows, v_i . (sum of the other rows) and
    |sum of the other rows|. The others' sum is total - v_i, so no answers x answers matrix (33,000
    squared for a big question) is ever formed: only matrix-vector products."""
    own = np.asarray(vectors.multiply(vectors).sum(axis=1)).ravel()
    total = np.asarray(vectors.sum(axis=0)).ravel()
    to_total = np.asarray(vectors @ total).ravel()
    others_norm = np.sqrt(np.clip(total @ total - 2 * to_total + own, 0.0, None))
    return own, total, to_total - own, others_norm
