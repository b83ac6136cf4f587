"""`AnswerFeatures`: (question_id, answer) pairs -> the feature matrix of features/columns.py.

A scikit-learn transformer: `fit` learns the word and character TF-IDF vocabularies from the model
answers, the prompts and the answers being graded; `transform` returns one row per answer (columns
`get_feature_names_out()`), and `analyze` also returns, per answer, which concepts were found and
the words that show it, which the feedback quotes.

X is a sequence of (question_id, answer_text) pairs, e.g. a list of tuples or an (n, 2) array.

Where the estimator contract cannot hold: an answer's features depend on the batch it is
transformed in (the peer and relative columns, the foreign-word share; see features/peers.py),
so `transform` of one answer alone differs from its row in the class's batch. That is a choice:
the class is context for each answer (README, "Class context").
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field, replace
from typing import Callable, Iterator, NamedTuple

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.feature_extraction.text import TfidfTransformer, TfidfVectorizer
from sklearn.utils.validation import check_is_fitted

from ..rubric import Question, Rubric
from ..runtime import SERIAL, Runtime
from .batch import QuestionBatch
from .columns import COLUMN, FEATURE_NAMES, SIGNALS, columns_of
from .concepts import ConceptMatcher, ConceptResult
from .contradictions import CONTRADICTED_SHARE, ReferenceClauses, contradicting_spans, matched_clauses, prepared_clauses
from .context import all_references, foreign_shares, foreign_terms, other_question_margins
from .peers import PeerSimilarities, peer_columns, peer_margins
from .short import ShortReference
from .prepare import Prepared, RubricVocabulary, Tokenizer, longest_run, references
from .similarity import exemplar_columns, references_of, similarity_columns
from .substance import answer_counts, substance_columns
from .vectors import CharCounts, WordwiseCharTfidf, count_word_terms, l2_rows, unigram_mask, word_terms


def calibration_columns(batch: QuestionBatch, done: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """calibration_offset: the question's offset learned by `grader tune`."""
    return {"calibration_offset": np.full(batch.size, batch.question.calibration.get("offset", 0.0))}


QuestionSignal = Callable[[QuestionBatch, dict[str, np.ndarray]], dict[str, np.ndarray]]
QUESTION_SIGNALS: dict[str, QuestionSignal] = {
    # In this order: a signal reads the columns of the ones before it (`done`).
    "similarity": similarity_columns,
    "substance": substance_columns,
    "exemplars": exemplar_columns,
    "calibration": calibration_columns,
}
"""The signals computed per question from its answers' vectors, each answer's from its own row (so a
block of rows at a time); "peers" is computed from sums over all of the question's answers
(peers.PeerSimilarities), "concepts", "contradictions" and "short" per answer. Every signal of
columns.py is one of these."""
if set(QUESTION_SIGNALS) | {"peers", "concepts", "contradictions", "short"} != set(SIGNALS):   # the table and the functions agree
    raise ImportError(f"features/columns.py names signals {SIGNALS}; QUESTION_SIGNALS has {tuple(QUESTION_SIGNALS)}")


class QuestionRows(NamedTuple):
    """What the per-question work gives for one question's answers, one entry (or row) per answer."""

    values: np.ndarray           # feature rows: the columns of QUESTION_SIGNALS and "peers"
    foreign: np.ndarray          # foreign_shares
    closest: list[str]           # other_question_margins: the other question most like the answer
    margins: np.ndarray          # ... and by how much (word, char)


@dataclass
class CorpusCounts:
    """The fitted corpus's counts (the rubric's texts, then the answers), kept whole: slicing the
    answers' rows off would copy them."""

    words: sp.csr_matrix | None   # word term counts (None once the questions' TF-IDF rows are made of them)
    chars: CharCounts         # character n-gram counts, as their two factors
    first_answer: int         # the row of the first answer


@dataclass
class Analysis:
    values: np.ndarray                          # (n_answers, len(FEATURE_NAMES))
    concepts: list[list[ConceptResult]] = field(default_factory=list)
    missing_terms: list[list[str]] = field(default_factory=list)  # model-answer words not used
    words: list[str] = field(default_factory=list)      # each answer's lowercase words joined by spaces
    content_runs: list[int] = field(default_factory=list)  # longest run of consecutive content words
    # Share of the answer's distinct content stems that neither the rubric (any question) nor two
    # other answers in the batch use: high for a paragraph about something else.
    foreign_shares: np.ndarray | None = None
    # The other rubric question each answer is most similar to, and by how much more than to its
    # own question: (word cosine, char cosine) with the model answers, and word cosine with the
    # batch's other answers to each question (NaN with fewer than MIN_PEERS answers to either);
    # ("", 0, 0, NaN) with a single question.
    other_questions: list[str] = field(default_factory=list)
    other_margins: np.ndarray | None = None


class AnswerFeatures(TransformerMixin, BaseEstimator):
    """Turn (question_id, answer) pairs into the numeric features of features/columns.py.

    Parameters
    ----------
    rubric : Rubric
        Questions with model answers and concepts.
    prompt_weight : float
        Weight of the question's own words in similarity (1 = like any word); restating the
        question should earn (almost) nothing.
    char_ngrams : tuple
        Range of character n-gram lengths.
    runtime : Runtime
        How a big batch may use the machine (grader/runtime.py); the features are the same either way.
    """

    def __init__(self, rubric: Rubric, prompt_weight: float = 0.15, char_ngrams: tuple[int, int] = (3, 5),
                 runtime: Runtime = SERIAL):
        self.rubric = rubric
        self.prompt_weight = prompt_weight
        self.char_ngrams = char_ngrams
        self.runtime = runtime

    def get_feature_names_out(self, input_features=None) -> np.ndarray:
        return np.asarray(FEATURE_NAMES, dtype=object)

    # -- fitting -------------------------------------------------------------------------------
    def fit(self, X, y=None):
        pairs = _pairs(X)
        tokenizer = Tokenizer(RubricVocabulary(self.rubric))
        self._fit_prepared(tokenizer, [tokenizer.prepare(qid, text) for qid, text in pairs])
        return self

    def fit_analyze(self, X) -> Analysis:
        """fit(X) then analyze(X), preparing each answer once (what grading a batch does)."""
        pairs = _pairs(X)
        tokenizer = Tokenizer(RubricVocabulary(self.rubric))
        prepared = [tokenizer.prepare(qid, text) for qid, text in pairs]
        return self._analyze_prepared(pairs, prepared, self._fit_prepared(tokenizer, prepared))

    def _fit_prepared(self, tokenizer: Tokenizer, answers: list[Prepared]) -> CorpusCounts:
        """Fit the vectorizers on the rubric's texts and the answers; returns the corpus's counts,
        rows as the vectorizers' transforms count them, so that analysing the same answers needs no
        second pass over their terms."""
        rubric = self.rubric
        texts = [tokenizer.prepare(q.id, text) for q in rubric.questions for text in references(q)]
        prompts = [tokenizer.prepare(q.id, q.prompt) for q in rubric.questions]
        corpus = texts + prompts + answers
        # Counted once: the TfidfVectorizer gets the vocabulary and idf of these counts (what
        # TfidfVectorizer.fit computes).
        vocabulary, word_counts = count_word_terms([p.content for p in corpus])
        weighting = TfidfTransformer(sublinear_tf=True).fit(word_counts)
        word_vectorizer = TfidfVectorizer(analyzer=word_terms, sublinear_tf=True, vocabulary=vocabulary)
        word_vectorizer.idf_ = weighting.idf_
        char_vectorizer = WordwiseCharTfidf(tuple(self.char_ngrams))
        char_counts = char_vectorizer.fit_factors([p.novel_text for p in corpus])
        unigram = unigram_mask(word_vectorizer)
        self.vocabulary_ = tokenizer.vocabulary
        self.word_vectorizer_, self.char_vectorizer_ = word_vectorizer, char_vectorizer
        self.references_ = {q.id: references_of(q, tokenizer, word_vectorizer, char_vectorizer, unigram,
                                                self.prompt_weight, rubric.max_score(q.id)) for q in rubric.questions}
        self.all_references_ = all_references(self.references_)
        self.foreign_terms_ = foreign_terms(word_vectorizer, unigram, len(corpus), self.vocabulary_.course)
        return CorpusCounts(word_counts, char_counts, len(texts) + len(prompts))

    # -- transforming --------------------------------------------------------------------------
    def transform(self, X):
        return self.analyze(X).values

    def analyze(self, X) -> Analysis:
        """Features and per-concept evidence for each (question_id, answer) pair."""
        check_is_fitted(self, "references_")
        pairs = _pairs(X)
        tokenizer = Tokenizer(self.vocabulary_)
        return self._analyze_prepared(pairs, [tokenizer.prepare(qid, text) for qid, text in pairs])

    def _analyze_prepared(self, pairs: list[tuple[str, str]], all_prepared: list[Prepared],
                          counts: CorpusCounts | None = None) -> Analysis:
        """`counts`: the corpus's counts when fitting made them (_fit_prepared)."""
        values = np.zeros((len(pairs), len(FEATURE_NAMES)))
        foreign = np.zeros(len(pairs))
        other_questions = [""] * len(pairs)
        other_margins = np.zeros((len(pairs), 3))
        by_question: dict[str, list[int]] = defaultdict(list)
        for index, (qid, _) in enumerate(pairs):
            by_question[qid].append(index)
        questions = [(self._question_or_fail(qid), rows) for qid, rows in by_question.items()]
        vocabulary = self.vocabulary_
        tokenizer = Tokenizer(vocabulary)
        matchers = {q.id: ConceptMatcher(q, vocabulary.phrase_stems, vocabulary.prompt_stems[q.id],
                                         self.word_vectorizer_.vocabulary_,
                                         [tokenizer.prepare(q.id, text) for text in q.model_answers])
                    for q, _ in questions}

        # Word vectors per question, weighted as transform would (numpy's vectorised log can differ
        # in the last bit with an element's position in the array), so per question.
        weighting = TfidfTransformer(sublinear_tf=True)
        weighting.idf_ = self.word_vectorizer_.idf_
        word_rows = {q.id: (self.word_vectorizer_.transform([all_prepared[i].content for i in rows]).tocsr()
                            if counts is None else weighting.transform(counts.words[np.add(rows, counts.first_answer)],
                                                                       copy=False).tocsr())
                     for q, rows in questions}
        if counts is not None:
            counts.words = None   # read no more: let its memory go before the forks below inherit it
        # Counted here, before the fork below: a worker that read the answers' tokens would copy
        # the pages holding them (copy-on-write), hundreds of MiB at 100,000 answers.
        question_counts = {q.id: answer_counts(vocabulary, q.id, [all_prepared[i] for i in rows]) for q, rows in questions}

        def char_rows(rows: list[int]) -> Callable[[slice], sp.csr_matrix]:
            """The character TF-IDF rows of a block of a question's answers (`rows`: their indexes)."""
            if counts is None:
                return lambda block: self.char_vectorizer_.transform([all_prepared[i].novel_text for i in rows[block]])
            return lambda block: self.char_vectorizer_.transform_counts(
                counts.chars.rows(np.add(rows[block], counts.first_answer)), copy=False)

        def per_question() -> list:
            done = {question.id: self._question_features(question, question_counts[question.id], word_rows[question.id],
                                                         char_rows(rows)) for question, rows in questions}
            # The margins need every question's sum of unit word rows: a last pass over the words.
            sizes = {question.id: len(rows) for question, rows in questions}
            totals = {qid: word_peers.total for qid, (_, word_peers) in done.items()}
            return [(rows, peer_margins(qid, sizes, rows.closest, word_peers, totals,
                                        self._unit_word_blocks(qid, word_rows[qid])))
                    for qid, (rows, word_peers) in done.items()]

        # Then what reads each answer's words in Python, one answer at a time (on a big batch a
        # forked process takes half of the answers), from the aliases each answer may hold.
        concept_candidates: list[list[int]] = [[] for _ in pairs]
        for question, rows in questions:
            for i, candidates in zip(rows, matchers[question.id].candidates(word_rows[question.id])):
                concept_candidates[i] = candidates

        references = {q.id: ReferenceClauses.of(q.model_answers) for q, _ in questions}
        shorts = {q.id: ShortReference.of(q, vocabulary.prompt_stems[q.id]) for q, _ in questions}

        def per_answer(start: int, stop: int) -> list:
            rows = []
            for i in range(start, stop):
                qid, p = pairs[i][0], all_prepared[i]
                found = matchers[qid].results(p, concept_candidates[i])
                # Fewer than two words in common with the model answers: nothing to invert (most
                # off-topic and blank-like answers; the clauses cost a pass over the tokens).
                # Nor when it has no word that could invert one (ReferenceClauses.may_invert).
                inverted, matched, model = [], 0, references[qid]
                if len(model.stems.intersection(p.content)) >= 2 and model.may_invert(p.words, p.stems):
                    own = prepared_clauses(p)
                    inverted = contradicting_spans(own, model.clauses, vocabulary.prompt_stems[qid])
                    if inverted:   # (the share is 0 without them, whatever the number matched)
                        matched = matched_clauses(own, model.clauses)
                if inverted and len(inverted) >= CONTRADICTED_SHARE * matched:
                    # An answer mostly inverted: its inverted clauses are no evidence of a concept.
                    found = [replace(r, status="negated") if r.status in ("found", "echo") and r.span and
                             any(a <= r.span[0] < b for a, b in inverted) else r for r in found]
                used = set(p.stems)
                rows.append((found, *matchers[qid].shares(found), len(inverted) / matched if matched else 0.0,
                             [word for term, word in self.references_[qid].key_terms if term not in used],
                             " ".join(p.words),   # as text.joined_words
                             longest_run(p.content_positions), shorts[qid].ceiling(p.text)))
            return rows

        # The questions' sparse products and counts need nothing from concept matching, nor it from
        # them: on a big batch a forked process does them meanwhile.
        with self.runtime.forked(len(pairs), per_question) as pending:
            per_answer_rows = self.runtime.split_map(per_answer, len(pairs))
            per_question_rows = pending.result() if pending is not None else per_question()
        for (question, rows), (done, margins) in zip(questions, per_question_rows):
            values[rows] = done.values
            foreign[rows] = done.foreign
            other_margins[rows, :2] = done.margins
            other_margins[rows, 2] = margins
            for i, other in zip(rows, done.closest):
                other_questions[i] = other
        concepts, coverage, negated, contradicted, missing_terms, words, runs, ceilings = map(list, zip(*per_answer_rows))
        values[:, COLUMN["short_ceiling"]] = ceilings
        values[:, COLUMN["coverage"]] = coverage
        values[:, COLUMN["negated"]] = negated
        values[:, COLUMN["contradicted"]] = contradicted
        return Analysis(values=values, concepts=concepts, missing_terms=missing_terms, words=words, content_runs=runs,
                        foreign_shares=foreign, other_questions=other_questions, other_margins=other_margins)

    def _question_or_fail(self, question_id: str) -> Question:
        question = self.rubric.question(question_id)
        if question is None:
            raise KeyError(f"question {question_id!r} is not in the rubric")
        return question

    def _question_features(self, question: Question, counts: np.ndarray, words: sp.csr_matrix,
                           char_rows: Callable[[slice], sp.csr_matrix]) -> tuple[QuestionRows, PeerSimilarities]:
        """Feature rows of one question's answers from their answer_counts, their word TF-IDF vectors
        and `char_rows(block)`, their character TF-IDF vectors a block at a time: every column of
        QUESTION_SIGNALS and "peers" (coverage and negated stay 0: concepts are matched per answer),
        the foreign shares and other-question margins; and the peer passes over the demoted unit word
        rows (peer_margins reads them). A block of rows at a time (Runtime.block_rows),
        so that the memory does not grow with the answers' length; the peer signals need two passes
        (peers.PeerSimilarities): the blocks' unit vectors are kept between them while they fit in
        Runtime.kept_bytes, else made again."""
        ref = self.references_[question.id]
        n = words.shape[0]
        values = np.zeros((n, len(FEATURE_NAMES)))
        foreign, margins, closest = np.zeros(n), np.zeros((n, 2)), []
        word_peers, char_peers = PeerSimilarities(ref.words), PeerSimilarities(ref.chars)
        blocks = [slice(start, min(start + self.runtime.block_rows, n)) for start in range(0, n, self.runtime.block_rows)]
        kept, kept_bytes = [], 0
        for k, rows in enumerate(blocks):
            batch, chars = self._question_batch(question, counts[rows], words[rows], char_rows(rows))
            done: dict[str, np.ndarray] = {}
            for signal, compute in QUESTION_SIGNALS.items():
                computed = compute(batch, done)
                if set(computed) != set(columns_of(signal)):
                    raise ValueError(f"signal {signal} computed {sorted(computed)}; columns.py declares {columns_of(signal)}")
                for name, column in computed.items():
                    values[rows, COLUMN[name]] = column
                    done[name] = values[rows, COLUMN[name]]
            foreign[rows] = foreign_shares(self.foreign_terms_, batch.words)
            near, margins[rows] = other_question_margins(self.all_references_, question.id, ref, batch.demoted, chars)
            closest += near
            unit = (l2_rows(batch.demoted), batch.chars)
            word_peers.first_pass(unit[0])
            char_peers.first_pass(unit[1])
            if kept is not None:
                kept.append(unit)
                kept_bytes += sum(m.data.nbytes + m.indices.nbytes for m in unit)
                # The blocks so far, extrapolated to all of them: past the budget, none is kept
                # (rather than holding the budget's worth until it is reached).
                if kept_bytes * len(blocks) / (k + 1) > self.runtime.kept_bytes:
                    kept = None   # made again for the second pass
            del batch, chars, unit
        for k, rows in enumerate(blocks):
            if kept is not None:
                unit_words, unit_chars = kept[k]
            else:
                batch, _ = self._question_batch(question, counts[rows], words[rows], char_rows(rows))
                unit_words, unit_chars = l2_rows(batch.demoted), batch.chars
            word_peers.second_pass(unit_words)
            char_peers.second_pass(unit_chars)
        for name, column in peer_columns(word_peers, char_peers, values[:, COLUMN["content_words"]],
                                         values[:, COLUMN["word_recall"]]).items():
            values[:, COLUMN[name]] = column
        return QuestionRows(values, foreign, closest, margins), word_peers

    def _question_batch(self, question: Question, counts: np.ndarray, words: sp.csr_matrix,
                        chars: sp.csr_matrix) -> tuple[QuestionBatch, sp.csr_matrix]:
        """A block of one question's answers as the signals read them, and its character TF-IDF rows
        before their second L2 normalisation (what other_question_margins reads)."""
        ref = self.references_[question.id]
        demoted = words.multiply(ref.demote).tocsr()
        norms = np.sqrt(np.asarray(words.multiply(words).sum(axis=1)).ravel())
        norms[norms == 0] = 1.0
        return QuestionBatch(question=question, references=ref, counts=counts, words=words, demoted=demoted,
                             norms=norms, chars=l2_rows(chars.tocsr())), chars

    def _unit_word_blocks(self, question_id: str, words: sp.csr_matrix) -> Iterator[tuple[slice, sp.csr_matrix]]:
        """(rows, their demoted word vectors, L2-normalised) over one question's answers, a block at a time."""
        demote, step = self.references_[question_id].demote, self.runtime.block_rows
        for start in range(0, words.shape[0], step):
            rows = slice(start, min(start + step, words.shape[0]))
            yield rows, l2_rows(words[rows].multiply(demote).tocsr())


def _pairs(X) -> list[tuple[str, str]]:
    return [(str(qid), str(text)) for qid, text in X]
