"""Near-duplicates: answers that (nearly) copy another student's answer to the same question.

Candidates are pairs that share a rare run of three words (or the whole text), so the work grows
with the number of shared passages, not with the square of the class size; each candidate is then
confirmed with character 4-gram cosine similarity.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from ..features import WordwiseCharTfidf
from ..text import joined_words

NEAR_DUPLICATE_SIMILARITY = 0.9


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
    for rows in by_question.values():
        if len(rows) < 2:
            continue
        candidates = _candidate_pairs([words[i] for i in rows])
        if not len(candidates):
            continue
        involved, local = np.unique(candidates.ravel(), return_inverse=True)
        local = local.reshape(-1, 2)
        # TfidfVectorizer(analyzer="char_wb", ngram_range=(4, 4), sublinear_tf=True) on the lowercase
        # texts, with each distinct word cut into 4-grams once.
        vectorizer = WordwiseCharTfidf((4, 4))
        vectors = vectorizer.transform_counts(vectorizer.fit_counts([texts[rows[k]].lower() for k in involved]))
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


def near_duplicates_in_texts(question_ids: list[str], student_ids: list[str], texts: list[str]) -> dict[int, tuple[int, float]]:
    """near_duplicates, making the word strings itself (as the features do): for a worker process
    that starts before the features exist."""
    return near_duplicates(question_ids, student_ids, texts, [joined_words(text) for text in texts])


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
