"""Contradictions: clauses of an answer that say the opposite of a model answer with its words.

Each clause of the answer is set against the model-answer clause it shares most content words
with (at least two, and at least 40% of the shorter). It contradicts that clause when:

- a word they share is denied on one side only: in the scope (the next three content words) of a
  negation or a role word that undoes what it governs ("not", "never", "refused", "opposed",
  "ended", "against"...): "TCP does not guarantee delivery" against "TCP guarantees delivery"; or
- it uses the antonym of a word of the model clause that it does not use itself ("water moves
  out of the cell", "light is slower than sound", "lower norms" against "higher norms").

Embedding similarity cannot see these inversions; this is negation and antonym scope over the
model answers' own clauses. The column `contradicted` is the share of the answer's clauses that
match a model answer and contradict it; the spans let the concept matcher refuse to quote an
inverted clause as evidence.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bisect import bisect_left
from itertools import compress

from ..text import NEGATIONS, Token, sentence_spans, starts_clause, stem, tokenize
from .prepare import Prepared
from .concepts import COPULAS, FAILURE_VERBS, NEGATIVE_WORDS, PARTIAL_NEGATION

# Not knowing or thinking something says nothing about whether it is so ("they didn't know the real output").
_STANCE_VERBS = frozenset(stem(w) for w in ("know", "think", "believe", "realise", "realize", "understand", "care",
                                             "want", "notice", "see", "expect", "matter"))
_SPELT_NEGATIONS = NEGATIVE_WORDS - {"missing", "absent", "absence", "lack", "lacks", "lacking"}   # "doesnt", "cant"
DENIAL_WORDS = NEGATIONS | _SPELT_NEGATIONS
"""Words that may deny what follows them (with ROLE_WORDS among the stems): a clause without one
of them denies nothing."""

# Words that undo or oppose what they govern, beside the negations.
ROLE_WORDS = frozenset({"refus", "oppos", "end", "stop", "reject", "ban", "abolish", "deni", "never",
                        "prevent", "cancel", "halt", "forbid", "forbad", "prohibit"})
_ANTONYM_PAIRS = [
    ("fast", "slow"), ("faster", "slower"), ("more", "less"), ("more", "fewer"), ("higher", "lower"), ("high", "low"),
    ("increase", "decrease"), ("increase", "reduce"), ("raise", "lower"), ("rise", "fall"), ("into", "out"),
    ("gain", "lose"), ("same", "different"), ("heavier", "lighter"), ("inside", "outside"),
    ("swell", "shrink"), ("strong", "weak"), ("hot", "cold"), ("warm", "cool"), ("conductor", "insulator"),
    ("reliable", "unreliable"), ("connectionless", "connection"), ("stateless", "stateful"), ("absorb", "release"),
    ("attract", "repel"), ("accept", "reject"), ("support", "oppose"), ("encourage", "discourage"),
    ("reward", "punish"), ("praise", "criticise"), ("praise", "criticize"), ("longer", "shorter"),
    ("long", "short"), ("success", "failure"), ("add", "remove"), ("positive", "negative"), ("many", "few"),
    ("always", "never"), ("allow", "forbid"), ("legal", "illegal"), ("larger", "smaller"), ("bigger", "smaller"),
    ("big", "small"), ("large", "small"), ("exceed", "miss"), ("boost", "cut"), ("promote", "suppress"),
    ("celebrate", "condemn"), ("public", "secret"), ("win", "lose"), ("open", "closed"),
    ("independent", "dependent"), ("voluntary", "compulsory"), ("private", "public"),
]
ANTONYMS: dict[str, frozenset[str]] = {}
for _a, _b in _ANTONYM_PAIRS:
    ANTONYMS[stem(_a)] = ANTONYMS.get(stem(_a), frozenset()) | {stem(_b)}
    ANTONYMS[stem(_b)] = ANTONYMS.get(stem(_b), frozenset()) | {stem(_a)}
_POLAR_STEMS = frozenset(ROLE_WORDS)
_FUNCTION_ANTONYMS = {stem(w): 1 for w in ("into", "out", "up", "down", "more", "less", "many", "few")}
_CLAUSE_BREAK_RE = re.compile(r",?\s+\b(?:but|while|whereas|although|though|however|yet)\b|,\s+(?:so|because)\b", re.I)
MIN_SHARED = 2
CONTRADICTED_SHARE = 0.5   # an answer with this share of its matching clauses inverted contradicts the model answer
SCOPE = 2   # content words a negation or role word governs
MIN_SHARED_SHARE = 0.4


@dataclass(frozen=True, slots=True)
class Clause:
    span: tuple[int, int]      # characters in its text
    stems: frozenset[str]      # content stems (polarity and antonym words included)
    denied: frozenset[str]     # stems in the scope of a negation or role word (the next three content words)


def clauses(text: str, tokens: list[Token] | None = None) -> list[Clause]:
    """The clauses of a text: its sentences, split again at "but", "while", ", so", ", because"...
    `tokens`: the text's tokens when they are at hand (offsets in `text`)."""
    tokens = list(tokenize(text)) if tokens is None else tokens
    return clauses_of_columns(text, sentence_spans(text), [t.start for t in tokens], [t.word for t in tokens],
                              [t.stem for t in tokens], [t.is_content for t in tokens])


def prepared_clauses(p: Prepared) -> list[Clause]:
    """clauses() of a prepared answer (stems spelling-corrected), from its token columns."""
    is_content = [False] * len(p.words)
    for i in p.content_positions:
        is_content[i] = True
    return clauses_of_columns(p.text, p.sentences()[0], p.starts, p.words, p.stems, is_content)


def clauses_of_columns(text: str, sentences, starts, words, stems, is_content) -> list[Clause]:
    """clauses() of a text given as token columns (offsets, words, stems, content or not, one entry
    per token) and its sentence spans: what a prepared answer already holds, so that no Token is
    made. Only the few denial and role words are looked at one by one."""
    cues = [i for i, (word, stem_) in enumerate(zip(words, stems)) if word in DENIAL_WORDS or stem_ in _POLAR_STEMS]
    kept = [content or stem_ in ANTONYMS for stem_, content in zip(stems, is_content)]
    out = []
    for lo, hi in sentences:
        breaks = [lo, *(m.start() for m in _CLAUSE_BREAK_RE.finditer(text, lo, hi)), hi]
        for a, b in zip(breaks, breaks[1:]):
            first, stop = bisect_left(starts, a), bisect_left(starts, b)
            if first == stop:
                continue
            denied = set()
            for i in cues[bisect_left(cues, first):bisect_left(cues, stop)]:
                if stems[i] in _POLAR_STEMS or not _excused(i, first, stop, text, starts, words, stems):
                    scope = [stems[j] for j in range(i + 1, _scope_end(i, stop, text, starts, words))
                             if is_content[j] and stems[j] not in _POLAR_STEMS][:SCOPE]
                    denied.update(scope)
            out.append(Clause((a, b), frozenset(compress(stems[first:stop], kept[first:stop])), frozenset(denied)))
    return out


@dataclass(frozen=True)
class ReferenceClauses:
    """A question's model-answer clauses, and what an answer needs for one of them to be inverted."""

    clauses: list[Clause]
    stems: frozenset[str]             # every stem of the clauses
    denied: frozenset[str]            # stems some model clause denies (an answer that affirms one inverts it)
    antonym_triggers: frozenset[str]  # stems whose antonym a model clause uses

    @classmethod
    def of(cls, texts) -> ReferenceClauses:
        found = [c for text in texts for c in clauses(text)]
        stems = frozenset().union(*(c.stems for c in found))
        return cls(found, stems, frozenset().union(*(c.denied for c in found)),
                   frozenset(s for s, opposite in ANTONYMS.items() if opposite & stems))

    def may_invert(self, words, stems) -> bool:
        """False when no clause of an answer with these token words and stems can contradict a model
        clause (contradicting_spans would find none): it has no denial word, no role word, no
        antonym of a model clause's word and none of the words a model clause denies. Then its
        clauses need not be built (a third of the answers or more)."""
        return (not DENIAL_WORDS.isdisjoint(words) or not _POLAR_STEMS.isdisjoint(stems)
                or not self.antonym_triggers.isdisjoint(stems) or not self.denied.isdisjoint(stems))


def _scope_end(i: int, stop: int, text: str, starts, words) -> int:
    """Where the scope of the negation or role word at token i ends: at the clause's end (stop) or
    where another clause starts ("UDP doesn't check, so data can be lost" denies no data)."""
    return next((j for j in range(i + 1, stop) if starts_clause(text, starts, words, j)), stop)


def _excused(i: int, first: int, stop: int, text: str, starts, words, stems) -> bool:
    """A negation (token i of the clause of tokens first..stop) that denies nothing: "not only",
    "not all", "not too high", failing a target ("could not meet the norms" agrees with norms that
    were hard to meet), who someone is ("workers who weren't Stakhanovites")."""
    following = range(i + 1, min(i + 3, stop))
    if following and (words[following[0]] in PARTIAL_NEGATION or words[following[0]] in {"matter", "doubt", "too"}
                      or stems[following[0]] in _STANCE_VERBS):
        return True
    if following and i > first and words[i - 1] in COPULAS and text[starts[following[0]]:starts[following[0]] + 1].isupper():
        return True
    return any(stems[j] in FAILURE_VERBS for j in following)


def contradicting_spans(answer: list[Clause], references: list[Clause], prompt_stems: frozenset[str]) -> list[tuple[int, int]]:
    """Character spans of the answer's clauses that contradict the model clause they match best."""
    spans = []
    for clause in answer:
        best, best_shared = None, 0
        for reference in references:
            shared = len((clause.stems & reference.stems) - _POLAR_STEMS)
            if shared > best_shared:
                best, best_shared = reference, shared
        if best is None or best_shared < MIN_SHARED:
            continue
        if best_shared < MIN_SHARED_SHARE * min(len(clause.stems), len(best.stems)):
            continue
        if best_shared < 3 and len((clause.stems & best.stems) - prompt_stems - _POLAR_STEMS) < 2:
            continue   # two words in common, one of them the question's, is not the same claim
        opposite = any(ANTONYMS.get(s, frozenset()) & (best.stems - clause.stems) for s in clause.stems - best.stems)
        shared = (clause.stems & best.stems) - _POLAR_STEMS
        # Denied on one side only, for a word of the answer's own (the question's words are context),
        # and only one of the two clauses denies anything: two negative clauses agree on their
        # polarity, whatever words their scopes reach ("it can't fit the substrate any more" against
        # "the substrate no longer fits").
        flipped = (bool(clause.denied) != bool(best.denied)
                   and any((s in clause.denied) != (s in best.denied) for s in shared - prompt_stems))
        if opposite and shared <= _FUNCTION_ANTONYMS.keys() | prompt_stems and best_shared < 3:
            opposite = False
        if opposite or flipped:
            spans.append(clause.span)
    return spans


def matched_clauses(answer: list[Clause], references: list[Clause]) -> int:
    """How many of the answer's clauses share enough words with some model clause to be compared."""
    return sum(1 for c in answer if any(len((c.stems & r.stems) - _POLAR_STEMS) >= MIN_SHARED for r in references))
