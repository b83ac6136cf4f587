"""What the per-question signals read: one question's answers as vectors, and its references.

Built by the transformer (features/transformer.py) once per question of a batch; every signal
function takes a `QuestionBatch` and the columns computed before it, and returns its own columns.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from ..rubric import Question


@dataclass(frozen=True)
class References:
    """A question's model answers (and exemplars) as weighted vectors (see similarity.references_of)."""

    words: sp.csr_matrix          # L2-normalised word vectors, the question's own words demoted
    chars: sp.csr_matrix          # L2-normalised character n-gram vectors
    recall: sp.csr_matrix         # per model answer: L1-normalised idf weights of its single stems
    char_recall: sp.csr_matrix    # the same on character n-grams
    content_words: int            # content words of all model answers together
    demote: np.ndarray            # per word column: the prompt weight for the question's own words, else 1
    exemplars: tuple[sp.csr_matrix, np.ndarray] | None   # exemplar word vectors and their scores (0..1)
    key_terms: list[tuple[str, str]]   # (stem, word) of the model answers' rarest words
    answer_words: np.ndarray      # content words of each model answer
    precision: np.ndarray         # per word column: idf of single stems a model answer or the prompt uses, else 0
    unigram_idf: np.ndarray       # per word column: idf of single stems, else 0


@dataclass(frozen=True)
class QuestionBatch:
    """One question's answers in a batch, as the signals read them."""

    question: Question
    references: References
    counts: np.ndarray            # substance.answer_counts: one row per answer
    words: sp.csr_matrix          # word TF-IDF rows
    demoted: sp.csr_matrix        # the same with the question's own words demoted
    norms: np.ndarray             # L2 norms of `words` (1 where 0): cosines keep the undemoted length
    chars: sp.csr_matrix          # character n-gram TF-IDF rows, L2-normalised

    @property
    def size(self) -> int:
        return self.words.shape[0]
