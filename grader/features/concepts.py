"""Concept signals: which rubric concepts an answer states, denies or only echoes from the question,
with the student's own words as evidence.

A concept counts when one of its phrases (label or aliases, as stems) occurs with its words close
together, spelling-corrected. It counts fully (`found`) in a sentence that adds at least two stems
beyond the question's and the phrase's own; otherwise it is an `echo`. A negation in a window
around it makes it `negated`, unless the negation denies nothing the concept says (failing a target,
"not only", partial negations: `_negation_excused`).

A concept whose phrase is itself negative ("no cell wall", "lack of incentives", "not enough food")
is the negation: it counts where the answer says it with a negation near it ("there is no cell
wall", "it doesn't have a cell wall"), never as a denial of itself, and not where the answer names
the thing without one. An echo needs a word the prompt contains: a concept named in a sentence of
its own ("Osmosis.") that the question never mentions is stated, not echoed, and so is an answer
that is nothing but the key term.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections import defaultdict
from dataclasses import dataclass
from typing import Sequence

import numpy as np
import scipy.sparse as sp

from ..rubric import Concept, Question
from ..text import NEGATIONS, starts_clause, tokenize
from .prepare import Prepared
from .vectors import presence


# A negation before a concept that is followed by one of these verbs is about failing a target
# ("could not meet the quota"), which agrees with the model answers rather than contradicting them.
FAILURE_VERBS = frozenset({"meet", "reach", "keep", "fulfil", "fulfill", "achiev", "hit", "match", "cope",
                            "afford", "becom", "make", "get", "receiv", "deliv", "sustain", "surviv",
                            # a remedy that failed affirms the problem: "couldn't fix low productivity"
                            "fix", "solv", "cure", "overcom", "remedi", "prevent", "end", "stop", "reduc"})
_NEGATION_WINDOW_BEFORE = 5
_NEGATION_WINDOW_AFTER = 3
_ECHO_CREDIT = 0.25   # a concept named only in a sentence that restates the question
_STATUS_RANK = {"found": 3, "echo": 2, "negated": 1}
# Words that make a phrase negative besides NEGATIONS: "lack of incentives", "absence of light".
NEGATIVE_WORDS = frozenset({"lack", "lacks", "lacking", "absence", "absent", "missing", "doesnt", "dont", "isnt",
                             "cannot", "cant", "wont", "wasnt", "arent", "hasnt", "havent", "didnt"})
_NOT_ENOUGH = frozenset({"enough", "sufficient", "much", "many"})
_CREDIT = {"found": 1.0, "echo": _ECHO_CREDIT}   # of a concept's weight, by status
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


class ConceptMatcher:
    """Finds one question's concepts in its answers.

    An alias can only match where all of its stems occur, which one sparse product
    (answers x stems @ stems x aliases) tells for a whole batch (`candidates`); the window,
    sentence and negation checks then run only for those answers and aliases (`results`), not
    8 concepts x n answers.
    """

    def __init__(self, question: Question, phrase_stems: dict[Concept, list[tuple[str, ...]]],
                 prompt_stems: frozenset[str], columns: dict[str, int], model_answers: Sequence[Prepared] = ()):
        self.concepts = question.concepts
        self.prompt_stems = prompt_stems
        self.columns = columns   # the word vectorizer's vocabulary
        self.aliases = [(k, phrase) for k, c in enumerate(question.concepts) for phrase in phrase_stems[c]]
        self.phrase_sets = [frozenset(phrase) for _, phrase in self.aliases]
        # A negative concept ("no cell wall") is said with a negation: by its label.
        self.negative = [is_negative_phrase(question.concepts[k].label) for k, _ in self.aliases]
        self._first_alias = {}
        for a, (k, _) in enumerate(self.aliases):
            self._first_alias.setdefault(k, a)
        self.missing = [ConceptResult(c.label, c.weight, "missing", missing=c.missing) for c in question.concepts]
        self.total_weight = sum(c.weight for c in question.concepts) or 1.0
        # Concepts a model answer itself says with a negation beside them ("the server does not
        # remember", "UDP does not guarantee delivery"): a negation there agrees with the model
        # answer, so it cannot make the concept a denial.
        self.said_negated = frozenset(k for p in model_answers for k in self._said_with_negation(p))

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
            present = presence(words[:, [columns[s] for s in stems]])
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

    def results(self, p: Prepared, candidates: list[int]) -> list[ConceptResult]:
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

    def _said_with_negation(self, p: Prepared) -> set[int]:
        """The (non-negative) concepts that text p names with a negation in the window around them."""
        stem_positions: dict[str, list[int]] = defaultdict(list)
        for k, s in enumerate(p.content):
            stem_positions[s].append(k)
        said = set()
        for a, (k, phrase) in enumerate(self.aliases):
            if k in said or self.negative[a]:
                continue
            for first, last in _find_phrase(phrase, stem_positions):
                start_tok, end_tok = p.content_positions[first], p.content_positions[last]
                if _denying_negation(p, start_tok, end_tok):
                    said.add(k)
                    break
        return said

    def _match_concept(self, k: int, p: Prepared, stem_positions: dict[str, list[int]], phrases,
                       sentences: dict[tuple[int, int], set[str]]) -> ConceptResult:
        """Best occurrence of concept k among the given (aliases, their stem sets), in rubric
        order (the other aliases cannot match); stem_positions maps each content stem of the
        answer to its places among the content words; `sentences` caches _occurrence_status's
        per-sentence stems for the answer."""
        best: tuple[int, tuple[int, int], str] | None = None  # (rank, token span, status)
        negative = self.negative[self._first_alias[k]]
        deniable = k not in self.said_negated
        for phrase, phrase_set in phrases:
            for first, last in _find_phrase(phrase, stem_positions):
                start_tok, end_tok = p.content_positions[first], p.content_positions[last]
                status = self._occurrence_status(p, start_tok, end_tok, phrase_set, sentences, negative, deniable)
                if status is None:
                    continue
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

    def _occurrence_status(self, p: Prepared, start_tok: int, end_tok: int, phrase: frozenset[str],
                           sentences: dict[tuple[int, int], set[str]], negative: bool = False,
                           deniable: bool = True) -> str | None:
        """found, echo or negated; None for a negative concept named without a negation.
        `deniable`: False for a concept the model answers say with a negation themselves."""
        lo, hi = _sentence_of(p, start_tok)
        words = p.words
        if negative:
            before = max(lo, start_tok - _NEGATION_WINDOW_BEFORE)
            if not any(words[i] in NEGATIONS or words[i] in NEGATIVE_WORDS or
                       (words[i] == "not" and i + 1 < hi and words[i + 1] in _NOT_ENOUGH)
                       for i in range(before, end_tok + 1)):   # "lack" may be the phrase's own word
                return None
        elif deniable and _denying_negation(p, start_tok, end_tok, (lo, hi)):
            return "negated"
        beyond_prompt = sentences.get((lo, hi))
        if beyond_prompt is None:
            positions = p.content_positions[bisect_left(p.content_positions, lo):bisect_left(p.content_positions, hi)]
            beyond_prompt = sentences[lo, hi] = {p.stems[i] for i in positions} - self.prompt_stems
        novel = beyond_prompt - phrase
        if len(novel) >= 2 or not phrase & self.prompt_stems or set(p.content) <= phrase:
            return "found"   # adds to the question, names what the question does not, or is the key term itself
        return "echo"


def _denying_negation(p: Prepared, start_tok: int, end_tok: int, sentence: tuple[int, int] | None = None) -> bool:
    """Whether a negation in the window around tokens start_tok..end_tok of p, in the same
    clause, denies what they say (not one of _negation_excused's)."""
    lo, hi = sentence or _sentence_of(p, start_tok)
    before = max(lo, start_tok - _NEGATION_WINDOW_BEFORE, _clause_start(p, lo, start_tok))
    after = min(hi, end_tok + 1 + _NEGATION_WINDOW_AFTER, _clause_end(p, end_tok, hi))
    words = p.words
    return any(words[i] in NEGATIONS and not _negation_excused(p, i, hi, start_tok)
               for i in [*range(before, start_tok), *range(end_tok + 1, after)])


def _clause_start(p: Prepared, lo: int, token: int) -> int:
    """The first token of the clause holding `token` (its sentence begins at lo): a negation does
    not reach across a comma, a colon or a word such as "but" ("UDP is connectionless, no
    guarantee of delivery"; "TCP reliable, UDP not")."""
    for i in range(token, lo, -1):
        if starts_clause(p.text, p.starts, p.words, i):
            return i
    return lo


def _clause_end(p: Prepared, token: int, hi: int) -> int:
    """One past the last token of the clause holding `token` (its sentence ends before hi)."""
    for i in range(token + 1, hi):
        if starts_clause(p.text, p.starts, p.words, i):
            return i
    return hi


def is_negative_phrase(text: str) -> bool:
    """Whether a concept's phrase is itself negative: "no cell wall", "lack of incentives"."""
    words = [t.word for t in tokenize(text)]
    return any(w in NEGATIONS or w in NEGATIVE_WORDS for w in words)


def _negation_excused(p: Prepared, i: int, hi: int, concept_start: int) -> bool:
    """Negations that deny nothing the concept says: 'not only ... but', 'no longer', failing a
    target ('could not meet the quota'); a partial or comparative one ('not all workers', 'wasn't
    what most people lived'); and one about who someone is, before the concept ('workers who
    weren't Stakhanovites hated them')."""
    words, stems = p.words, p.stems
    following = words[i + 1] if i + 1 < hi else ""
    if words[i] == "not" and following in PARTIAL_NEGATION:
        return True
    if words[i] == "no" and following in {"longer", "matter", "doubt"}:
        return True
    for j in range(i + 1, min(hi, i + 3)):
        if stems[j] in FAILURE_VERBS:
            return True
    return (words[i] == "not" and i > 0 and words[i - 1] in COPULAS and i + 1 < concept_start
            and p.text[p.starts[i + 1]].isupper())


PARTIAL_NEGATION = frozenset({"only", "just", "merely", "simply", "what", "as", "how", "all", "always", "every",
                               "everyone", "everybody", "entirely", "completely", "necessarily", "exactly", "quite"})
COPULAS = frozenset({"is", "was", "were", "are", "am", "be", "been", "being"})


def _sentence_span(p: Prepared, char: int) -> tuple[int, int]:
    """Character span of the sentence holding the character (spans are sorted and disjoint)."""
    spans, starts = p.sentences()
    k = bisect_right(starts, char) - 1
    if k >= 0 and char < spans[k][1]:
        return spans[k]
    return 0, len(p.text)


def _sentence_of(p: Prepared, token_index: int) -> tuple[int, int]:
    """Token range [lo, hi) of the sentence holding the token (token starts are sorted)."""
    lo_char, hi_char = _sentence_span(p, p.starts[token_index])
    return bisect_left(p.starts, lo_char), bisect_left(p.starts, hi_char)


def _evidence(p: Prepared, span: tuple[int, int], max_words: int = 14) -> str:
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
