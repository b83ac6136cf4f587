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

from ..text import NEGATIONS, Token, sentence_spans, stem, tokenize
from .concepts import COPULAS, FAILURE_VERBS, NEGATIVE_WORDS, PARTIAL_NEGATION

# Not knowing or thinking something says nothing about whether it is so ("they didn't know the real output").
_STANCE_VERBS = frozenset(stem(w) for w in ("know", "think", "believe", "realise", "realize", "understand", "care",
                                             "want", "notice", "see", "expect", "matter"))
_SPELT_NEGATIONS = NEGATIVE_WORDS - {"missing", "absent", "absence", "lack", "lacks", "lacking"}   # "doesnt", "cant"

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
    token_starts = [t.start for t in tokens]
    out = []
    for lo, hi in sentence_spans(text):
        starts = [lo, *(lo + m.start() for m in _CLAUSE_BREAK_RE.finditer(text[lo:hi])), hi]
        for a, b in zip(starts, starts[1:]):
            inside = tokens[bisect_left(token_starts, a):bisect_left(token_starts, b)]
            if not inside:
                continue
            denied = set()
            for i, t in enumerate(inside):
                if ((t.word in NEGATIONS or t.word in _SPELT_NEGATIONS) and not _excused(inside, i, text)) or t.stem in _POLAR_STEMS:
                    scope = [u.stem for u in inside[i + 1:] if u.is_content and u.stem not in _POLAR_STEMS][:SCOPE]
                    denied.update(scope)
            stems = frozenset(t.stem for t in inside if t.is_content or t.stem in ANTONYMS)
            out.append(Clause((a, b), stems, frozenset(denied)))
    return out


def _excused(tokens, i: int, text: str) -> bool:
    """A negation that denies nothing: "not only", "not all", "not too high", failing a target
    ("could not meet the norms" agrees with norms that were hard to meet), who someone is
    ("workers who weren't Stakhanovites")."""
    following = [t for t in tokens[i + 1:i + 3]]
    if following and (following[0].word in PARTIAL_NEGATION or following[0].word in {"matter", "doubt", "too"}
                      or following[0].stem in _STANCE_VERBS):
        return True
    if following and i > 0 and tokens[i - 1].word in COPULAS and text[following[0].start:following[0].start + 1].isupper():
        return True
    return any(t.stem in FAILURE_VERBS for t in following)


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
        # Denied on one side only, for a word of the answer's own (the question's words are context).
        flipped = any((s in clause.denied) != (s in best.denied) for s in shared - prompt_stems)
        if opposite and shared <= _FUNCTION_ANTONYMS.keys() | prompt_stems and best_shared < 3:
            opposite = False
        if opposite or flipped:
            spans.append(clause.span)
    return spans


def matched_clauses(answer: list[Clause], references: list[Clause]) -> int:
    """How many of the answer's clauses share enough words with some model clause to be compared."""
    return sum(1 for c in answer if any(len((c.stems & r.stems) - _POLAR_STEMS) >= MIN_SHARED for r in references))
