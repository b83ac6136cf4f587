"""Vectors of texts: TF-IDF of stemmed words and word pairs, and of character n-grams, plus the
sparse-matrix helpers the signals share.

The word vectorizer's vocabulary and counts are made by `count_word_terms` (numbers each term
once per distinct stem, counts in numpy); `WordwiseCharTfidf` counts character n-grams once per
distinct word and spreads them to texts with a sparse product.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.feature_extraction.text import CountVectorizer, TfidfTransformer, TfidfVectorizer
from sklearn.utils.validation import check_is_fitted


def word_terms(content: list[str]) -> list[str]:
    """Content stems and consecutive pairs of them: the word vectorizer's terms."""
    return content + [f"{a} {b}" for a, b in zip(content, content[1:])]


def count_word_terms(contents: list[list[str]], block: int = 8192) -> tuple[dict[str, int], sp.csr_matrix]:
    """The vocabulary (terms sorted, as CountVectorizer numbers them) and the term counts (float64,
    sorted indices, as CountVectorizer.transform gives them) of the texts' word_terms. Terms are
    numbered with one dict lookup per stem and counted in numpy, instead of a Python dict update
    per term per text; `block` texts at a time, so that the numpy work's temporary arrays (ten
    times the counts, all the texts at once) stay small."""
    ids: dict[str, int] = {}
    blocks = [contents[start:start + block] for start in range(0, len(contents), block)]
    stems_of = [np.fromiter((ids.setdefault(s, len(ids)) for content in texts for s in content),
                            dtype=np.int64, count=sum(map(len, texts))) for texts in blocks]
    if not ids:
        raise ValueError("empty vocabulary; perhaps the documents only contain stop words")
    n_stems = len(ids)

    def pair_codes(texts: list[list[str]], flat: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Each stem's text (within the block), the codes of the pairs of consecutive stems, and which stems start one."""
        text_of = np.repeat(np.arange(len(texts)), [len(content) for content in texts])
        in_text = text_of[1:] == text_of[:-1]          # consecutive stems of one text make a pair
        return text_of, flat[:-1][in_text] * n_stems + flat[1:][in_text], in_text

    pairs = np.unique(np.concatenate([np.unique(pair_codes(texts, flat)[1]) for texts, flat in zip(blocks, stems_of)]))
    stems = list(ids)
    terms = stems + [f"{stems[code // n_stems]} {stems[code % n_stems]}" for code in pairs.tolist()]
    column = np.empty(len(terms), dtype=np.int64)
    column[sorted(range(len(terms)), key=terms.__getitem__)] = np.arange(len(terms))
    counted = []
    for texts, flat in zip(blocks, stems_of):
        text_of, codes, in_text = pair_codes(texts, flat)
        rows = np.concatenate([text_of, text_of[1:][in_text]])
        cols = column[np.concatenate([flat, n_stems + np.searchsorted(pairs, codes)])]
        counts = sp.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(len(texts), len(terms)))
        counts.sum_duplicates()
        counts.sort_indices()
        counted.append(counts)
    return {term: int(col) for term, col in zip(terms, column.tolist())}, stacked_rows(counted)


def stacked_rows(blocks: list[sp.csr_matrix]) -> sp.csr_matrix:
    """sp.vstack of CSR blocks (emptied as they are copied: the list ends empty), without holding the
    blocks and the result in full at once: the result's arrays are filled block by block (np.empty
    pages cost memory only once written) while each block is let go."""
    n_rows, nnz = sum(b.shape[0] for b in blocks), sum(b.nnz for b in blocks)
    index_dtype = np.int32 if max(nnz, blocks[0].shape[1]) < np.iinfo(np.int32).max else np.int64
    data, indices = np.empty(nnz, dtype=blocks[0].dtype), np.empty(nnz, dtype=index_dtype)
    indptr, row, at = np.zeros(n_rows + 1, dtype=index_dtype), 0, 0
    shape = (n_rows, blocks[0].shape[1])
    while blocks:
        b = blocks.pop(0)
        data[at:at + b.nnz], indices[at:at + b.nnz] = b.data, b.indices
        indptr[row + 1:row + b.shape[0] + 1] = b.indptr[1:] + at
        row, at = row + b.shape[0], at + b.nnz
        del b
    return sp.csr_matrix((data, indices, indptr), shape=shape)


def term_weights(vectorizer: TfidfVectorizer, prompt_stems: frozenset[str], prompt_weight: float) -> np.ndarray:
    """Per-column weight: prompt_weight for terms made only of the question's words, else 1."""
    weights = np.ones(len(vectorizer.vocabulary_))
    for term, column in vectorizer.vocabulary_.items():
        if all(part in prompt_stems for part in term.split(" ")):
            weights[column] = prompt_weight
    return weights


def unigram_mask(vectorizer: TfidfVectorizer) -> np.ndarray:
    mask = np.zeros(len(vectorizer.vocabulary_))
    for term, column in vectorizer.vocabulary_.items():
        if " " not in term:
            mask[column] = 1.0
    return mask


def presence(matrix: sp.csr_matrix) -> sp.csr_matrix:
    """1.0 where the CSR matrix holds a positive value, else 0: (matrix > 0).astype(float), without
    scipy's general comparison (which costs a second at 100,000 answers x character n-grams)."""
    binary = matrix.copy()
    binary.data = (binary.data > 0).astype(np.float64)
    return binary


def l2_rows(matrix: sp.csr_matrix) -> sp.csr_matrix:
    norms = np.sqrt(np.asarray(matrix.multiply(matrix).sum(axis=1)).ravel())
    norms[norms == 0] = 1.0
    return sp.diags(1.0 / norms) @ matrix


def l1_rows(matrix: sp.csr_matrix) -> sp.csr_matrix:
    sums = np.asarray(abs(matrix).sum(axis=1)).ravel()
    sums[sums == 0] = 1.0
    return (sp.diags(1.0 / sums) @ matrix).tocsr()


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
        return self.fit_factors(texts).rows(slice(None))

    def fit_factors(self, texts) -> CharCounts:
        """fit(texts) and return the texts' n-gram counts as their two factors (CharCounts), whose
        rows() give what fit_counts gives, a block of texts at a time."""
        # One pass over the texts: the word counts give both the words to learn n-grams from
        # and, spread to n-grams, the document frequencies.
        word_counts = CountVectorizer(analyzer=str.split, dtype=np.float32)
        per_text = word_counts.fit_transform(texts)
        words = word_counts.get_feature_names_out()
        self.ngrams_ = CountVectorizer(analyzer="char_wb", ngram_range=tuple(self.ngram_range),
                                       dtype=np.float32).fit(words)
        counts = CharCounts(per_text.tocsr(), self.ngrams_.transform(words).tocsr())
        self.tfidf_ = fitted_tfidf(counts.document_frequencies(), per_text.shape[0], np.float32)
        return counts

    @property
    def idf_(self) -> np.ndarray:
        return self.tfidf_.idf_

    def transform(self, texts) -> sp.csr_matrix:
        check_is_fitted(self, "tfidf_")
        return self.transform_counts(self._counts(texts))

    def transform_counts(self, counts: sp.csr_matrix, copy: bool = True) -> sp.csr_matrix:
        """TF-IDF rows from n-gram counts (rows of fit_counts' or _counts' result); copy=False
        reuses the counts' arrays (for counts made for this call)."""
        check_is_fitted(self, "tfidf_")
        return self.tfidf_.transform(counts, copy=copy).astype(np.float32, copy=False).tocsr()

    def _counts(self, texts) -> sp.csr_matrix:
        word_counts = CountVectorizer(analyzer=str.split, dtype=np.float32)
        try:
            per_text = word_counts.fit_transform(texts)
        except ValueError:  # no words at all in these texts
            return sp.csr_matrix((len(texts), len(self.ngrams_.vocabulary_)), dtype=np.float32)
        return CharCounts(per_text, self.ngrams_.transform(word_counts.get_feature_names_out())).rows(slice(None))


@dataclass(frozen=True)
class CharCounts:
    """Character n-gram counts of texts kept as their two factors, texts x words @ words x n-grams
    (see WordwiseCharTfidf): a tenth of the memory of the product, which for 100,000 answers of 100
    words is half a GiB; rows() makes the product for the rows asked for."""

    per_text: sp.csr_matrix   # word counts of each text
    per_word: sp.csr_matrix   # n-gram counts of each word

    def rows(self, index) -> sp.csr_matrix:
        """The n-gram counts of the texts `index` selects (a slice, or an array of row numbers)."""
        return sorted_rows(self.per_text[index] @ self.per_word)

    def document_frequencies(self, block: int = 8192) -> np.ndarray:
        """In how many texts each n-gram occurs, counted `block` texts at a time (the product of
        all the texts at once is what these factors exist not to hold)."""
        df = np.zeros(self.per_word.shape[1], dtype=np.int64)
        for start in range(0, self.per_text.shape[0], block):
            df += np.bincount((self.per_text[start:start + block] @ self.per_word).indices, minlength=len(df))
        return df


def fitted_tfidf(df: np.ndarray, n_samples: int, dtype=np.float32) -> TfidfTransformer:
    """TfidfTransformer(sublinear_tf=True) fitted to document frequencies `df` of n_samples texts of
    counts in `dtype`: the idf TfidfTransformer.fit computes (smooth idf), from frequencies counted
    a block at a time instead of from the whole count matrix at once."""
    transformer = TfidfTransformer(sublinear_tf=True)
    df = df.astype(dtype, copy=False)   # as TfidfTransformer.fit computes it, in the counts' type
    df += 1.0
    idf = np.full_like(df, fill_value=n_samples + 1, dtype=dtype)
    idf /= df
    np.log(idf, out=idf)
    idf += 1.0
    transformer.idf_ = idf
    transformer.n_features_in_ = len(df)
    return transformer


def sorted_rows(counts: sp.spmatrix) -> sp.csr_matrix:
    """CSR with each row's n-grams in column order. The product leaves them in an order that
    depends on the texts counted with it; the float32 norms, summed in that order, would then
    differ in the last bit between counting a text in the batch and counting it alone. (The
    counts themselves are small integers, exact in float32 whatever the order.)"""
    counts = counts.tocsr()
    counts.sort_indices()
    return counts
