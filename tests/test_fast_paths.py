"""The hot path's shortcuts (issue #16) give exactly what the plain computation gives."""

import random

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfTransformer, TfidfVectorizer

from grader.features.contradictions import (ReferenceClauses, clauses, contradicting_spans, prepared_clauses)
from grader.features.prepare import RubricVocabulary, Tokenizer
from grader.features.vectors import WordwiseCharTfidf, fitted_tfidf
from grader.rubric import rubric_from_dict

MODELS = ("TCP is connection-oriented and reliable: it guarantees that data arrives in order, but UDP does not "
          "guarantee delivery. Light travels much faster than sound.",
          "The workers never refused the higher norms; the regime did not hide the records, it praised them.")
PIECES = ["TCP", "UDP", "guarantees", "does not guarantee", "never", "refused", "data arrives", "in order", "delivery",
          "light", "travels", "slower", "faster", "than sound", "higher", "lower", "norms", "workers", "records",
          "hid", "praised", "the regime", "but", "while", ", so", "not only", "Not all", "could not meet", "reliable",
          "unreliable", "is", "was", "and", "it", "the", ".", ";", "!", "\n\n", "didn't", "can't"]


def _random_answers(n: int, seed: int = 7) -> list[str]:
    rng = random.Random(seed)
    return [" ".join(rng.choice(PIECES) for _ in range(rng.randint(1, 25))) for _ in range(n)]


def _rubric(model: str):
    return rubric_from_dict({"title": "t", "scale": {"max": 5, "step": 0.5},
                             "questions": [{"id": "q", "prompt": "Explain it.", "model_answers": [model]}]})


def test_answers_that_cannot_invert_a_model_clause_are_the_ones_with_no_inverted_clause():
    skipped = 0
    for model in MODELS:
        rubric = _rubric(model)
        tokenizer = Tokenizer(RubricVocabulary(rubric))
        references = ReferenceClauses.of([model])
        assert references.clauses == clauses(model)
        for answer in _random_answers(1500):
            p = tokenizer.prepare("q", answer)
            inverted = contradicting_spans(prepared_clauses(p), references.clauses, frozenset())
            if not references.may_invert(p.words, p.stems):
                skipped += 1
                assert inverted == [], answer
    assert skipped > 100   # the shortcut is taken, not only allowed


def test_clauses_of_a_prepared_answer_are_the_clauses_of_its_text():
    tokenizer = Tokenizer(RubricVocabulary(_rubric(MODELS[0])))
    for answer in _random_answers(1500, seed=11):
        # (no misspelt words in these pieces: the prepared stems are the plain ones)
        assert prepared_clauses(tokenizer.prepare("q", answer)) == clauses(answer), answer


def test_idf_from_block_counts_is_scikit_learns_idf_and_transform():
    rng = np.random.default_rng(0)
    for dtype in (np.float32, np.float64):
        counts = sp.random(2000, 300, density=0.05, format="csr", random_state=1, dtype=dtype)
        counts.data[:] = rng.integers(1, 6, counts.nnz)
        expected = TfidfTransformer(sublinear_tf=True).fit(counts)
        got = fitted_tfidf(np.bincount(counts.indices, minlength=300), 2000, dtype)
        assert got.idf_.dtype == expected.idf_.dtype and np.array_equal(got.idf_, expected.idf_)
        assert (got.transform(counts) != expected.transform(counts)).nnz == 0


def test_character_counts_from_factors_are_scikit_learns_char_wb_tfidf():
    texts = [" ".join(random.Random(k).choice(["stakhanov", "norms", "coal", "miners", "a", "record", "propaganda"])
                      for _ in range(k % 17)) for k in range(20_000)]
    expected = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True, dtype=np.float32)
    expected_rows = expected.fit_transform(texts)
    vectorizer = WordwiseCharTfidf((3, 5))
    factors = vectorizer.fit_factors(texts)
    np.testing.assert_allclose(vectorizer.idf_, expected.idf_, rtol=1e-6)
    rows = np.arange(5, 20_000, 3)
    got = vectorizer.transform_counts(factors.rows(rows), copy=False)
    np.testing.assert_allclose(got.toarray(), expected_rows[rows].toarray(), rtol=1e-5, atol=1e-6)
    assert (vectorizer.fit_counts(texts)[rows] != factors.rows(rows)).nnz == 0


def test_consonant_runs_by_bytes_are_the_regexs():
    from grader.flags.answer import _CONSONANT_RUN_RE, _has_consonant_run
    rng = random.Random(3)
    alphabet = "bcdfghjklmnpqrstvwxzBCDFGHJKLMNPQRSTVWXZaeiouyAEIOUY0123456789_ -'.,\n\t"
    texts = ["", "ccccc", "bcdfg", "bcdf", "BCDFGh", "bcd_fg", "bcd1fg", "strength", "rhythms", "tsktsk", "ñbcdfg",
             "bcdfgé", "éééé", *("".join(rng.choice(alphabet) for _ in range(rng.randint(0, 40))) for _ in range(20_000))]
    for text in texts:
        assert _has_consonant_run(text) == (_CONSONANT_RUN_RE.search(text) is not None), text


def _plain_sentence_spans(text: str) -> list:
    """text.sentence_spans with the look-behind regex it was first written with."""
    import re
    ends = re.compile(r"(?<=[.!?;:])\s+|\n\s*\n|\n(?=\s*(?:[-*•]|\d+[.)])\s)")
    spans, start = [], 0
    for match in ends.finditer(text):
        if text[start:match.start()].strip():
            spans.append((start, match.start()))
        start = match.end()
    if text[start:].strip():
        spans.append((start, len(text)))
    return spans


def test_sentence_spans_are_those_of_the_look_behind_regex():
    from grader.text import sentence_spans
    rng = random.Random(17)
    alphabet = ["a", "b", "Word", " ", "  ", "\n", "\n\n", "\t", ".", "!", "?", ";", ":", ",", "-", "*", "•", "1", "2.",
                "3)", "..", "\u00a0", "\u2028"]
    texts = ["", " ", ".", ". .", "a. b", "a.\n\nb", "a\n- b\n- c", "a\n 1. b", "a\n1) b", "a.. b", "a.\n \n b",
             *("".join(rng.choice(alphabet) for _ in range(rng.randint(0, 30))) for _ in range(30_000))]
    for text in texts:
        assert sentence_spans(text) == _plain_sentence_spans(text), repr(text)


def test_gibberish_check_is_the_plain_one():
    from grader.flags import answer as flags
    def plain(text):   # _looks_like_gibberish as first written: regexes and word lists
        stripped_length = len(text) - sum(text.count(ch) for ch in " \n\t")
        if stripped_length < 12:
            return False
        letters, vowels = len(flags._LETTER_RE.findall(text)), len(flags._VOWEL_RE.findall(text))
        if letters / stripped_length < 0.5:
            return True
        words = [w for w in text.split() if w.isalpha()]
        if len(words) < 3:
            return False
        if not 0.2 <= vowels / letters <= 0.65:
            return True
        return sum(1 for w in words if flags._CONSONANT_RUN_RE.search(w)) / len(words) > 0.3
    rng = random.Random(23)
    pieces = ["xkcd", "qwrtz", "bnmmm", "strength", "the", "a", "rhythm", "é", "ñandú", "42", "#$%", "  ", "\n", "\t",
              "norms", "Stakhanov", "zzzkx", "pfffft", "e", "ou", "."]
    texts = ["", "xkcd qwrtz bnmmm pfffft zzzkx vrrrm qwpzx", "#### $$$ %%% @@@ !!! ^^^", "a" * 20,
             *(" ".join(rng.choice(pieces) for _ in range(rng.randint(0, 12))) for _ in range(20_000))]
    for text in texts:
        assert flags._looks_like_gibberish(text) == plain(text), repr(text)
