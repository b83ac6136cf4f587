"""The fast near-duplicate helpers give what the scikit-learn formulation they replace gives."""

import random

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer

from grader.flags import duplicates
from grader.features import WordwiseCharTfidf
from grader.flags import word_triples
from grader.flags.duplicates import _candidate_pairs, _similarity_bound


def _reference_pairs(word_strings):
    pairs = set()
    exact = {}
    for k, words in enumerate(word_strings):
        exact.setdefault(words, []).append(k)
    for group in exact.values():
        pairs.update((x, y) for n, x in enumerate(group) for y in group[n + 1:][:50])
    try:
        matrix = CountVectorizer(analyzer=word_triples, binary=True, max_df=50, dtype=np.float32).fit_transform(word_strings).tocsr()
    except ValueError:
        return sorted(pairs)
    sizes = np.asarray(matrix.sum(axis=1)).ravel()
    shared = sp.triu(matrix @ matrix.T, k=1).tocoo()
    pairs.update((int(x), int(y)) for x, y, c in zip(shared.row, shared.col, shared.data) if c >= 0.2 * min(sizes[x], sizes[y]))
    return sorted(pairs)


@pytest.mark.parametrize("one_code_vocabulary", [2 ** 21, 1])   # 1: the two-step triple codes
def test_candidate_pairs_match_the_reference(monkeypatch, one_code_vocabulary):
    monkeypatch.setattr(duplicates, "_ONE_CODE_VOCABULARY", one_code_vocabulary)
    rng = random.Random(7)
    vocabulary = [f"w{n}" for n in range(40)]
    for n_answers in (2, 5, 60, 300):
        answers = [" ".join(rng.choice(vocabulary) for _ in range(rng.randint(5, 30))) for _ in range(n_answers)]
        answers += answers[: n_answers // 3]                        # exact copies
        answers += ["a b c d e"] * 70                                # a common answer: copies capped at 50 partners
        expected = _reference_pairs(answers)
        assert [tuple(p) for p in _candidate_pairs(answers).tolist()] == expected


def test_candidate_pairs_without_rare_triples():
    assert _candidate_pairs(["a b c d e", "f g h i j"]).tolist() == []
    assert _candidate_pairs(["a b c d e", "a b c d e"]).tolist() == [[0, 1]]


@pytest.mark.parametrize("ngrams", [(4, 4), (3, 5)])   # near-duplicates; the char features
def test_wordwise_char_tfidf_matches_scikit_learn(ngrams):
    texts = ["The Five-Year  Plans\twanted a LOT of coal, é à ß İ", "a b cd", "x", "Stakhanov's record: 102 tons!\n\nYes",
             "coal coal coal and more coal"]
    lowered = [text.lower() for text in texts]
    reference = TfidfVectorizer(analyzer="char_wb", ngram_range=ngrams, sublinear_tf=True, dtype=np.float32)
    expected = reference.fit_transform(texts).toarray()
    vectorizer = WordwiseCharTfidf(ngrams)
    from_counts = vectorizer.transform_counts(vectorizer.fit_counts(lowered)).toarray()
    assert vectorizer.ngrams_.get_feature_names_out().tolist() == reference.get_feature_names_out().tolist()
    np.testing.assert_allclose(from_counts, expected, atol=1e-6)
    np.testing.assert_allclose(vectorizer.transform(lowered[::-1]).toarray(), expected[::-1], atol=1e-6)


def test_similarity_bound_is_never_below_the_dot_product():
    rng = np.random.default_rng(5)
    vectors = sp.random(300, 2000, density=0.05, format="csr", dtype=np.float32, random_state=rng)
    vectors = sp.vstack([vectors[0], vectors[0], vectors[2:]]).tocsr()   # an identical pair: dot product 1
    vectors = sp.csr_matrix(vectors.multiply(1 / np.sqrt(vectors.multiply(vectors).sum(axis=1))))
    pairs = np.column_stack((rng.integers(0, 300, 5000), rng.integers(0, 300, 5000)))
    pairs[0] = (0, 1)
    exact = np.asarray(vectors[pairs[:, 0]].multiply(vectors[pairs[:, 1]]).sum(axis=1)).ravel()
    assert np.all(_similarity_bound(vectors, pairs) >= exact - 1e-5)
