"""Flags one answer earns from its own features and text: keyword lists, restated questions,
off-topic text, wrong question, padding, gibberish, repetition, copies of the model answer,
contradictions. Each comes with its reason, for the teacher."""

from __future__ import annotations

import math
import re
import string
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from ..features import FEATURE_NAMES, ConceptResult
from ..features.contradictions import CONTRADICTED_SHARE
from ..rubric import Question, Rubric
from ..text import joined_words, quotable, tokenize


FOREIGN_SHARE_OFF_TOPIC = 0.33
"""An answer that brings in the question's subject only as a comparison ("...just like
Stakhanovism") is off topic when at least this share of its distinct content words is foreign
(used by neither the rubric nor two other answers in the batch). Genuine answers reach it rarely
(median 0.1-0.2, 95th percentile 0.34-0.42 on the teacher-graded sets in tests/fixtures), and
those that compare with the subject reached at most 0.30 there."""
FOREIGN_SHARE_PERSONAL = 0.2
"""The same for a first-person story ("Last summer I got a job..."); no genuine answer in the
fixtures has three first-person words outside "I think" and the like."""
OTHER_QUESTION_MARGIN = (0.06, 0.05)
"""wrong_question: how much more similar (word cosine, char cosine) an answer must be to another
question's model answers than to its own."""
OTHER_QUESTION_PEER_MARGIN = 0.1
"""...and to the class's answers to that question than to the class's other answers to its own
(checked when both questions have enough answers in the batch)."""
SHORT_MODEL_ANSWER_WORDS = 8
"""A question whose model answers are all this short is answered in a few words: a list of terms or
a bare noun phrase is the answer, not a keyword list, and it cannot add much beyond the question."""
KEYWORD_LIST_RUN = 0.75
"""keyword_list: the share of an answer's content words that stand in one unbroken run. A list is
one run ("osmosis, water, cell, bursts"); a terse sentence is broken by its few function words
("Switches use MAC addresses and routers use IP addresses": runs of 4 of its 8)."""
STUFFING_UNIQUE_RATIO = 0.6
"""keyword_stuffing: an answer made of the topic's terms is stuffed when it strings them together
(a run of 10 content words), repeats them (fewer than this share distinct), or both in part (under
85% distinct and a run of 6). Two correct sentences that contrast two things repeat their terms
but in sentences ("a switch connects devices ... a router connects networks": 70-80% distinct,
runs of 5 at most)."""
PARAPHRASE_CHAR_COSINE = 0.7
"""copies_model_answer for a reworded copy: char n-gram cosine with a model answer (genuine essay
answers stay below about 0.55)..."""
COPY_WORDS = 40
"""...in an answer of at least this many words, to a model answer as long (long_model_answers):
a reworded copy is as long as what it copies, while short correct answers to a narrow question
(why objects fall at the same rate in a vacuum) reach 0.7-0.85 in 20-30 words of their own."""


@dataclass(frozen=True, slots=True)
class Flag:
    code: str
    reason: str

    def to_dict(self) -> dict[str, str]:
        return {"code": self.code, "reason": self.reason}


@dataclass(frozen=True)
class QuestionChecks:
    """What an answer's flags compare it with, built once per question (see rubric_checks)."""

    copy_triples: frozenset[str] = frozenset()   # word triples of the model answers and the course reading
    comparison: re.Pattern | None = None         # subject_comparison(question)
    long_model_answers: bool = True              # COPY_WORDS or more: a close paraphrase of one is a copy
    short_model_answers: bool = False            # all SHORT_MODEL_ANSWER_WORDS or fewer: a few words answer it


def rubric_checks(rubric: Rubric) -> dict[str, QuestionChecks]:
    """The QuestionChecks of each question of the rubric, by question id."""
    source_triples = _triples_of(rubric.sources)
    lengths = {q.id: max(len(text.split()) for text in q.model_answers) for q in rubric.questions}
    return {q.id: QuestionChecks(source_triples | _triples_of(q.model_answers), subject_comparison(q),
                                 lengths[q.id] >= COPY_WORDS, lengths[q.id] <= SHORT_MODEL_ANSWER_WORDS)
            for q in rubric.questions}


def _triples_of(texts) -> frozenset[str]:
    return frozenset(t for text in texts for t in word_triples(joined_words(text)))


def answer_flags(values: Sequence[float], concepts: list[ConceptResult], text: str, words: str, content_run: int,
                 checks: QuestionChecks = QuestionChecks(), foreign_share: float = 0.0, other_question: str = "",
                 other_margins: tuple[float, ...] = (0.0, 0.0, float("nan"))) -> list[Flag]:
    """Flags one answer earns from its own features (`values`, in FEATURE_NAMES order). `words` is
    the answer's lowercase words joined by spaces (Analysis.words), `content_run` its longest run of
    consecutive content words (Analysis.content_runs), `foreign_share`, `other_question` and
    `other_margins` its entries in the Analysis too; `checks` is its question's QuestionChecks."""
    f = dict(zip(FEATURE_NAMES, values))
    n_content = int(round(math.expm1(f["content_words"])))
    n_words = len(text.split())
    flags: list[Flag] = []
    if _looks_like_gibberish(text):
        flags.append(Flag("gibberish", "the text is not made of words (random letters or symbols)"))
        return flags
    if _NO_ANSWER_RE.match(text):
        flags.append(Flag("no_answer", "says only that the student does not know, or nothing at all"))
        return flags
    if n_words >= 8 and f["function_ratio"] < 0.08 and f["topic_density"] < 0.3:
        flags.append(Flag("not_english", "few English function words and little of the topic's vocabulary: not English or not prose"))
        return flags
    short = checks.short_model_answers
    if short:
        pass   # a list of terms is how a short question is answered; the score weighs what it names
    elif (n_content >= 3 and f["function_ratio"] < 0.12 and f["topic_density"] >= 0.3
          and content_run >= KEYWORD_LIST_RUN * n_content):
        flags.append(Flag("keyword_list", "a list of topic words without sentences that connect them"))
    elif (n_content >= 10 and f["topic_density"] >= 0.9
          and (content_run >= 10 or f["unique_ratio"] < STUFFING_UNIQUE_RATIO
               or (f["unique_ratio"] < 0.85 and content_run >= 6))):
        flags.append(Flag("keyword_stuffing", f"{f['topic_density']:.0%} of its words are rubric or model-answer terms, "
                                              "repeated or strung together without grammar"))
    if n_content >= 3 and f["novelty"] < 0.2 and not (short and f["word_recall"] >= 0.5):
        flags.append(Flag("restates_question", "mostly the question's own words, with nothing added"))
    compared, personal = None, False
    if checks.comparison is not None and foreign_share >= FOREIGN_SHARE_PERSONAL:   # (the regexes only where they can matter)
        personal = len(_FIRST_PERSON_RE.findall(text)) >= 3
        if foreign_share >= (FOREIGN_SHARE_PERSONAL if personal else FOREIGN_SHARE_OFF_TOPIC):
            compared = checks.comparison.search(text)
    if n_content >= 5 and f["topic_density"] < 0.12 and f["coverage"] <= 0.1 and f["word_recall"] < 0.06:
        flags.append(Flag("off_topic", "shares almost no vocabulary with the question, the model answers or the rubric"))
    elif n_content >= 8 and compared:
        story = "a personal story" if personal else "mostly about something else"
        flags.append(Flag("off_topic", f"{story} ({foreign_share:.0%} of its words are foreign to the question and to "
                                       f"the class) that brings in the subject only as a comparison: "
                                       f"\"{quotable(compared.group(), 60)}\""))
    if other_question and _closer_to_other_question(other_margins) and not (short and f["word_recall"] >= 0.5):
        flags.append(Flag("wrong_question", f"reads as an answer to {other_question}: it is closer to that question's "
                                            "model answers than to this one's"))
    if n_words >= 40 and f["word_recall"] < 0.1:   # padding says little of what the model answers say
        stock = _STOCK_PHRASE_RE.findall(text)
        if len(stock) >= 4 and len(stock) >= 0.03 * n_words:
            examples = ", ".join(f'"{phrase}"' for phrase in dict.fromkeys(p.lower() for p in stock[:8]))
            flags.append(Flag("padding", f"mostly generic sentences that could stand in any answer ({len(stock)} stock "
                                         f"phrases such as {examples})"))
    if n_content >= 10 and f["unique_ratio"] < 0.4:
        flags.append(Flag("repetitive", f"repeats itself: {f['unique_ratio']:.0%} of its content words are distinct"))
    copied = _copied_share(words, checks.copy_triples)
    if copied >= 0.6 and n_words >= 12:
        flags.append(Flag("copies_model_answer", f"{copied:.0%} of its word sequences are copied from a model answer "
                                                 "or the course reading"))
    elif f["char_cosine"] >= PARAPHRASE_CHAR_COSINE and n_words >= COPY_WORDS and checks.long_model_answers:
        # (only long answers and model answers: close to a one-line definition is just right, and a
        # correct two-sentence answer to a narrow question reaches 0.7-0.85 on its own)
        flags.append(Flag("copies_model_answer", f"a lightly reworded model answer ({f['char_cosine']:.0%} similar)"))
    negated = [c for c in concepts if c.status == "negated"]
    found_weight = sum(c.weight for c in concepts if c.status == "found")
    # One negated concept beside others that are affirmed is usually a clause the matcher misread
    # ("workers who weren't Stakhanovites hated them"); a denial denies several, or all it names.
    if negated and (len(negated) >= 2 or not found_weight) and sum(c.weight for c in negated) >= max(1.0, 0.5 * found_weight):
        labels = ", ".join(c.label for c in negated[:3])
        flags.append(Flag("contradiction", f"denies what the model answer affirms: {labels}"))
    elif f.get("contradicted", 0.0) >= CONTRADICTED_SHARE:
        flags.append(Flag("contradiction", f"{f['contradicted']:.0%} of the clauses that say what the model answer says "
                                           "state its opposite (a negation, a role word such as refused or ended, or "
                                           "an antonym)"))
    return flags


# Words before "like" that make it a comparison ("it's like", "kind of like", "just like"), not an
# example ("heroes like Stakhanov").
_LIKE_LEADS = ("is", "was", "are", "were", "it's", "its", "that's", "seems", "seemed", "looks", "looked", "sounds",
               "feels", "of", "lot", "just", "much", "very", "quite", "bit", "exactly", "almost", "pretty", "little",
               "somewhat", "more", "not unlike")
_COMPARATIVES = ("similar to", "the same as", "same as", "reminds me of", "reminds us of", "reminded me of",
                 "compared to", "compared with", "comparable to", "resembles", "resembled", "akin to",
                 "parallels", "mirrors", "just as with")


# Phrases that fill an answer without saying anything about the question: a few belong in any essay,
# but an answer made of them is padding.
_STOCK_PHRASE_RE = re.compile(
    r"\b(?:in conclusion|to conclude|to sum up|overall|it is important|it's important|very important|there are many"
    r"|many different|in many ways|in some ways|both sides|the good side|the bad side|positive and negative"
    r"|good and bad|we can learn|we must|history shows|it can be said|lots of things|a lot of things"
    r"|one of the things|many things|consider all|all of them|many factors|lots of factors|many opinions"
    r"|different opinions|debated|it depends|in many countries|every country|in world history|the past"
    r"|the future|significant in many)\b", re.IGNORECASE)

_FIRST_PERSON_RE = re.compile(r"\b(?:I|me|my|we|our|us|My|We|Our)\b(?!\s+(?:think|believe|feel|guess|would say)\b)")


def subject_comparison(question: Question) -> re.Pattern | None:
    """A pattern for the question's subject brought in as a comparison: "just like Stakhanovism",
    "similar to the Five-Year Plans", "Like the Five-Year Plans, the New Deal...". The subject is
    the question's proper nouns: capitalised words of the prompt (after its first word) and of
    the concept labels. None when the question has no proper noun."""
    subject = set()
    for text, skip_first in ((question.prompt, True), *((c.label, False) for c in question.concepts)):
        tokens = tokenize(text)[1 if skip_first else 0:]
        # Four letters or more: "New Soviet Man" must not make "like new" or "like Manchester" a cue.
        subject.update(t.stem for t in tokens if t.is_content and t.stem.isalpha() and len(t.stem) >= 4
                       and text[t.start].isupper())
    if not subject:
        return None
    subject_re = "(?:" + "|".join(re.escape(s) for s in sorted(subject)) + r")\w{0,4}\b"
    lead = "|".join(re.escape(w) for w in _LIKE_LEADS)
    comparative = "|".join(re.escape(w) for w in _COMPARATIVES)
    return re.compile(
        rf"(?:(?:\b(?:{lead})\s+|^|[.!?;:]\s+)like|\b(?:{comparative}))\s+(?:[\w'-]+\s+){{0,3}}?{subject_re}"
        rf"|\blike\s+(?:the\s+|in\s+)?{subject_re}",
        re.IGNORECASE)


def _closer_to_other_question(margins: tuple[float, ...]) -> bool:
    """Both kinds of evidence that can be had (model answers, the class's answers; NaN where there
    is too little to compare) say the answer belongs to another question, and at least one exists."""
    word, char, peers = (*margins, float("nan"))[:3]
    by_model = None if np.isnan(word) else bool(word >= OTHER_QUESTION_MARGIN[0] and char >= OTHER_QUESTION_MARGIN[1])
    # The class alone (model answers too short to compare) must say it more clearly.
    by_peers = None if np.isnan(peers) else bool(peers >= OTHER_QUESTION_PEER_MARGIN * (1 if by_model else 2))
    evidence = [said for said in (by_model, by_peers) if said is not None]
    return bool(evidence) and all(evidence)


# A whole answer that says the student does not know ("idk", "no clue", "?"): marks would come only
# from the scorer's intercept (the general model gave "idk" 1 of 5 when graded alone). Not "none",
# "nothing" or "NA": each can be a right answer ("how many...", sodium).
_NO_ANSWER_RE = re.compile(
    r"^\W*(?:(?:i\s+)?(?:do\s*n[o']?t|dont)\s+know|idk|dunno|no\s+(?:idea|clue)|not\s+sure|\?+)\W*$", re.IGNORECASE)
_LETTER_RE = re.compile(r"[^\W\d_]")
_VOWEL_RE = re.compile(r"[aeiouyAEIOUY]")
_CONSONANT_RUN_RE = re.compile(r"[^\W\d_aeiouyAEIOUY]{5,}")


_ASCII_LETTERS = string.ascii_letters.encode("ascii")
_ASCII_VOWELS = b"aeiouyAEIOUY"


def _looks_like_gibberish(text: str) -> bool:
    """Mostly symbols, too few or too many vowels, or many words with five consonants in a row."""
    stripped_length = len(text) - sum(text.count(ch) for ch in " \n\t")
    if stripped_length < 12:
        return False
    if text.isascii():   # counted by bytes.translate in C: this runs for every answer
        data = text.encode("ascii")
        letters = len(data) - len(data.translate(None, _ASCII_LETTERS))
        vowels = len(data) - len(data.translate(None, _ASCII_VOWELS))
    else:
        letters, vowels = len(_LETTER_RE.findall(text)), len(_VOWEL_RE.findall(text))
    if letters / stripped_length < 0.5:
        return True
    split = text.split()
    n_words = sum(map(str.isalpha, split))   # the alphabetic words (counted in C; listed only when needed)
    if n_words < 3:
        return False
    if not 0.2 <= vowels / letters <= 0.65:
        return True
    if not _has_consonant_run(text):
        return False
    return sum(1 for w in split if w.isalpha() and _CONSONANT_RUN_RE.search(w)) / n_words > 0.3


# ASCII consonant letters -> "c", every other byte -> " ": what _CONSONANT_RUN_RE matches in ASCII.
_CONSONANT_BYTES = bytes(ord("c") if chr(b) in string.ascii_letters and chr(b) not in "aeiouyAEIOUY" else ord(" ")
                         for b in range(256))


def _has_consonant_run(text: str) -> bool:
    """_CONSONANT_RUN_RE.search(text) is not None; for ASCII text by bytes.translate and a substring
    test in C (the regex tries its class at every character: half of the gibberish check's time)."""
    if text.isascii():
        return b"ccccc" in text.encode("ascii").translate(_CONSONANT_BYTES)
    return _CONSONANT_RUN_RE.search(text) is not None


def _copied_share(words: str, copy_triples: frozenset[str]) -> float:
    triples = word_triples(words)
    if not triples or not copy_triples:
        return 0.0
    return sum(map(copy_triples.__contains__, triples)) / len(triples)


def word_triples(words: str) -> list[str]:
    """Runs of three consecutive words of a word string (see text.joined_words)."""
    split = words.split()
    return list(map(" ".join, zip(split, split[1:], split[2:])))
