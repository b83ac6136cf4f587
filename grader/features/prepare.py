"""Preparing texts for the features: the rubric's vocabulary, tokens, and spelling correction.

`RubricVocabulary` is what the rubric says once it is stemmed (fitted once, never changed after);
a `Tokenizer` turns texts into `Prepared` token columns with stems spelling-corrected towards the
rubric's words ("propoganda" -> "propaganda"). The tokenizer keeps its caches (one entry per
distinct word) for one fitting or one analysis, never in a fitted estimator.
"""

from __future__ import annotations

from array import array
from collections import defaultdict
from dataclasses import dataclass, field
from itertools import compress
from typing import Sequence

from ..rubric import Concept, Question, Rubric
from ..text import STOPWORDS, match_tokens, sentence_spans, tokenize, word_matches

MIN_FUZZY_LEN = 5
"""Stems shorter than this are never spelling-corrected: too many short words are one edit apart."""
MAX_FUZZY_LEN = 30
"""Stems longer than this are not in the spelling index, nor corrected: no word is that long, and
the index holds a variant per letter (a 200,000-letter "word" in a model answer would need 40 GB)."""
MAX_WORD_CHARS = 40
"""A longer token is cut to this many characters in the features, so that one student's
20,000-letter "word" costs no more than a long real word (its character n-grams, its exemplars)."""


@dataclass(slots=True)
class Prepared:
    """One text after tokenising: its tokens as parallel sequences (stems spelling-corrected) and
    derived strings. Columns rather than Token tuples: millions of tokens are made per run."""

    text: str
    words: Sequence[str]            # lowercase words, all tokens
    starts: Sequence[int]           # character offsets of the tokens in text (array("i"))
    ends: Sequence[int]
    stems: Sequence[str]            # corrected stems, all tokens
    content_positions: Sequence[int]   # indexes into tokens of content words (array("i"))
    content: list[str]              # content stems, for the word vectorizer (see vectors.word_terms)
    novel_text: str                 # content words not in the prompt, for the char vectorizer
    _sentences: tuple[list[tuple[int, int]], list[int]] | None = field(default=None, repr=False)

    def sentences(self) -> tuple[list[tuple[int, int]], list[int]]:
        """Character spans of the sentences and their starts, computed on first use: only
        answers with a concept match need them."""
        if self._sentences is None:
            spans = sentence_spans(self.text)
            self._sentences = spans, [a for a, _ in spans]
        return self._sentences


class RubricVocabulary:
    """Stems derived from the rubric: concept phrases, prompts, topic words and the spelling index."""

    def __init__(self, rubric: Rubric):
        self.prompt_stems: dict[str, frozenset[str]] = {}
        self.topic_stems: dict[str, frozenset[str]] = {}
        self.phrase_stems: dict[Concept, list[tuple[str, ...]]] = {}
        known: set[str] = set()
        for q in rubric.questions:
            self.prompt_stems[q.id] = frozenset(t.stem for t in tokenize(q.prompt) if t.is_content)
            topic = set(self.prompt_stems[q.id])
            for text in references(q):
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
        deletions: dict[str, set[str]] = defaultdict(set)
        for word in self.known:
            if MIN_FUZZY_LEN <= len(word) <= MAX_FUZZY_LEN and word.isalpha():
                for variant in _deletions(word):
                    deletions[variant].add(word)
        self.deletions = dict(deletions)

    def correct(self, word_stem: str) -> str:
        """The rubric stem a misspelt stem stands for ("propoganda" -> "propaganda"), else itself."""
        if (word_stem in self.known or not MIN_FUZZY_LEN <= len(word_stem) <= MAX_FUZZY_LEN
                or word_stem in STOPWORDS):
            return word_stem
        candidates = set()
        for variant in _deletions(word_stem):
            candidates |= self.deletions.get(variant, set())
        matches = sorted(c for c in candidates if _edit_distance_at_most_one(word_stem, c))
        return matches[0] if len(matches) == 1 else word_stem


class Tokenizer:
    """Texts -> Prepared, for one question at a time (its prompt's stems are not novel). Caches the
    tokens of each distinct matched string and each spelling correction: create one per batch."""

    def __init__(self, vocabulary: RubricVocabulary):
        self.vocabulary = vocabulary
        self._pieces = _Pieces(self._correct)
        self._corrections: dict[str, str] = {}

    def _correct(self, word_stem: str) -> str:
        cached = self._corrections.get(word_stem)
        if cached is None:
            cached = self._corrections[word_stem] = self.vocabulary.correct(word_stem)
        return cached

    def prepare(self, question_id: str, text: str) -> Prepared:
        pieces = self._pieces
        # One regex pass; everything else about a word (its tokens, corrected stems, content or
        # not) is looked up once per distinct matched string. Comprehensions and zip, not
        # appends: this runs for millions of tokens.
        tokens = [(m.start() + offset, m.start() + end, word, stem, is_content)
                  for m in word_matches(text) for offset, end, word, stem, is_content in pieces[m.group()]]
        if not tokens:
            return Prepared(text, (), (), (), (), [], [], "")
        starts, ends, words, stems, is_content = zip(*tokens)
        # Offsets as C ints: tuples of Python ints cost 40 bytes a token (a GiB at 100,000 answers
        # of 100 words); an array costs 4.
        content_positions = array("i", compress(range(len(tokens)), is_content))
        starts, ends = array("i", starts), array("i", ends)
        content = list(compress(stems, is_content))
        prompt_stems = self.vocabulary.prompt_stems.get(question_id, frozenset())
        novel_text = " ".join([word for word, stem, content_word in zip(words, stems, is_content)
                               if content_word and stem not in prompt_stems])
        return Prepared(text, words, starts, ends, stems, content_positions, content, novel_text)


class _Pieces(dict):
    """matched string -> its tokens (see text.match_tokens) as (start, end, word, corrected stem,
    is_content), offsets relative to the match; filled on first lookup of each distinct string."""

    def __init__(self, correct):
        super().__init__()
        self._correct = correct

    def __missing__(self, match: str) -> tuple[tuple[int, int, str, str, bool], ...]:
        value = self[match] = tuple((t.start, t.end, t.word[:MAX_WORD_CHARS], self._correct(t.stem[:MAX_WORD_CHARS]),
                                     t.is_content) for t in match_tokens(match))
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


def references(question: Question) -> list[str]:
    """The texts an answer is compared with: the model answers and the exemplars that earned marks."""
    return [*question.model_answers, *[e.answer for e in question.exemplars if e.score > 0]]


def longest_run(positions: Sequence[int]) -> int:
    """Longest run of consecutive integers in a sorted list (of content-word token positions)."""
    longest = run = 0
    previous = -2
    for position in positions:
        run = run + 1 if position == previous + 1 else 1
        longest = max(longest, run)
        previous = position
    return longest
