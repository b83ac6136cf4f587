"""Features of answers, computed in batch: how much of the model answers and rubric concepts an
answer covers, and whether it is written as real sentences.

`AnswerFeatures` is a scikit-learn transformer: `fit` learns the word and character TF-IDF
vocabularies from the model answers and the answers being graded; `transform` returns one row of
numbers per answer (columns in FEATURE_NAMES), and `analyze` also returns, per answer, which
concepts were found and the words that show it, which the feedback quotes.

X is a sequence of (question_id, answer_text) pairs, e.g. a list of tuples or an (n, 2) array.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections import defaultdict
from contextlib import nullcontext
from dataclasses import dataclass, field
from itertools import compress
from typing import Sequence

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.feature_extraction.text import CountVectorizer, TfidfTransformer, TfidfVectorizer

from .parallel import Forked, can_fork, split_map
from .rubric import Concept, Question, Rubric
from .text import NEGATIONS, STOPWORDS, match_tokens, rarest_words, sentence_spans, tokenize, word_matches

FEATURE_NAMES = (
    "word_recall",       # weighted share of the model answer's words the answer uses (best model answer)
    "char_recall",       # the same on character 3-5-grams: tolerant of spelling and word forms
    "word_cosine",       # TF-IDF cosine on stemmed words and word pairs (best model answer)
    "char_cosine",       # TF-IDF cosine on character n-grams
    "coverage",          # weighted share of rubric concepts found in substantive sentences
    "negated",           # weighted share of concepts only mentioned under a negation
    "novelty",           # share of content words that are not the question's own words
    "function_ratio",    # share of function words: real sentences have many, keyword lists none
    "content_words",     # log(1 + number of content words)
    "unique_ratio",      # distinct / all content words: low when a sentence is repeated
    "topic_density",     # share of content words from the question's vocabulary
    "exemplar_score",    # similarity-weighted mean score of teacher-graded exemplars (0..1), or -1
    # Peers: the other answers to the same question in the batch (most students answer reasonably).
    "peer_word_cosine",  # word cosine with the model answers' direction plus the other answers' centroid
    "peer_char_cosine",  # the same on character n-grams
    "peer_word_support", # mean word similarity to the other answers, each weighted by its closeness to the model answers
    "peer_char_support", # the same on character n-grams
    "relative_length",   # content_words minus the question's median in the batch (0 when alone)
    "calibration_offset",  # the question's offset learned by `grader tune` (share of marks; 0 untuned)
    "exemplar_nearest",      # exemplars' scores (0..1) weighted by softmax of word similarity (sharper than exemplar_score), or -1
    "relative_recall",       # word_recall minus the question's mean in the batch (0 when alone)
    "relative_peer_cosine",  # peer_char_cosine minus the question's mean in the batch (0 when alone)
    "exemplar_count",        # number of teacher-graded exemplars the question has (0 untuned)
)

# A negation before a concept that is followed by one of these verbs is about failing a target
# ("could not meet the quota"), which agrees with the model answers rather than contradicting them.
_FAILURE_VERBS = frozenset({"meet", "reach", "keep", "fulfil", "fulfill", "achiev", "hit", "match", "cope",
                            "afford", "becom", "make", "get", "receiv", "deliv", "sustain", "surviv",
                            # a remedy that failed affirms the problem: "couldn't fix low productivity"
                            "fix", "solv", "cure", "overcom", "remedi", "prevent", "end", "stop", "reduc"})
_NEGATION_WINDOW_BEFORE = 5
_NEGATION_WINDOW_AFTER = 3
_ECHO_CREDIT = 0.25   # a concept named only in a sentence that restates the question
_MIN_FUZZY_LEN = 5
_STATUS_RANK = {"found": 3, "echo": 2, "negated": 1}
_CREDIT = {"found": 1.0, "echo": _ECHO_CREDIT}   # of a concept's weight, by status
_EXEMPLAR_TEMPERATURE = 0.2   # exemplar_nearest: similarity 0.2 higher = e times the weight


@dataclass(frozen=True, slots=True)
class ConceptResult:
    """What the grader found for one rubric concept in one answer (immutable: the results for a
    concept an answer misses are one shared object)."""

    label: str
    weight: float
    status: str                 # found | echo | negated | missing
    evidence: str = ""          # the answer's own words around the match
    span: tuple[int, int] | None = None   # where the matched phrase stands in the answer text
    missing: str = ""           # the rubric's feedback line for a missing concept

    @property
    def credit(self) -> float:
        return _CREDIT.get(self.status, 0.0)

    def __reduce__(self):
        # Pickled as the tuple of its fields: a big batch's results cross between processes, and
        # this loads several times faster than the default (a dict of attributes per object).
        return ConceptResult, (self.label, self.weight, self.status, self.evidence, self.span, self.missing)


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


@dataclass(slots=True)
class _Prepared:
    """One text after tokenising: its tokens as parallel sequences (stems spelling-corrected) and
    derived strings. Columns rather than Token tuples: millions of tokens are made per run."""

    text: str
    words: Sequence[str]            # lowercase words, all tokens
    starts: Sequence[int]           # character offsets of the tokens in text
    ends: Sequence[int]
    stems: Sequence[str]            # corrected stems, all tokens
    content_positions: list[int]    # indexes into tokens of content words
    content: list[str]              # content stems, for the word vectorizer (see _word_terms)
    novel_text: str                 # content words not in the prompt, for the char vectorizer
    _sentences: tuple[list[tuple[int, int]], list[int]] | None = field(default=None, repr=False)

    def sentences(self) -> tuple[list[tuple[int, int]], list[int]]:
        """Character spans of the sentences and their starts, computed on first use: only
        answers with a concept match need them."""
        if self._sentences is None:
            spans = sentence_spans(self.text)
            self._sentences = spans, [a for a, _ in spans]
        return self._sentences


class AnswerFeatures(TransformerMixin, BaseEstimator):
    """Turn (question_id, answer) pairs into the numeric features in FEATURE_NAMES.

    Parameters
    ----------
    rubric : Rubric
        Questions with model answers and concepts.
    prompt_weight : float
        Weight of the question's own words in similarity (1 = like any word); restating the
        question should earn (almost) nothing.
    char_ngrams : tuple
        Range of character n-gram lengths.
    """

    def __init__(self, rubric: Rubric, prompt_weight: float = 0.15, char_ngrams: tuple[int, int] = (3, 5)):
        self.rubric = rubric
        self.prompt_weight = prompt_weight
        self.char_ngrams = char_ngrams

    # -- fitting -------------------------------------------------------------------------------
    def fit(self, X, y=None):
        self.vocabulary_ = _RubricVocabulary(self.rubric)
        self._fit_prepared([self._prepare(qid, text) for qid, text in _pairs(X)])
        return self

    def fit_analyze(self, X) -> Analysis:
        """fit(X) then analyze(X), preparing each answer once (what grading a batch does)."""
        pairs = _pairs(X)
        self.vocabulary_ = _RubricVocabulary(self.rubric)
        prepared = [self._prepare(qid, text) for qid, text in pairs]
        counts = self._fit_prepared(prepared)
        return self._analyze_prepared(pairs, prepared, counts)

    def _fit_prepared(self, answers: list[_Prepared]) -> tuple[sp.csr_matrix, sp.csr_matrix]:
        """Fit the vectorizers on the rubric's texts and the answers; returns the answers' word
        term counts and character n-gram counts, rows as the vectorizers' transforms count them,
        so that analysing the same answers needs no second pass over their terms."""
        references = [self._prepare(q.id, text) for q in self.rubric.questions for text in _references(q)]
        prompts = [self._prepare(q.id, q.prompt) for q in self.rubric.questions]
        corpus = references + prompts + answers
        # Counted once: the TfidfVectorizer gets the vocabulary and idf of these counts (what
        # TfidfVectorizer.fit computes).
        vocabulary, word_counts = _count_word_terms([p.content for p in corpus])
        weighting = TfidfTransformer(sublinear_tf=True).fit(word_counts)
        self.word_vectorizer_ = TfidfVectorizer(analyzer=_word_terms, sublinear_tf=True, vocabulary=vocabulary)
        self.word_vectorizer_.idf_ = weighting.idf_
        self.char_vectorizer_ = WordwiseCharTfidf(tuple(self.char_ngrams))
        char_counts = self.char_vectorizer_.fit_counts([p.novel_text for p in corpus])
        unigram = _unigram_mask(self.word_vectorizer_)
        self.references_ = {q.id: self._reference_matrices(q, unigram) for q in self.rubric.questions}
        # Every question's model answers in one matrix, rows grouped by question: one product per
        # batch of answers gives their similarity to each question's (see _other_question_margins).
        ids = [q.id for q in self.rubric.questions]
        sizes = [self.references_[qid]["words"].shape[0] for qid in ids]
        self.all_references_ = {
            "ids": ids, "starts": np.cumsum([0, *sizes[:-1]]),
            "words": sp.vstack([self.references_[qid]["words"] for qid in ids]).tocsr(),
            "chars": sp.vstack([self.references_[qid]["chars"] for qid in ids]).tocsr(),
        }
        self.foreign_terms_ = _foreign_terms(self.word_vectorizer_, unigram, len(corpus), self.vocabulary_.course)
        first_answer = len(references) + len(prompts)
        return word_counts[first_answer:], char_counts[first_answer:]

    def _prepare(self, question_id: str, text: str) -> _Prepared:
        vocab = self.vocabulary_
        pieces = vocab.pieces
        # One regex pass; everything else about a word (its tokens, corrected stems, content or
        # not) is looked up once per distinct matched string. Comprehensions and zip, not
        # appends: this runs for millions of tokens.
        tokens = [(m.start() + offset, m.start() + end, word, stem, is_content)
                  for m in word_matches(text) for offset, end, word, stem, is_content in pieces[m.group()]]
        if not tokens:
            return _Prepared(text, (), (), (), (), [], [], "")
        starts, ends, words, stems, is_content = zip(*tokens)
        content_positions = list(compress(range(len(tokens)), is_content))
        content = list(compress(stems, is_content))
        prompt_stems = vocab.prompt_stems.get(question_id, frozenset())
        novel_text = " ".join([word for word, stem, content_word in zip(words, stems, is_content)
                               if content_word and stem not in prompt_stems])
        return _Prepared(text, words, starts, ends, stems, content_positions, content, novel_text)

    def _reference_matrices(self, question: Question, unigram: np.ndarray):
        """Weighted model-answer vectors (and exemplars) for one question."""
        prompt_stems = self.vocabulary_.prompt_stems[question.id]
        texts = list(question.model_answers)
        prepared = [self._prepare(question.id, t) for t in texts]
        words = self.word_vectorizer_.transform([p.content for p in prepared])
        demote = _term_weights(self.word_vectorizer_, prompt_stems, self.prompt_weight)
        words = _l2_rows(words.multiply(demote).tocsr())
        chars = _l2_rows(self.char_vectorizer_.transform([p.novel_text for p in prepared]).tocsr())
        columns = self.word_vectorizer_.vocabulary_
        idf = self.word_vectorizer_.idf_.astype(np.float64)
        recall_weights = (words > 0).multiply(idf * demote * unigram).tocsr()
        recall_weights = _l1_rows(recall_weights)
        char_weights = _l1_rows((chars > 0).multiply(self.char_vectorizer_.idf_).tocsr())
        exemplars = None
        if question.exemplars:
            ex_prepared = [self._prepare(question.id, e.answer) for e in question.exemplars]
            ex_words = _l2_rows(self.word_vectorizer_.transform([p.content for p in ex_prepared]).multiply(demote).tocsr())
            scale = self.rubric.max_score(question.id)
            exemplars = (ex_words, np.array([e.score / scale for e in question.exemplars]))
        return {"words": words, "chars": chars, "recall": recall_weights, "char_recall": char_weights,
                "content_words": sum(len(p.content) for p in prepared),
                "demote": demote, "exemplars": exemplars, "key_terms": rarest_words(
                    texts, prompt_stems, lambda s: -idf[columns[s]] if s in columns else 0.0, limit=6)}

    # -- transforming --------------------------------------------------------------------------
    def transform(self, X):
        return self.analyze(X).values

    def analyze(self, X) -> Analysis:
        """Features and per-concept evidence for each (question_id, answer) pair."""
        pairs = _pairs(X)
        return self._analyze_prepared(pairs, [self._prepare(qid, text) for qid, text in pairs])

    def _analyze_prepared(self, pairs: list[tuple[str, str]], all_prepared: list[_Prepared],
                          counts: tuple[sp.csr_matrix, sp.csr_matrix] | None = None) -> Analysis:
        """`counts`: the answers' word term and character n-gram counts when fitting made them."""
        values = np.zeros((len(pairs), len(FEATURE_NAMES)))
        concept_candidates: list[list[int]] = [[] for _ in pairs]
        foreign = np.zeros(len(pairs))
        other_questions = [""] * len(pairs)
        other_margins = np.zeros((len(pairs), 3))
        unit_rows: dict[str, sp.csr_matrix] = {}
        by_question: dict[str, list[int]] = defaultdict(list)
        for index, (qid, _) in enumerate(pairs):
            by_question[qid].append(index)
        questions = [(self._question_or_fail(qid), rows) for qid, rows in by_question.items()]
        matchers = {q.id: _ConceptMatcher(q, self.vocabulary_.phrase_stems, self.vocabulary_.prompt_stems[q.id],
                                          self.word_vectorizer_.vocabulary_) for q, _ in questions}

        # Word vectors per question, weighted as transform would (numpy's vectorised log can differ
        # in the last bit with an element's position in the array), so per question.
        weighting = TfidfTransformer(sublinear_tf=True)
        weighting.idf_ = self.word_vectorizer_.idf_
        word_rows = {q.id: (self.word_vectorizer_.transform([all_prepared[i].content for i in rows]).tocsr()
                            if counts is None else weighting.transform(counts[0][rows]).tocsr())
                     for q, rows in questions}
        # Counted here, before the fork below: a worker that read the answers' tokens would copy
        # the pages holding them (copy-on-write), hundreds of MiB at 100,000 answers.
        answer_counts = {q.id: self._answer_counts(q, [all_prepared[i] for i in rows]) for q, rows in questions}

        def per_question(start: int, stop: int) -> list:
            done = []
            for question, rows in questions[start:stop]:
                words = word_rows[question.id]
                if counts is None:
                    chars = self.char_vectorizer_.transform([all_prepared[i].novel_text for i in rows])
                else:
                    chars = self.char_vectorizer_.transform_counts(counts[1][rows])
                block, demoted = self._question_features(question, answer_counts[question.id], words, chars)
                done.append((block, self._foreign_shares(words), *self._other_question_margins(question, demoted, chars),
                             _l2_rows(demoted)))
            return done

        # Then what reads each answer's words in Python, one answer at a time (on a big batch a
        # forked process takes half of the answers), from the aliases each answer may hold.
        for question, rows in questions:
            for i, candidates in zip(rows, matchers[question.id].candidates(word_rows[question.id])):
                concept_candidates[i] = candidates

        def per_answer(start: int, stop: int) -> list:
            rows = []
            for i in range(start, stop):
                qid, p = pairs[i][0], all_prepared[i]
                found = matchers[qid].results(p, concept_candidates[i])
                used = set(p.stems)
                rows.append((found, *matchers[qid].shares(found),
                             [word for term, word in self.references_[qid]["key_terms"] if term not in used],
                             " ".join(p.words),   # as text.joined_words
                             _longest_run(p.content_positions)))
            return rows

        # The questions' sparse products and counts need nothing from concept matching, nor it from
        # them: on a big batch a forked process does them meanwhile.
        with Forked(per_question, 0, len(questions)) if can_fork(len(pairs)) else nullcontext() as pending:
            per_answer_rows = split_map(per_answer, len(pairs))
            per_question_rows = pending.result() if pending is not None else per_question(0, len(questions))
        for (question, rows), (block, foreign_shares, closest, margins, unit) in zip(questions, per_question_rows):
            values[rows] = block
            foreign[rows] = foreign_shares
            other_margins[rows, :2] = margins
            unit_rows[question.id] = unit
            for i, other in zip(rows, closest):
                other_questions[i] = other
        other_margins[:, 2] = _peer_margins(by_question, unit_rows, other_questions)
        concepts, coverage, negated, missing_terms, words, runs = map(list, zip(*per_answer_rows))
        values[:, FEATURE_NAMES.index("coverage")] = coverage
        values[:, FEATURE_NAMES.index("negated")] = negated
        return Analysis(values=values, concepts=concepts, missing_terms=missing_terms, words=words, content_runs=runs,
                        foreign_shares=foreign, other_questions=other_questions, other_margins=other_margins)

    def _question_or_fail(self, question_id: str) -> Question:
        question = self.rubric.question(question_id)
        if question is None:
            raise KeyError(f"question {question_id!r} is not in the rubric")
        return question

    def _foreign_shares(self, words: sp.csr_matrix) -> np.ndarray:
        """Share of each answer's distinct content stems that are foreign terms (see _foreign_terms)."""
        present = _present(words)
        stems = np.asarray(present @ self.foreign_terms_["unigram"]).ravel()
        foreign = np.asarray(present @ self.foreign_terms_["foreign"]).ravel()
        return np.divide(foreign, stems, out=np.zeros_like(foreign), where=stems > 0)

    def _other_question_margins(self, question: Question, words: sp.csr_matrix, chars: sp.csr_matrix):
        """For each answer: the other question whose model answers it is most similar to (word
        cosine), and how much more similar it is to that question than to its own (word, char).
        `words` has the answer's own question's words demoted, as for word_cosine: an answer that
        repeats its prompt must not look closer to another question whose model answer uses them."""
        n = words.shape[0]
        everything = self.all_references_
        if len(everything["ids"]) < 2:
            return [""] * n, np.zeros((n, 2))
        own = everything["ids"].index(question.id)
        # Best model answer per question: the max over each question's group of columns.
        word_sims = np.maximum.reduceat((_l2_rows(words) @ everything["words"].T).toarray(), everything["starts"], axis=1)
        char_sims = np.maximum.reduceat((chars @ everything["chars"].T).toarray(), everything["starts"], axis=1)
        own_word, own_char = word_sims[:, own].copy(), char_sims[:, own].copy()
        word_sims[:, own] = -np.inf
        closest = word_sims.argmax(axis=1)
        rows = np.arange(n)
        margins = np.column_stack([word_sims[rows, closest] - own_word, char_sims[rows, closest] - own_char])
        if self.references_[question.id]["content_words"] < MIN_REFERENCE_WORDS:
            margins[:] = np.nan   # a one-line definition cannot tell related questions apart
        return [everything["ids"][k] for k in closest], margins

    def _answer_counts(self, question: Question, prepared: list[_Prepared]) -> np.ndarray:
        """Per answer: content words, words, content words from the prompt, distinct content words,
        content words from the question's vocabulary (columns). Counted in Python, set lookups over
        each answer's stems."""
        prompt_stems = self.vocabulary_.prompt_stems[question.id]
        topic = self.vocabulary_.topic_stems[question.id]
        return np.array([(len(p.content), len(p.words), sum(map(prompt_stems.__contains__, p.content)),
                          len(set(p.content)), sum(map(topic.__contains__, p.content))) for p in prepared],
                        dtype=np.float64).reshape(len(prepared), 5)

    def _question_features(self, question: Question, answer_counts: np.ndarray, words: sp.csr_matrix,
                           chars: sp.csr_matrix):
        """Feature rows of one question's answers, given their _answer_counts and their word and
        character TF-IDF vectors (but coverage and negated: concepts are matched afterwards, see
        _ConceptMatcher), and their word vectors with the question's words demoted."""
        ref = self.references_[question.id]
        n = len(answer_counts)
        demoted = words.multiply(ref["demote"]).tocsr()
        # Cosine with the question's words demoted on the answer side but the norm of the
        # undemoted answer: restating the question cannot be normalised back up to full length.
        norms = np.sqrt(np.asarray(words.multiply(words).sum(axis=1)).ravel())
        norms[norms == 0] = 1.0
        word_cos = np.asarray((demoted @ ref["words"].T).todense()) / norms[:, None]
        present = _present(words)
        word_recall = np.asarray((present @ ref["recall"].T).todense())
        chars = _l2_rows(chars.tocsr())
        char_cos = np.asarray((chars @ ref["chars"].T).todense())
        char_recall = np.asarray((_present(chars) @ ref["char_recall"].T).todense())

        exemplar_score = np.full(n, -1.0)
        if ref["exemplars"] is not None:
            ex_words, ex_scores = ref["exemplars"]
            sims = np.asarray((demoted @ ex_words.T).todense()) / norms[:, None]
            exemplar_score = _weighted_neighbours(sims, ex_scores)

        block = np.zeros((n, len(FEATURE_NAMES)))
        for column, matrix in zip(FEATURE_NAMES, (word_recall, char_recall, word_cos, char_cos)):
            block[:, FEATURE_NAMES.index(column)] = matrix.max(axis=1, initial=0.0)
        n_content, n_words, in_prompt, distinct, on_topic = answer_counts.T

        def share(count: np.ndarray, of: np.ndarray) -> np.ndarray:
            return np.divide(count, of, out=np.zeros(n), where=of > 0)

        block[:, FEATURE_NAMES.index("novelty"):FEATURE_NAMES.index("exemplar_score") + 1] = np.column_stack([
            share(n_content - in_prompt, n_content),
            share(n_words - n_content, n_words),
            np.log1p(n_content),
            share(distinct, n_content),
            share(on_topic, n_content),
            exemplar_score,
        ])
        peer_words, peer_word_support = _peer_similarities(_l2_rows(demoted), ref["words"])
        peer_chars, peer_char_support = _peer_similarities(chars, ref["chars"])
        lengths = block[:, FEATURE_NAMES.index("content_words")]
        exemplar_nearest = np.full(n, -1.0)
        if ref["exemplars"] is not None:
            ex_words, ex_scores = ref["exemplars"]
            sims = np.asarray((demoted @ ex_words.T).todense()) / norms[:, None]
            softmax = np.exp((sims - sims.max(axis=1, keepdims=True)) / _EXEMPLAR_TEMPERATURE)
            exemplar_nearest = softmax @ ex_scores / softmax.sum(axis=1)
        recall = block[:, FEATURE_NAMES.index("word_recall")]
        block[:, FEATURE_NAMES.index("peer_word_cosine"):] = np.column_stack([
            peer_words, peer_chars, peer_word_support, peer_char_support,
            lengths - np.median(lengths), np.full(n, question.calibration.get("offset", 0.0)),
            exemplar_nearest, recall - recall.mean(), peer_chars - peer_chars.mean(),
            np.full(n, float(len(question.exemplars))),
        ])
        return block, demoted


class _ConceptMatcher:
    """Finds one question's concepts in its answers.

    An alias can only match where all of its stems occur, which one sparse product
    (answers x stems @ stems x aliases) tells for a whole batch (`candidates`); the window,
    sentence and negation checks then run only for those answers and aliases (`results`), not
    8 concepts x n answers.
    """

    def __init__(self, question: Question, phrase_stems: dict[Concept, list[tuple[str, ...]]],
                 prompt_stems: frozenset[str], columns: dict[str, int]):
        self.concepts = question.concepts
        self.prompt_stems = prompt_stems
        self.columns = columns   # the word vectorizer's vocabulary
        self.aliases = [(k, phrase) for k, c in enumerate(question.concepts) for phrase in phrase_stems[c]]
        self.phrase_sets = [frozenset(phrase) for _, phrase in self.aliases]
        self.missing = [ConceptResult(c.label, c.weight, "missing", missing=c.missing) for c in question.concepts]
        self.total_weight = sum(c.weight for c in question.concepts) or 1.0

    def candidates(self, words: sp.csr_matrix) -> list[list[int]]:
        """For each answer (rows of `words`, its word vectors: a stem's unigram column is nonzero
        exactly where the answer has the stem), the aliases that may match it."""
        columns = self.columns
        stems = sorted({s for _, phrase in self.aliases for s in phrase if s in columns})
        index = {s: j for j, s in enumerate(stems)}
        incidence = sp.lil_matrix((len(stems), len(self.aliases)))
        needed = np.zeros(len(self.aliases))
        possible = np.ones((words.shape[0], len(self.aliases)), dtype=bool)
        for a, (_, phrase) in enumerate(self.aliases):
            # A stem outside the vocabulary may still be in an answer analyzed after fitting:
            # such an alias is always checked.
            if all(s in columns for s in phrase):
                for s in set(phrase):
                    incidence[index[s], a] = 1.0
                needed[a] = len(set(phrase))
        known = needed > 0
        if stems:
            present = _present(words[:, [columns[s] for s in stems]])
            counts = (present @ incidence.tocsr()).toarray()
            possible[:, known] = counts[:, known] == needed[known]
        # np.nonzero lists the candidates row by row: row r's are alias_ids[bounds[r]:bounds[r + 1]].
        rows, alias_ids = np.nonzero(possible)
        bounds = np.searchsorted(rows, np.arange(words.shape[0] + 1)).tolist()
        alias_ids = alias_ids.tolist()
        return [alias_ids[bounds[r]:bounds[r + 1]] for r in range(words.shape[0])]

    def shares(self, found: list[ConceptResult]) -> tuple[float, float]:
        """The `coverage` and `negated` features of an answer's results: weighted shares of the
        concepts found (an echo counts in part) and of those only denied; coverage is -1 for a
        question without concepts."""
        if not self.concepts:
            return -1.0, 0.0
        return (sum(r.weight * r.credit for r in found) / self.total_weight,
                sum(r.weight for r in found if r.status == "negated") / self.total_weight)

    def results(self, p: _Prepared, candidates: list[int]) -> list[ConceptResult]:
        """The answer's result for each of the question's concepts, given its candidate aliases."""
        if not candidates:
            return self.missing.copy()
        by_concept: dict[int, list[tuple[tuple[str, ...], frozenset[str]]]] = defaultdict(list)
        for a in candidates:
            by_concept[self.aliases[a][0]].append((self.aliases[a][1], self.phrase_sets[a]))
        stem_positions: dict[str, list[int]] = defaultdict(list)
        for k, s in enumerate(p.content):
            stem_positions[s].append(k)
        sentences: dict[tuple[int, int], set[str]] = {}   # per answer: novel stems of each sentence
        return [self._match_concept(k, p, stem_positions, by_concept[k], sentences) if k in by_concept
                else self.missing[k] for k in range(len(self.concepts))]

    def _match_concept(self, k: int, p: _Prepared, stem_positions: dict[str, list[int]], phrases,
                       sentences: dict[tuple[int, int], set[str]]) -> ConceptResult:
        """Best occurrence of concept k among the given (aliases, their stem sets), in rubric
        order (the other aliases cannot match); stem_positions maps each content stem of the
        answer to its places among the content words; `sentences` caches _occurrence_status's
        per-sentence stems for the answer."""
        best: tuple[int, tuple[int, int], str] | None = None  # (rank, token span, status)
        for phrase, phrase_set in phrases:
            for first, last in _find_phrase(phrase, stem_positions):
                start_tok, end_tok = p.content_positions[first], p.content_positions[last]
                status = self._occurrence_status(p, start_tok, end_tok, phrase_set, sentences)
                rank = _STATUS_RANK[status]
                if best is None or rank > best[0]:
                    best = (rank, (start_tok, end_tok), status)
                if rank == 3:
                    break
            if best and best[0] == 3:
                break
        if best is None:
            return self.missing[k]
        _, (start_tok, end_tok), status = best
        span = (p.starts[start_tok], p.ends[end_tok])
        concept = self.concepts[k]
        return ConceptResult(concept.label, concept.weight, status, _evidence(p, span), span, concept.missing)

    def _occurrence_status(self, p: _Prepared, start_tok: int, end_tok: int, phrase: frozenset[str],
                           sentences: dict[tuple[int, int], set[str]]) -> str:
        lo, hi = _sentence_of(p, start_tok)
        words = p.words
        before = range(max(lo, start_tok - _NEGATION_WINDOW_BEFORE), start_tok)
        after = range(end_tok + 1, min(hi, end_tok + 1 + _NEGATION_WINDOW_AFTER))
        for i in [*before, *after]:
            if words[i] in NEGATIONS and not _negation_excused(p, i, hi, start_tok):
                return "negated"
        beyond_prompt = sentences.get((lo, hi))
        if beyond_prompt is None:
            positions = p.content_positions[bisect_left(p.content_positions, lo):bisect_left(p.content_positions, hi)]
            beyond_prompt = sentences[lo, hi] = {p.stems[i] for i in positions} - self.prompt_stems
        novel = beyond_prompt - phrase
        if len(novel) >= 2:
            return "found"
        return "echo"


def _negation_excused(p: _Prepared, i: int, hi: int, concept_start: int) -> bool:
    """Negations that deny nothing the concept says: 'not only ... but', 'no longer', failing a
    target ('could not meet the quota'); a partial or comparative one ('not all workers', 'wasn't
    what most people lived'); and one about who someone is, before the concept ('workers who
    weren't Stakhanovites hated them')."""
    words, stems = p.words, p.stems
    following = words[i + 1] if i + 1 < hi else ""
    if words[i] == "not" and following in _PARTIAL_NEGATION:
        return True
    if words[i] == "no" and following in {"longer", "matter", "doubt"}:
        return True
    for j in range(i + 1, min(hi, i + 3)):
        if stems[j] in _FAILURE_VERBS:
            return True
    return (words[i] == "not" and i > 0 and words[i - 1] in _COPULAS and i + 1 < concept_start
            and p.text[p.starts[i + 1]].isupper())


_PARTIAL_NEGATION = frozenset({"only", "just", "merely", "simply", "what", "as", "how", "all", "always", "every",
                               "everyone", "everybody", "entirely", "completely", "necessarily", "exactly", "quite"})
_COPULAS = frozenset({"is", "was", "were", "are", "am", "be", "been", "being"})


def _sentence_span(p: _Prepared, char: int) -> tuple[int, int]:
    """Character span of the sentence holding the character (spans are sorted and disjoint)."""
    spans, starts = p.sentences()
    k = bisect_right(starts, char) - 1
    if k >= 0 and char < spans[k][1]:
        return spans[k]
    return 0, len(p.text)


def _sentence_of(p: _Prepared, token_index: int) -> tuple[int, int]:
    """Token range [lo, hi) of the sentence holding the token (token starts are sorted)."""
    lo_char, hi_char = _sentence_span(p, p.starts[token_index])
    return bisect_left(p.starts, lo_char), bisect_left(p.starts, hi_char)


def _evidence(p: _Prepared, span: tuple[int, int], max_words: int = 14) -> str:
    """The answer's own words around a match: its sentence, cut to about max_words words."""
    start, end = span
    s_lo, s_hi = _sentence_span(p, start)
    inside = range(bisect_left(p.starts, s_lo), bisect_left(p.starts, s_hi))   # token indexes
    if len(inside) <= max_words:
        return p.text[s_lo:s_hi].strip().rstrip(".;:,")
    first = next(k for k, t in enumerate(inside) if p.starts[t] >= start)
    last = next((k for k, t in enumerate(inside) if p.ends[t] >= end), first)
    pad = max(0, max_words - (last - first + 1))
    lo = max(0, first - pad // 2)
    hi = min(len(inside), lo + max(max_words, last - first + 1))
    lo = max(0, hi - max(max_words, last - first + 1))
    text = p.text[p.starts[inside[lo]]:p.ends[inside[hi - 1]]]
    return ("..." if lo > 0 else "") + text + ("..." if hi < len(inside) else "")


def _find_phrase(phrase: tuple[str, ...], stem_positions: dict[str, list[int]]):
    """Spans (first, last content index) where all of the phrase's stems occur close together."""
    if not phrase or any(s not in stem_positions for s in phrase):
        return
    if len(phrase) == 1:   # most aliases are one word
        for start in stem_positions[phrase[0]]:
            yield start, start
        return
    window = len(phrase) + 2
    for start in stem_positions[phrase[0]]:
        positions = [start]
        for s in phrase[1:]:
            near = [k for k in stem_positions[s] if abs(k - start) < window]
            if not near:
                break
            positions.append(min(near, key=lambda k: abs(k - start)))
        else:
            yield min(positions), max(positions)


MIN_PEERS = 5
MIN_REFERENCE_WORDS = 25   # model-answer content words below which other-question margins are not computed


def _peer_margins(by_question: dict[str, list[int]], unit_rows: dict[str, sp.csr_matrix],
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
        _, _, dot_others, others_norm = _leave_one_out(unit)
        own_sim = dot_others / np.maximum(others_norm, 1e-6)
        for other in set(closest[rows]) - {""}:
            if len(by_question.get(other, ())) < MIN_PEERS:
                continue
            picked = np.flatnonzero(closest[rows] == other)
            other_total = totals[other]
            other_sim = np.asarray(unit[picked] @ other_total).ravel() / max(np.linalg.norm(other_total), 1e-12)
            margins[rows[picked]] = other_sim - own_sim[picked]
    return margins


def _leave_one_out(vectors: sp.csr_matrix) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """For the rows v_i of `vectors`: |v_i|^2, the sum of all rows, v_i . (sum of the other rows) and
    |sum of the other rows|. The others' sum is total - v_i, so no answers x answers matrix (33,000
    squared for a big question) is ever formed: only matrix-vector products."""
    own = np.asarray(vectors.multiply(vectors).sum(axis=1)).ravel()
    total = np.asarray(vectors.sum(axis=0)).ravel()
    to_total = np.asarray(vectors @ total).ravel()
    others_norm = np.sqrt(np.clip(total @ total - 2 * to_total + own, 0.0, None))
    return own, total, to_total - own, others_norm


def _weighted_neighbours(sims: np.ndarray, scores: np.ndarray, k: int = 5) -> np.ndarray:
    """Score estimate from the k most similar exemplars, weighted by similarity."""
    k = min(k, sims.shape[1])
    top = np.argsort(-sims, axis=1)[:, :k]
    top_sims = np.take_along_axis(sims, top, axis=1)
    weights = np.clip(top_sims, 1e-6, None)
    return (weights * scores[top]).sum(axis=1) / weights.sum(axis=1)


class WordwiseCharTfidf(TransformerMixin, BaseEstimator):
    """TF-IDF of character n-grams inside words, the same numbers as scikit-learn's
    TfidfVectorizer(analyzer="char_wb", sublinear_tf=True) on lowercase space-separated words.

    char_wb counts of a text are the sum of the counts of its words, so the n-grams are counted once
    per distinct word (a few thousand) and spread to the texts with a sparse product (texts x words
    @ words x n-grams), instead of once per word occurrence in Python (millions in a big batch).
    """

    def __init__(self, ngram_range: tuple[int, int] = (3, 5)):
        self.ngram_range = ngram_range

    def fit(self, texts, y=None):
        self.fit_counts(texts)
        return self

    def fit_counts(self, texts) -> sp.csr_matrix:
        """fit(texts) and return the texts' n-gram counts (as transform_counts takes them)."""
        # One pass over the texts: the word counts give both the words to learn n-grams from
        # and, spread to n-grams, the document frequencies.
        word_counts = CountVectorizer(analyzer=str.split, dtype=np.float32)
        per_text = word_counts.fit_transform(texts)
        words = word_counts.get_feature_names_out()
        self.ngrams_ = CountVectorizer(analyzer="char_wb", ngram_range=tuple(self.ngram_range),
                                       dtype=np.float32).fit(words)
        counts = _sorted_rows(per_text @ self.ngrams_.transform(words))
        self.tfidf_ = TfidfTransformer(sublinear_tf=True).fit(counts)
        return counts

    @property
    def idf_(self) -> np.ndarray:
        return self.tfidf_.idf_

    def transform(self, texts) -> sp.csr_matrix:
        return self.transform_counts(self._counts(texts))

    def transform_counts(self, counts: sp.csr_matrix) -> sp.csr_matrix:
        """TF-IDF rows from n-gram counts (rows of fit_counts' or _counts' result)."""
        return self.tfidf_.transform(counts).astype(np.float32).tocsr()

    def _counts(self, texts) -> sp.csr_matrix:
        word_counts = CountVectorizer(analyzer=str.split, dtype=np.float32)
        try:
            per_text = word_counts.fit_transform(texts)
        except ValueError:  # no words at all in these texts
            return sp.csr_matrix((len(texts), len(self.ngrams_.vocabulary_)), dtype=np.float32)
        per_word = self.ngrams_.transform(word_counts.get_feature_names_out())
        return _sorted_rows(per_text @ per_word)


def _sorted_rows(counts: sp.spmatrix) -> sp.csr_matrix:
    """CSR with each row's n-grams in column order. The product leaves them in an order that
    depends on the texts counted with it; the float32 norms, summed in that order, would then
    differ in the last bit between counting a text in the batch and counting it alone. (The
    counts themselves are small integers, exact in float32 whatever the order.)"""
    counts = counts.tocsr()
    counts.sort_indices()
    return counts


class _RubricVocabulary:
    """Stems derived from the rubric: concept phrases, prompts, topic words and the spelling index."""

    def __init__(self, rubric: Rubric):
        self.prompt_stems: dict[str, frozenset[str]] = {}
        self.topic_stems: dict[str, frozenset[str]] = {}
        self.phrase_stems: dict[Concept, list[tuple[str, ...]]] = {}
        known: set[str] = set()
        for q in rubric.questions:
            self.prompt_stems[q.id] = frozenset(t.stem for t in tokenize(q.prompt) if t.is_content)
            topic = set(self.prompt_stems[q.id])
            for text in _references(q):
                topic.update(t.stem for t in tokenize(text) if t.is_content)
            for concept in q.concepts:
                phrases = []
                for phrase in concept.phrases:
                    stems = tuple(t.stem for t in tokenize(phrase) if t.is_content)
                    if stems and stems not in phrases:
                        phrases.append(stems)
                    topic.update(stems)
                self.phrase_stems[concept] = phrases
            self.topic_stems[q.id] = frozenset(topic)
            known |= topic
        self.known = frozenset(known)
        # Everything the course is about, for telling foreign words: the rubric and its reading.
        self.course = self.known | {t.stem for text in rubric.sources for t in tokenize(text) if t.is_content}
        # Symmetric-deletion index: two stems one edit apart share a one-deletion variant.
        self._deletions: dict[str, set[str]] = defaultdict(set)
        for word in self.known:
            if len(word) >= _MIN_FUZZY_LEN and word.isalpha():
                for variant in _deletions(word):
                    self._deletions[variant].add(word)
        self._corrections: dict[str, str] = {}
        self.pieces = _Pieces(self.correct)

    def correct(self, word_stem: str) -> str:
        """The rubric stem a misspelt stem stands for ("propoganda" -> "propaganda"), else itself."""
        if word_stem in self.known or len(word_stem) < _MIN_FUZZY_LEN or word_stem in STOPWORDS:
            return word_stem
        cached = self._corrections.get(word_stem)
        if cached is not None:
            return cached
        candidates = set()
        for variant in _deletions(word_stem):
            candidates |= self._deletions.get(variant, set())
        best = word_stem
        matches = sorted(c for c in candidates if _edit_distance_at_most_one(word_stem, c))
        if len(matches) == 1:
            best = matches[0]
        self._corrections[word_stem] = best
        return best


class _Pieces(dict):
    """matched string -> its tokens (see text.match_tokens) as (start, end, word, corrected stem,
    is_content), offsets relative to the match; filled on first lookup of each distinct string."""

    def __init__(self, correct):
        super().__init__()
        self._correct = correct

    def __missing__(self, match: str) -> tuple[tuple[int, int, str, str, bool], ...]:
        value = self[match] = tuple((t.start, t.end, t.word, self._correct(t.stem), t.is_content)
                                    for t in match_tokens(match))
        return value


def _deletions(word: str) -> set[str]:
    return {word} | {word[:i] + word[i + 1:] for i in range(len(word))}


def _edit_distance_at_most_one(a: str, b: str) -> bool:
    """True when a and b differ by one insertion, deletion, substitution or adjacent swap."""
    if a == b:
        return True
    if abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        diffs = [i for i in range(len(a)) if a[i] != b[i]]
        if len(diffs) == 1:
            return True
        return len(diffs) == 2 and diffs[1] == diffs[0] + 1 and a[diffs[0]] == b[diffs[1]] and a[diffs[1]] == b[diffs[0]]
    if len(a) > len(b):
        a, b = b, a
    i = next((k for k in range(len(a)) if a[k] != b[k]), len(a))
    return a[i:] == b[i + 1:]


def _references(question: Question) -> list[str]:
    return [*question.model_answers, *[e.answer for e in question.exemplars if e.score > 0]]


def _pairs(X) -> list[tuple[str, str]]:
    return [(str(qid), str(text)) for qid, text in X]


def _longest_run(positions: list[int]) -> int:
    """Longest run of consecutive integers in a sorted list (of content-word token positions)."""
    longest = run = 0
    previous = -2
    for position in positions:
        run = run + 1 if position == previous + 1 else 1
        longest = max(longest, run)
        previous = position
    return longest


def _word_terms(content: list[str]) -> list[str]:
    """Content stems and consecutive pairs of them: the word vectorizer's terms."""
    return content + [f"{a} {b}" for a, b in zip(content, content[1:])]


def _count_word_terms(contents: list[list[str]]) -> tuple[dict[str, int], sp.csr_matrix]:
    """The vocabulary (terms sorted, as CountVectorizer numbers them) and the term counts (float64,
    sorted indices, as CountVectorizer.transform gives them) of the texts' _word_terms. Terms are
    numbered with one dict lookup per stem and counted in numpy, instead of a Python dict update
    per term per text."""
    ids: dict[str, int] = {}
    flat = np.fromiter((ids.setdefault(s, len(ids)) for content in contents for s in content),
                       dtype=np.int64, count=sum(map(len, contents)))
    if not len(flat):
        raise ValueError("empty vocabulary; perhaps the documents only contain stop words")
    n_stems = len(ids)
    text_of = np.repeat(np.arange(len(contents)), [len(content) for content in contents])
    in_text = text_of[1:] == text_of[:-1]          # consecutive stems of one text make a pair
    pairs, pair_term = np.unique(flat[:-1][in_text] * n_stems + flat[1:][in_text], return_inverse=True)
    stems = list(ids)
    terms = stems + [f"{stems[code // n_stems]} {stems[code % n_stems]}" for code in pairs.tolist()]
    column = np.empty(len(terms), dtype=np.int64)
    column[sorted(range(len(terms)), key=terms.__getitem__)] = np.arange(len(terms))
    rows = np.concatenate([text_of, text_of[1:][in_text]])
    cols = column[np.concatenate([flat, n_stems + pair_term.ravel()])]
    counts = sp.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(len(contents), len(terms)))
    counts.sum_duplicates()
    counts.sort_indices()
    return {term: int(col) for term, col in zip(terms, column.tolist())}, counts


def _term_weights(vectorizer: TfidfVectorizer, prompt_stems: frozenset[str], prompt_weight: float) -> np.ndarray:
    """Per-column weight: prompt_weight for terms made only of the question's words, else 1."""
    weights = np.ones(len(vectorizer.vocabulary_))
    for term, column in vectorizer.vocabulary_.items():
        if all(part in prompt_stems for part in term.split(" ")):
            weights[column] = prompt_weight
    return weights


def _foreign_terms(vectorizer: TfidfVectorizer, unigram: np.ndarray, n_documents: int,
                   known: frozenset[str]) -> dict[str, np.ndarray]:
    """Column masks of the word vectorizer: single stems (`unigram`, from _unigram_mask), and single stems that no
    rubric text uses and fewer than three documents of the batch contain ("foreign": the answer's
    own and at most one other). Words that other students use too are not foreign: peers stand in
    for the everyday vocabulary of the topic that the rubric does not list."""
    # TfidfVectorizer keeps idf = ln((1 + n) / (1 + df)) + 1 (smooth_idf), not df: invert it.
    df = np.rint((1 + n_documents) / np.exp(vectorizer.idf_.astype(np.float64) - 1) - 1)
    foreign = unigram * (df < 3)
    known_columns = [column for term in known if (column := vectorizer.vocabulary_.get(term)) is not None]
    foreign[known_columns] = 0.0
    return {"unigram": unigram, "foreign": foreign}


def _unigram_mask(vectorizer: TfidfVectorizer) -> np.ndarray:
    mask = np.zeros(len(vectorizer.vocabulary_))
    for term, column in vectorizer.vocabulary_.items():
        if " " not in term:
            mask[column] = 1.0
    return mask


def _present(matrix: sp.csr_matrix) -> sp.csr_matrix:
    """1.0 where the CSR matrix holds a positive value, else 0: (matrix > 0).astype(float), without
    scipy's general comparison (which costs a second at 100,000 answers x character n-grams)."""
    present = matrix.copy()
    present.data = (present.data > 0).astype(np.float64)
    return present


def _l2_rows(matrix: sp.csr_matrix) -> sp.csr_matrix:
    norms = np.sqrt(np.asarray(matrix.multiply(matrix).sum(axis=1)).ravel())
    norms[norms == 0] = 1.0
    return sp.diags(1.0 / norms) @ matrix


def _l1_rows(matrix: sp.csr_matrix) -> sp.csr_matrix:
    sums = np.asarray(abs(matrix).sum(axis=1)).ravel()
    sums[sums == 0] = 1.0
    return (sp.diags(1.0 / sums) @ matrix).tocsr()


def _peer_similarities(vectors: sp.csr_matrix, model: sp.csr_matrix) -> tuple[np.ndarray, np.ndarray]:
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
    own, total, dot_others, others_norm = _leave_one_out(vectors)
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
