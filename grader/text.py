"""Text handling shared by every stage: decoding bytes, normalising, tokenising and stemming.

Everything here works offline: NLTK's Snowball stemmer needs no downloaded data, and the
function-word list comes from scikit-learn.
"""

from __future__ import annotations

import codecs
import re
import unicodedata
from functools import lru_cache
from typing import NamedTuple

from nltk.stem.snowball import SnowballStemmer
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS


class UnreadableText(ValueError):
    """Bytes that are not text in any encoding we accept (binary data, NUL bytes)."""


# scikit-learn's list holds a few words that carry meaning in an answer ("system", "fire",
# "found", "amount"...); they stay content words here. Negation cues stay function words
# for similarity but are looked at separately for contradictions.
_NOT_STOPWORDS = {
    "system", "bill", "fire", "found", "find", "interest", "amount", "detail", "describe",
    "computer", "thick", "thin", "top", "bottom", "front", "back", "full", "empty", "part",
    "call", "cry", "mill", "move", "name", "give", "first", "last", "next", "con", "de", "co",
    "side", "put", "show", "fill", "see", "keep", "get", "made", "take", "become", "became",
    "becomes", "becoming", "serious", "well", "less", "more", "most", "many", "much", "few",
    "hundred", "one", "two", "three", "four", "five", "six", "eight", "nine", "ten", "eleven",
    "twelve", "fifteen", "twenty", "forty", "fifty", "sixty", "former", "latter", "former",
}
STOPWORDS = frozenset(ENGLISH_STOP_WORDS - _NOT_STOPWORDS) | {"s", "t", "also", "would", "could", "should", "might", "may", "must", "shall", "will", "can", "did", "does", "doing", "done", "really", "very", "just", "like", "lot", "lots", "things", "thing", "stuff", "etc"}

NEGATIONS = frozenset({
    "not", "no", "never", "nothing", "none", "neither", "nor", "without", "hardly", "barely",
    "nobody", "nowhere", "unrelated", "irrelevant",
})

CLAUSE_WORDS = frozenset({"but", "however", "whereas", "while", "although", "though", "yet", "unlike", "instead",
                          "because", "so", "since", "unless", "except"})
"""Words that start another clause: what a negation says does not reach past them."""
_CLAUSE_MARKS = frozenset(",;:()[]|")


def starts_clause(text: str, starts, words, j: int) -> bool:
    """Whether token j (of tokens with character offsets `starts` in text, and lowercase `words`)
    starts another clause than token j - 1's: punctuation stands between them ("UDP is
    connectionless, no guarantee of delivery") or it is a word such as "but" or "so"."""
    return words[j] in CLAUSE_WORDS or not _CLAUSE_MARKS.isdisjoint(text[starts[j - 1]:starts[j]])


_NUMBER_WORDS = {
    "1": "one", "2": "two", "3": "three", "4": "four", "5": "five", "6": "six", "7": "seven",
    "8": "eight", "9": "nine", "10": "ten", "14": "fourteen",
}

_TOKEN_RE = re.compile(r"[^\W_]+(?:'[^\W_]+)*", re.UNICODE)
# A sentence ends at the whitespace after [.!?;:] (group 1: the punctuation is matched, not looked
# behind for, so that the regex engine can skip ahead to a candidate character: 1.7x faster), at a
# blank line, or before a list item.
_SENTENCE_END_RE = re.compile(r"[.!?;:](\s+)|\n\s*\n|\n(?=\s*(?:[-*•]|\d+[.)])\s)")

_PUNCT_MAP = str.maketrans({
    "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'", "\u00b4": "'",
    "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u201f": '"', "\u2033": '"', "\u00ab": '"', "\u00bb": '"',
    "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2014": " - ", "\u2015": " - ",
    "\u2212": "-", "\u2026": "...", "\u00a0": " ", "\u2007": " ", "\u202f": " ", "\u3000": " ",
    "\u200b": "", "\u200c": "", "\u200d": "", "\u2060": "", "\ufeff": "", "\u00ad": "",
    # Bidirectional controls reorder what a reader sees (and can hide words): removed from text.
    "\u200e": "", "\u200f": "", "\u061c": "", **{chr(c): "" for c in (*range(0x202a, 0x202f), *range(0x2066, 0x206a))},
    "\u2028": "\n", "\u2029": "\n\n", "\u0085": "\n",
})
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_SPACES_RE = re.compile(r"[ \t\r\f\v]+")
_BLANK_LINES_RE = re.compile(r"\n\s*\n\s*(?:\n\s*)+")


def decode_bytes(data: bytes, check: bool = True) -> tuple[str, str]:
    """Decode a file's bytes; returns (text, encoding name).

    Order: a byte-order mark (UTF-8/16/32), UTF-16 without a BOM (every other byte NUL),
    strict UTF-8, then cp1252 with latin-1 for the five bytes cp1252 leaves undefined.
    Raises UnreadableText for binary data (NUL bytes or many control characters); with
    check=False only bytes that decode as nothing at all are refused (for a CSV file, whose
    cells are checked one by one with binary_reason).
    """
    _check_text = _checked if check else (lambda text: text)
    for bom, encoding in ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
                          (codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"),
                          (codecs.BOM_UTF16_BE, "utf-16")):
        if data.startswith(bom):
            try:
                return _check_text(data.decode(encoding)), encoding
            except UnicodeDecodeError as exc:
                raise UnreadableText(f"starts with a {encoding} byte-order mark but is not valid {encoding}") from exc
    if len(data) >= 4 and b"\x00" in data:
        sample = data[:4096]
        odd_nuls = sample[1::2].count(0) / max(1, len(sample[1::2]))
        even_nuls = sample[0::2].count(0) / max(1, len(sample[0::2]))
        for share, encoding in ((odd_nuls, "utf-16-le"), (even_nuls, "utf-16-be")):
            if share > 0.9:
                try:
                    return _check_text(data.decode(encoding)), encoding
                except UnicodeDecodeError:
                    pass
        if check:
            raise UnreadableText("holds NUL bytes: binary data, not text")
    try:
        return _check_text(data.decode("utf-8")), "utf-8"
    except UnicodeDecodeError:
        pass
    text = "".join(
        chunk.decode("cp1252", errors="strict") if _is_cp1252(chunk) else chunk.decode("latin-1")
        for chunk in _split_undefined_cp1252(data)
    )
    return _check_text(text), "cp1252"


_CP1252_UNDEFINED = b"\x81\x8d\x8f\x90\x9d"


def _is_cp1252(chunk: bytes) -> bool:
    return not any(b in _CP1252_UNDEFINED for b in chunk)


def _split_undefined_cp1252(data: bytes) -> list[bytes]:
    # cp1252 leaves five bytes undefined; decode those one by one as latin-1.
    return [part for part in re.split(b"([\x81\x8d\x8f\x90\x9d])", data) if part]


def _checked(text: str) -> str:
    reason = binary_reason(text)
    if reason:
        raise UnreadableText(reason)
    return text


def binary_reason(text: str) -> str | None:
    """Why decoded text looks like binary data (NUL or many control characters), or None."""
    if not text:
        return None
    if "\x00" in text:
        return "holds NUL characters: binary data, not text"
    sample = text[:4096]
    controls = len(_CONTROL_RE.findall(sample))
    private = 0 if sample.isascii() else sum(1 for ch in sample if ord(ch) > 127 and unicodedata.category(ch) in ("Co", "Cn", "Cs"))
    if (controls + private) / len(sample) > 0.05:
        return "mostly control or unassigned characters: binary data, not text"
    return None


_ASCII_CONTROL_RE = re.compile(r"[\x00-\x09\x0b-\x1f\x7f]")   # all but the newline


def _is_tidy_ascii(text: str) -> bool:
    """True when normalize() would return `text` unchanged because it is ASCII (which NFKC and the
    punctuation map leave alone) with no control character but newlines, no tab, no doubled
    space, no space beside a newline, no three newlines in a row and no whitespace at either end.
    Plain substring tests: several times faster than one regular expression for all of it."""
    return (text.isascii() and text == text.strip() and "  " not in text and " \n" not in text
            and "\n " not in text and "\n\n\n" not in text and not _ASCII_CONTROL_RE.search(text))


def normalize_id(text: str) -> str:
    """A student or question id as given, less surrounding whitespace: never NFKC or invisible-
    character removal, which would merge distinct students ("ｆｕｌｌ" and "full")."""
    return text.strip()


def normalize(text: str) -> str:
    """Canonical form of an answer: NFKC, straight quotes, plain dashes, tidy whitespace, no
    bidirectional controls."""
    if _is_tidy_ascii(text):   # most answers and every id: 3 calls per answer read
        return text
    return normalize_fully(text)


def normalize_fully(text: str) -> str:
    """normalize() without its shortcut for text that is already tidy ASCII."""
    text = unicodedata.normalize("NFKC", text).translate(_PUNCT_MAP)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _CONTROL_RE.sub(" ", text)
    lines = [_SPACES_RE.sub(" ", line).strip() for line in text.split("\n")]
    text = "\n".join(lines).strip()
    return _BLANK_LINES_RE.sub("\n\n", text)


class Token(NamedTuple):
    """One word of an answer: where it stands, its lowercase form, its stem, and whether it is a
    content word (not a function word or a negation). A tuple: millions are made per run."""

    start: int
    end: int
    word: str
    stem: str
    is_content: bool


@lru_cache(maxsize=1)
def _stemmer() -> SnowballStemmer:
    return SnowballStemmer("english")


@lru_cache(maxsize=200_000)
def stem(word: str) -> str:
    """Snowball stem of a lowercase word; numbers become words so "5-year" meets "five-year"."""
    word = _NUMBER_WORDS.get(word, word)
    return _stemmer().stem(word)


def tokenize(text: str) -> list[Token]:
    """Words with their character offsets in `text`; "didn't" gives "did" + "not"."""
    tokens: list[Token] = []
    append = tokens.append
    for match in _TOKEN_RE.finditer(text):
        start = match.start()
        for piece in match_tokens(match.group()):
            append(Token(start + piece.start, start + piece.end, piece.word, piece.stem, piece.is_content))
    return tokens


def word_matches(text: str):
    """The regex matches of the words of `text`, which match_tokens splits into tokens; for callers
    that look tokens up per distinct matched string instead of building Tokens."""
    return _TOKEN_RE.finditer(text)


@lru_cache(maxsize=200_000)
def match_tokens(match: str) -> tuple[Token, ...]:
    """The tokens of one regex match, offsets relative to the match's start. A pure function of
    the matched string, so it is computed once per distinct word (a few thousand in a big batch)."""
    word = match.lower()
    end = len(match)
    if "'" in word:
        if word.endswith("n't"):
            head = _NEGATED_HEADS.get(word[:-3], word[:-3]) or "not"
            return (Token(0, end - 3, head, stem(head), _is_content(head)), Token(end - 3, end, "not", "not", False))
        word = word.split("'", 1)[0]  # possessive / contraction: "stakhanov's" -> "stakhanov"
        end = len(word)
        if not word:
            return ()
    return (Token(0, end, word, stem(word), _is_content(word)),)


_NEGATED_HEADS = {"ca": "can", "wo": "will", "sha": "shall"}


@lru_cache(maxsize=200_000)
def _is_content(word: str) -> bool:
    return word not in STOPWORDS and word not in NEGATIONS


def joined_words(text: str) -> str:
    """The lowercase words of `text` (its tokens' words) joined by single spaces: the form answers
    are compared in for copying (word triples, exact duplicates). Made from the regex's matched
    strings without building tokens: near-duplicate search needs nothing else."""
    return " ".join([word for match in _TOKEN_RE.findall(text) for word in _match_words(match)])


@lru_cache(maxsize=200_000)
def _match_words(match: str) -> tuple[str, ...]:
    return tuple(token.word for token in match_tokens(match))


def rarest_words(texts, exclude: frozenset[str] | set[str], rarity, limit: int) -> list[tuple[str, str]]:
    """Key terms of `texts`: their content words (alphabetic, 3+ letters) whose stems are not in
    `exclude`, as (stem, word as first written), rarest first by `rarity(stem)` (lower is rarer),
    then most frequent in the texts, then alphabetical."""
    words: dict[str, str] = {}
    counts: dict[str, int] = {}
    for text in texts:
        for token in tokenize(text):
            if token.is_content and token.stem not in exclude and token.word.isalpha() and len(token.word) > 2:
                words.setdefault(token.stem, token.word)
                counts[token.stem] = counts.get(token.stem, 0) + 1
    ranked = sorted(words, key=lambda s: (rarity(s), -counts[s], s))
    return [(s, words[s]) for s in ranked[:limit]]


def quotable(text: str, limit: int) -> str:
    """Text to quote inside double quotes: one line, its own double quotes made single, cut to
    at most `limit` characters with "..." at the end of a word (inside a word only when the
    first word alone is longer than the limit)."""
    text = " ".join(text.split()).replace('"', "'")
    if len(text) <= limit:
        return text
    cut = text[: limit - 3]
    if text[limit - 3] != " " and " " in cut:   # the cut falls inside a word: end at the word before
        cut = cut[: cut.rindex(" ")]
    return cut.rstrip(" ,;:.") + "..."


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """Character spans of the sentences (or list items / paragraphs) of `text`."""
    spans: list[tuple[int, int]] = []
    start = 0
    for match in _SENTENCE_END_RE.finditer(text):
        end = match.start(1) if match.start(1) >= 0 else match.start()   # (where the whitespace starts)
        if text[start:end].strip():
            spans.append((start, end))
        start = match.end()
    if text[start:].strip():
        spans.append((start, len(text)))
    return spans


# What must never reach a terminal raw: C0 and C1 controls (escape sequences start with ESC or
# CSI), DEL, line and paragraph separators, and the bidirectional controls that reorder what is
# shown (a file name "gpj.exe" with U+202E displays as "exe.jpg").
_UNPRINTABLE_RE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff]")


def terminal_safe(text: str) -> str:
    """`text` for one line of a terminal message: every control, separator or bidi character is
    shown as an escape (\\x1b, \\u202e) instead of acting."""
    return _UNPRINTABLE_RE.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)


FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
"""A cell starting with one of these is a formula to Excel, LibreOffice and Google Sheets (OWASP's
list for CSV injection): grader's CSV writers prefix such a cell with an apostrophe, and its CSV
readers take that apostrophe off again, so that a file grader wrote reads back as it was."""


def from_spreadsheet_safe(cell: str) -> str:
    """A cell as it was before writers.files.spreadsheet_safe protected it."""
    return cell[1:] if cell.startswith("'") and cell.lstrip("'").startswith(FORMULA_START) else cell
