"""Context signals for the flags: an answer against the rest of the rubric and the batch.

- foreign words: the share of an answer's distinct stems that neither the rubric (any question, its
  course reading) nor two other answers in the batch use: high for a paragraph about something else;
- other questions: the other rubric question an answer is most similar to, and by how much more
  than to its own (for the `wrong_question` flag).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from .batch import References
from .vectors import l2_rows, presence

MIN_REFERENCE_WORDS = 25
"""Model-answer content words below which other-question margins are not computed: a one-line
definition cannot tell related questions apart."""


@dataclass(frozen=True)
class ForeignTerms:
    """Column masks of the word vectorizer: single stems, and single stems that no rubric text uses
    and fewer than three documents of the batch contain ("foreign": the answer's own and at most one
    other). Words that other students use too are not foreign: peers stand in for the everyday
    vocabulary of the topic that the rubric does not list."""

    unigram: np.ndarray
    foreign: np.ndarray


def foreign_terms(vectorizer, unigram: np.ndarray, n_documents: int, known: frozenset[str]) -> ForeignTerms:
    # TfidfVectorizer keeps idf = ln((1 + n) / (1 + df)) + 1 (smooth_idf), not df: invert it.
    df = np.rint((1 + n_documents) / np.exp(vectorizer.idf_.astype(np.float64) - 1) - 1)
    foreign = unigram * (df < 3)
    known_columns = [column for term in known if (column := vectorizer.vocabulary_.get(term)) is not None]
    foreign[known_columns] = 0.0
    return ForeignTerms(unigram, foreign)


def foreign_shares(terms: ForeignTerms, words: sp.csr_matrix) -> np.ndarray:
    """Share of each answer's distinct content stems that are foreign terms."""
    present = presence(words)
    stems = np.asarray(present @ terms.unigram).ravel()
    foreign = np.asarray(present @ terms.foreign).ravel()
    return np.divide(foreign, stems, out=np.zeros_like(foreign), where=stems > 0)


@dataclass(frozen=True)
class AllReferences:
    """Every question's model answers in one matrix, rows grouped by question: one product per
    batch of answers gives their similarity to each question's."""

    ids: list[str]
    starts: np.ndarray   # first row of each question's group
    words: sp.csr_matrix
    chars: sp.csr_matrix


def all_references(references: dict[str, References]) -> AllReferences:
    ids = list(references)
    sizes = [references[qid].words.shape[0] for qid in ids]
    return AllReferences(ids=ids, starts=np.cumsum([0, *sizes[:-1]]),
                         words=sp.vstack([references[qid].words for qid in ids]).tocsr(),
                         chars=sp.vstack([references[qid].chars for qid in ids]).tocsr())


def other_question_margins(everything: AllReferences, question_id: str, own_reference: References,
                           words: sp.csr_matrix, chars: sp.csr_matrix) -> tuple[list[str], np.ndarray]:
    """For each answer: the other question whose model answers it is most similar to (word
    cosine), and how much more similar it is to that question than to its own (word, char).
    `words` has the answer's own question's words demoted, as for word_cosine: an answer that
    repeats its prompt must not look closer to another question whose model answer uses them."""
    n = words.shape[0]
    if len(everything.ids) < 2:
        return [""] * n, np.zeros((n, 2))
    own = everything.ids.index(question_id)
    # Best model answer per question: the max over each question's group of columns.
    word_sims = np.maximum.reduceat((l2_rows(words) @ everything.words.T).toarray(), everything.starts, axis=1)
    char_sims = np.maximum.reduceat((chars @ everything.chars.T).toarray(), everything.starts, axis=1)
    own_word, own_char = word_sims[:, own].copy(), char_sims[:, own].copy()
    word_sims[:, own] = -np.inf
    closest = word_sims.argmax(axis=1)
    rows = np.arange(n)
    margins = np.column_stack([word_sims[rows, closest] - own_word, char_sims[rows, closest] - own_char])
    if own_reference.content_words < MIN_REFERENCE_WORDS:
        margins[:] = np.nan   # a one-line definition cannot tell related questions apart
    return [everything.ids[k] for k in closest], margins
