"""Similarity signals: how much of the model answers (and of the teacher's exemplars) an answer says.

- `similarity`: recall (weighted share of the model answer's terms the answer uses) and cosine,
  on stemmed words and on character n-grams, against the best model answer;
- `exemplars`: the scores of the most similar teacher-graded exemplars (`grader tune`).
"""

from __future__ import annotations

import numpy as np

from ..rubric import Question
from ..text import rarest_words
from .batch import QuestionBatch, References
from .prepare import Tokenizer
from .vectors import WordwiseCharTfidf, l1_rows, l2_rows, presence, term_weights

EXEMPLAR_TEMPERATURE = 0.2   # exemplar_nearest: similarity 0.2 higher = e times the weight
EXEMPLAR_NEIGHBOURS = 5      # exemplar_score: the k most similar exemplars


def references_of(question: Question, tokenizer: Tokenizer, word_vectorizer, char_vectorizer: WordwiseCharTfidf,
                  unigram: np.ndarray, prompt_weight: float, max_score: float) -> References:
    """Weighted model-answer vectors (and exemplars) for one question."""
    prompt_stems = tokenizer.vocabulary.prompt_stems[question.id]
    texts = list(question.model_answers)
    prepared = [tokenizer.prepare(question.id, t) for t in texts]
    words = word_vectorizer.transform([p.content for p in prepared])
    demote = term_weights(word_vectorizer, prompt_stems, prompt_weight)
    words = l2_rows(words.multiply(demote).tocsr())
    chars = l2_rows(char_vectorizer.transform([p.novel_text for p in prepared]).tocsr())
    columns = word_vectorizer.vocabulary_
    idf = word_vectorizer.idf_.astype(np.float64)
    recall_weights = l1_rows((words > 0).multiply(idf * demote * unigram).tocsr())
    char_weights = l1_rows((chars > 0).multiply(char_vectorizer.idf_).tocsr())
    exemplars = None
    if question.exemplars:
        ex_prepared = [tokenizer.prepare(question.id, e.answer) for e in question.exemplars]
        ex_words = l2_rows(word_vectorizer.transform([p.content for p in ex_prepared]).multiply(demote).tocsr())
        exemplars = (ex_words, np.array([e.score / max_score for e in question.exemplars]))
    key_terms = rarest_words(texts, prompt_stems, lambda s: -idf[columns[s]] if s in columns else 0.0, limit=6)
    # Stems the answer may use without straying from the question: any model answer's or the prompt's.
    known = np.asarray((words > 0).sum(axis=0)).ravel() > 0
    known[[columns[s] for s in prompt_stems if s in columns]] = True
    return References(words=words, chars=chars, recall=recall_weights, char_recall=char_weights,
                      content_words=sum(len(p.content) for p in prepared), demote=demote,
                      exemplars=exemplars, key_terms=key_terms,
                      answer_words=np.array([len(p.content) for p in prepared], dtype=float),
                      precision=idf * unigram * known, unigram_idf=idf * unigram)


def similarity_columns(batch: QuestionBatch, done: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """word_recall, char_recall, word_cosine, char_cosine: the best over the model answers;
    reference_words: log(1 + content words) of the model answer the answer recalls best;
    word_precision: idf-weighted share of the answer's words that a model answer or the prompt uses."""
    ref = batch.references
    # Cosine with the question's words demoted on the answer side but the norm of the undemoted
    # answer: restating the question cannot be normalised back up to full length.
    word_cos = np.asarray((batch.demoted @ ref.words.T).todense()) / batch.norms[:, None]
    word_recall = np.asarray((presence(batch.words) @ ref.recall.T).todense())
    char_cos = np.asarray((batch.chars @ ref.chars.T).todense())
    char_recall = np.asarray((presence(batch.chars) @ ref.char_recall.T).todense())
    columns = {name: matrix.max(axis=1, initial=0.0) for name, matrix in
               (("word_recall", word_recall), ("char_recall", char_recall), ("word_cosine", word_cos),
                ("char_cosine", char_cos))}
    # The best match: most recalled, the shorter model answer on a tie ("nine" before "9 justices").
    recalled = 0.5 * (word_recall + char_recall) - 1e-6 * ref.answer_words[None, :]
    columns["reference_words"] = np.log1p(ref.answer_words[recalled.argmax(axis=1)]) if batch.size else np.zeros(0)
    present = presence(batch.words)
    total = present @ ref.unigram_idf
    columns["word_precision"] = np.divide(present @ ref.precision, total, out=np.zeros(batch.size), where=total > 0)
    return columns


def exemplar_columns(batch: QuestionBatch, done: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """exemplar_score (k nearest exemplars, similarity-weighted), exemplar_nearest (softmax over all
    of them, sharper), -1 without exemplars; exemplar_count."""
    n = batch.size
    exemplar_score, exemplar_nearest = np.full(n, -1.0), np.full(n, -1.0)
    if batch.references.exemplars is not None:
        ex_words, ex_scores = batch.references.exemplars
        sims = np.asarray((batch.demoted @ ex_words.T).todense()) / batch.norms[:, None]
        exemplar_score = weighted_neighbours(sims, ex_scores, EXEMPLAR_NEIGHBOURS)
        softmax = np.exp((sims - sims.max(axis=1, keepdims=True)) / EXEMPLAR_TEMPERATURE)
        exemplar_nearest = softmax @ ex_scores / softmax.sum(axis=1)
    return {"exemplar_score": exemplar_score, "exemplar_nearest": exemplar_nearest,
            "exemplar_count": np.full(n, float(len(batch.question.exemplars)))}


def weighted_neighbours(sims: np.ndarray, scores: np.ndarray, k: int = EXEMPLAR_NEIGHBOURS) -> np.ndarray:
    """Score estimate from the k most similar exemplars, weighted by similarity."""
    k = min(k, sims.shape[1])
    top = np.argsort(-sims, axis=1)[:, :k]
    top_sims = np.take_along_axis(sims, top, axis=1)
    weights = np.clip(top_sims, 1e-6, None)
    return (weights * scores[top]).sum(axis=1) / weights.sum(axis=1)
