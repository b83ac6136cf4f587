"""Validity and gaming flags: answers a teacher should look at, each with its reason.

Flags come from the features (keyword lists, restated questions, off-topic text, gibberish,
repetition, contradictions, copies of the model answer) and from comparing students' answers
with each other (near-duplicates). A gaming flag caps the score: a flagged answer is scored
conservatively and always goes to the review queue.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer

from .features import FEATURE_NAMES, ConceptResult

_COL = {name: i for i, name in enumerate(FEATURE_NAMES)}

# Share of the marks a flagged answer can get at most; flags not listed do not cap.
SCORE_CAPS = {
    "keyword_list": 0.25,
    "keyword_stuffing": 0.25,
    "restates_question": 0.25,
    "off_topic": 0.25,
    "gibberish": 0.0,
    "not_english": 0.25,
    "repetitive": 0.25,
    "copies_model_answer": 0.25,
    "contradiction": 0.5,
}
NEAR_DUPLICATE_SIMILARITY = 0.9


@dataclass(frozen=True)
class Flag:
    code: str
    reason: str

    def to_dict(self) -> dict[str, str]:
        return {"code": self.code, "reason": self.reason}


def answer_flags(values: np.ndarray, concepts: list[ConceptResult], text: str, words: str, content_run: int,
                 model_triples: frozenset[str] = frozenset()) -> list[Flag]:
    """Flags one answer earns from its own features. `words` is the answer's lowercase words joined
    by spaces (Analysis.words), `content_run` its longest run of consecutive content words
    (Analysis.content_runs), `model_triples` the word triples of the question's model answers (see
    word_triples), to catch copied passages."""
    f = {name: values[i] for name, i in _COL.items()}
    n_content = int(round(np.expm1(f["content_words"])))
    n_words = len(text.split())
    flags: list[Flag] = []
    if _looks_like_gibberish(text):
        flags.append(Flag("gibberish", "the text is not made of words (random letters or symbols)"))
        return flags
    if n_words >= 8 and f["function_ratio"] < 0.08 and f["topic_density"] < 0.3:
        flags.append(Flag("not_english", "few English function words and little of the topic's vocabulary: not English or not prose"))
        return flags
    if n_content >= 3 and f["function_ratio"] < 0.12 and f["topic_density"] >= 0.3:
        flags.append(Flag("keyword_list", "a list of topic words without sentences that connect them"))
    elif n_content >= 10 and f["topic_density"] >= 0.9 and (f["unique_ratio"] < 0.85 or content_run >= 10):
        flags.append(Flag("keyword_stuffing", f"{f['topic_density']:.0%} of its words are rubric or model-answer terms, "
                                              "repeated or strung together without grammar"))
    if n_content >= 3 and f["novelty"] < 0.2:
        flags.append(Flag("restates_question", "mostly the question's own words, with nothing added"))
    if n_content >= 5 and f["topic_density"] < 0.12 and f["coverage"] <= 0.1 and f["word_recall"] < 0.06:
        flags.append(Flag("off_topic", "shares almost no vocabulary with the question, the model answers or the rubric"))
    if n_content >= 10 and f["unique_ratio"] < 0.4:
        flags.append(Flag("repetitive", f"repeats itself: {f['unique_ratio']:.0%} of its content words are distinct"))
    copied = _copied_share(words, model_triples)
    if copied >= 0.6 and n_words >= 12:
        flags.append(Flag("copies_model_answer", f"{copied:.0%} of its word sequences are copied from a model answer"))
    negated = [c for c in concepts if c.status == "negated"]
    found_weight = sum(c.weight for c in concepts if c.status == "found")
    if negated and sum(c.weight for c in negated) >= max(1.0, 0.5 * found_weight):
        labels = ", ".join(c.label for c in negated[:3])
        flags.append(Flag("contradiction", f"denies what the model answer affirms: {labels}"))
    return flags


_LETTER_RE = re.compile(r"[^\W\d_]")
_VOWEL_RE = re.compile(r"[aeiouyAEIOUY]")
_CONSONANT_RUN_RE = re.compile(r"[^\W\d_aeiouyAEIOUY]{5,}")


def _looks_like_gibberish(text: str) -> bool:
    """Mostly symbols, too few or too many vowels, or many words with five consonants in a row."""
    stripped_length = len(text) - sum(text.count(ch) for ch in " \n\t")
    if stripped_length < 12:
        return False
    letters = len(_LETTER_RE.findall(text))
    if letters / stripped_length < 0.5:
        return True
    words = [w for w in text.split() if w.isalpha()]
    if len(words) < 3:
        return False
    if not 0.2 <= len(_VOWEL_RE.findall(text)) / letters <= 0.65:
        return True
    consonant_runs = sum(1 for w in words if _CONSONANT_RUN_RE.search(w))
    return consonant_runs / len(words) > 0.3


def near_duplicates(question_ids: list[str], student_ids: list[str], texts: list[str],
                    words: list[str]) -> dict[int, tuple[int, float]]:
    """For each answer that (nearly) copies another student's answer to the same question:
    index -> (index of the most similar other student's answer, similarity 0..1). `words` are the
    answers' word strings (Analysis.words); `texts` the answers as written, for the final check.

    Candidates are pairs that share a rare run of three words (or the whole text), so the work
    grows with the number of shared passages, not with the square of the class size; each
    candidate is then confirmed with character 4-gram cosine similarity.
    """
    result: dict[int, tuple[int, float]] = {}
    by_question: dict[str, list[int]] = {}
    for i, qid in enumerate(question_ids):
        if words[i].count(" ") + 1 >= _MIN_DUPLICATE_WORDS:
            by_question.setdefault(qid, []).append(i)
    grams_of_word: dict[str, list[str]] = {}   # shared by the questions: most words recur
    for rows in by_question.values():
        if len(rows) < 2:
            continue
        candidates = _candidate_pairs([words[i] for i in rows])
        if not len(candidates):
            continue
        involved, local = np.unique(candidates.ravel(), return_inverse=True)
        local = local.reshape(-1, 2)
        vectorizer = TfidfVectorizer(analyzer=_char_wb_4grams(grams_of_word), sublinear_tf=True, dtype=np.float32)
        vectors = vectorizer.fit_transform([texts[rows[k]] for k in involved])
        # Row-wise dot products of the paired vectors, a block of pairs at a time to bound memory,
        # for the pairs whose upper bound can reach the threshold (most cannot); the rest stay 0.
        reachable = np.flatnonzero(_similarity_bound(vectors, local) >= NEAR_DUPLICATE_SIMILARITY - 1e-3)
        sims = np.zeros(len(local), dtype=np.float32)
        for block in np.array_split(reachable, max(1, len(reachable) // _PAIR_BLOCK)):
            if len(block):
                pair = local[block]
                sims[block] = np.asarray(vectors[pair[:, 0]].multiply(vectors[pair[:, 1]]).sum(axis=1)).ravel()
        # Most candidates fall well short: look at the few near the threshold one by one, with
        # the scalar comparisons below deciding (the margin only skips the clear misses).
        for n in np.flatnonzero(sims >= NEAR_DUPLICATE_SIMILARITY - 1e-3):
            value = sims[n]
            i, j = rows[candidates[n, 0]], rows[candidates[n, 1]]
            if value < NEAR_DUPLICATE_SIMILARITY or student_ids[i] == student_ids[j]:
                continue
            for mine, other in ((i, j), (j, i)):
                if mine not in result or value > result[mine][1]:
                    result[mine] = (other, min(1.0, float(value)))
    return result


_MIN_DUPLICATE_WORDS = 5
_PAIR_BLOCK = 20_000
_ONE_CODE_VOCABULARY = 2 ** 21   # (2**21)**3 = 2**63
_SHARED_SHINGLE_LIMIT = 50   # a word triple in more answers than this is common phrasing, not copying
_BOUND_GROUPS = 128          # column groups of _similarity_bound: more is tighter but slower


def _similarity_bound(vectors: sp.csr_matrix, pairs: np.ndarray) -> np.ndarray:
    """An upper bound of the dot product of each pair of rows, cheap to compute: the columns are
    dealt into _BOUND_GROUPS groups and, by Cauchy-Schwarz within each group, the dot product is
    at most the sum over groups of the product of the two rows' norms in the group. Rounding
    (float32, about 1e-5 here) stays far inside the 1e-3 margin the caller keeps."""
    squares = vectors.astype(np.float32)
    squares.data **= 2
    columns = np.arange(vectors.shape[1])
    groups = sp.csr_matrix((np.ones(len(columns), dtype=np.float32), (columns, columns % _BOUND_GROUPS)),
                           shape=(len(columns), _BOUND_GROUPS))
    norms = np.sqrt((squares @ groups).toarray())   # rows x groups, dense: 512 bytes a row
    return np.concatenate([
        np.einsum("ij,ij->i", norms[block[:, 0]], norms[block[:, 1]])
        for block in np.array_split(pairs, max(1, len(pairs) // _PAIR_BLOCK))
    ])


def _char_wb_4grams(cache: dict[str, list[str]]):
    """The analyzer of TfidfVectorizer(analyzer="char_wb", ngram_range=(4, 4)): the same 4-grams
    in the same order (so the same vectors), but each distinct word is cut into 4-grams once."""
    def analyze(text: str) -> list[str]:
        grams: list[str] = []
        for word in text.lower().split():
            cached = cache.get(word)
            if cached is None:
                padded = f" {word} "
                # A word shorter than four characters with its padding is one gram, as in scikit-learn.
                cached = cache[word] = [padded[k:k + 4] for k in range(len(padded) - 3)] or [padded]
            grams += cached
        return grams
    return analyze


def _candidate_pairs(word_strings: list[str]) -> np.ndarray:
    """Pairs (x < y) of answers whose words are identical or share at least a fifth of their rare
    word triples, as rows of an (n, 2) array in sorted order."""
    n_answers = len(word_strings)
    exact: dict[str, list[int]] = {}
    for k, words in enumerate(word_strings):
        exact.setdefault(words, []).append(k)
    firsts, seconds = [], []
    for group in exact.values():
        for n, x in enumerate(group[:-1]):
            partners = group[n + 1:n + 1 + _SHARED_SHINGLE_LIMIT]
            firsts += [x] * len(partners)
            seconds += partners
    codes = [np.asarray(firsts, dtype=np.int64) * n_answers + np.asarray(seconds, dtype=np.int64)]
    matrix = _rare_triples(word_strings)
    if matrix is not None:
        sizes = np.diff(matrix.indptr)
        shared = sp.triu(matrix @ matrix.T, k=1).tocoo()
        rows, cols = shared.row.astype(np.int64), shared.col.astype(np.int64)
        # "At least a fifth" in integers: the same pairs as count >= 0.2 * size in float32.
        enough = 5 * shared.data.astype(np.int64) >= np.minimum(sizes[rows], sizes[cols])
        codes.append(rows[enough] * n_answers + cols[enough])
    pairs = _distinct(np.concatenate(codes))
    return np.column_stack((pairs // n_answers, pairs % n_answers))


def _distinct(codes: np.ndarray) -> np.ndarray:
    """np.unique(codes), by sorting: on millions of int64 codes several times faster than the
    hash table np.unique uses for them (numpy >= 2.3)."""
    codes = np.sort(codes)
    return codes[np.concatenate(([True], codes[1:] != codes[:-1]))] if len(codes) else codes


def _rare_triples(word_strings: list[str]) -> sp.csr_matrix | None:
    """Binary answers x word-triples matrix (int32) of the triples (see word_triples) found in at
    most _SHARED_SHINGLE_LIMIT answers; None when there is none. Computed on integer codes rather
    than strings: a class of 30,000 answers has millions of triples."""
    lengths = np.fromiter(map(len, map(str.split, word_strings)), dtype=np.int64, count=len(word_strings))
    flat = " ".join(word_strings).split()   # the same words, split in C
    vocabulary = dict.fromkeys(flat)
    for code, word in enumerate(vocabulary):
        vocabulary[word] = code
    ids = np.fromiter(map(vocabulary.__getitem__, flat), dtype=np.int64, count=len(flat))
    n_triples = np.maximum(lengths - 2, 0)
    if not n_triples.sum():
        return None
    # Start of each triple in `ids`: every position but the last two of each answer.
    ends = np.cumsum(lengths)
    starts = np.repeat(ends - lengths, n_triples)
    starts += np.arange(len(starts)) - np.repeat(np.cumsum(n_triples) - n_triples, n_triples)
    size = len(vocabulary)
    if size < _ONE_CODE_VOCABULARY:   # three word codes fit in one int64
        codes = (ids[starts] * size + ids[starts + 1]) * size + ids[starts + 2]
    else:
        _, pair = np.unique(ids[starts] * size + ids[starts + 1], return_inverse=True)
        codes = pair.ravel() * size + ids[starts + 2]
    answer = np.repeat(np.arange(len(word_strings), dtype=np.int64), n_triples)
    order = np.argsort(codes, kind="stable")   # stable: each triple's answers stay in order
    codes, answer = codes[order], answer[order]
    new_triple = np.concatenate(([True], codes[1:] != codes[:-1]))
    first = new_triple | np.concatenate(([True], answer[1:] != answer[:-1]))   # each triple once per answer
    triple = np.cumsum(new_triple)[first] - 1
    answer = answer[first]
    n_distinct = int(triple[-1]) + 1
    rare = np.bincount(triple, minlength=n_distinct)[triple] <= _SHARED_SHINGLE_LIMIT
    if not rare.any():
        return None
    ones = np.ones(int(rare.sum()), dtype=np.int32)
    return sp.csr_matrix((ones, (answer[rare], triple[rare])), shape=(len(word_strings), n_distinct))


def _copied_share(words: str, model_triples: frozenset[str]) -> float:
    triples = word_triples(words)
    if not triples or not model_triples:
        return 0.0
    return sum(1 for t in triples if t in model_triples) / len(triples)


def word_triples(words: str) -> list[str]:
    """Runs of three consecutive words of a word string (see text.joined_words)."""
    split = words.split()
    return [f"{a} {b} {c}" for a, b, c in zip(split, split[1:], split[2:])]


def cap_for(flags: list[Flag], raised: dict[str, float] | None = None) -> float:
    """The highest share of the marks the answer's flags allow (1.0 when none caps); `raised` holds
    caps a tuned rubric raised where the teacher's marks exceeded the defaults."""
    raised = raised or {}
    return min([float(raised.get(flag.code, SCORE_CAPS.get(flag.code, 1.0))) for flag in flags], default=1.0)
