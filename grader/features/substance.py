"""Substance signals: is the answer written as real sentences that say something beyond the
question's words, without repeating itself, on the topic's vocabulary?"""

from __future__ import annotations

import numpy as np

from .batch import QuestionBatch
from .prepare import Prepared, RubricVocabulary

COUNTS = ("content", "words", "in_prompt", "distinct", "on_topic")
"""The columns of answer_counts."""


def answer_counts(vocabulary: RubricVocabulary, question_id: str, prepared: list[Prepared]) -> np.ndarray:
    """Per answer: content words, words, content words from the prompt, distinct content words,
    content words from the question's vocabulary (the columns of COUNTS). Counted in Python, set
    lookups over each answer's stems."""
    prompt_stems = vocabulary.prompt_stems[question_id]
    topic = vocabulary.topic_stems[question_id]
    return np.array([(len(p.content), len(p.words), sum(map(prompt_stems.__contains__, p.content)),
                      len(set(p.content)), sum(map(topic.__contains__, p.content))) for p in prepared],
                    dtype=np.float64).reshape(len(prepared), len(COUNTS))


def substance_columns(batch: QuestionBatch, done: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    n_content, n_words, in_prompt, distinct, on_topic = batch.counts.T
    n = batch.size

    def share(count: np.ndarray, of: np.ndarray) -> np.ndarray:
        return np.divide(count, of, out=np.zeros(n), where=of > 0)

    return {
        "novelty": share(n_content - in_prompt, n_content),
        "function_ratio": share(n_words - n_content, n_words),
        "content_words": np.log1p(n_content),
        "unique_ratio": share(distinct, n_content),
        "topic_density": share(on_topic, n_content),
    }
