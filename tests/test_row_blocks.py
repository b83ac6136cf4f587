"""The per-question signals read a question's answers a block of rows at a time (Runtime.block_rows),
the peer signals in two passes over the blocks: the results must be exactly (bit for bit) those of
one piece, whatever the block size, the last block's size, and whether the blocks' vectors are
kept between the passes or made again (Runtime.kept_bytes)."""

from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.feature_extraction.text import CountVectorizer

from grader.answers import read_answers
from grader.features import AnswerFeatures
from grader.features.peers import MIN_PEERS, PeerSimilarities, peer_margins
from grader.features.vectors import count_word_terms, l2_rows, word_terms
from grader.runtime import Runtime

SAMPLES = Path(__file__).resolve().parent.parent / "samples"


def one_piece_peer_similarities(vectors, model):
    """The one-piece computation (before the blocks), as the reference."""
    n = vectors.shape[0]
    direction = np.asarray(model.mean(axis=0)).ravel()
    length = np.linalg.norm(direction)
    direction = direction / length if length > 0 else direction
    to_model = np.asarray(vectors @ direction).ravel()
    if n < 2:
        return to_model.copy(), to_model.copy()
    own = np.asarray(vectors.multiply(vectors).sum(axis=1)).ravel()
    total = np.asarray(vectors.sum(axis=0)).ravel()
    to_total = np.asarray(vectors @ total).ravel()
    others_norm = np.sqrt(np.clip(total @ total - 2 * to_total + own, 0.0, None))
    dot_others = to_total - own
    has_others = others_norm > 1e-12
    safe = np.where(has_others, others_norm, 1.0)
    model_others = np.where(has_others, (direction @ total - to_model) / safe, 0.0)
    reference_norm = np.sqrt(np.clip(float(length > 0) + has_others + 2 * model_others, 0.0, None))
    dot = to_model + np.where(has_others, dot_others / safe, 0.0)
    cosine = np.divide(dot, reference_norm * np.sqrt(own), out=np.zeros(n), where=(reference_norm > 0) & (own > 0))
    weights = np.clip(to_model, 1e-3, None)
    weighted = np.asarray(vectors @ (vectors.T @ weights)).ravel() - own * weights
    return cosine, weighted / (weights.sum() - weights)


def random_unit_rows(rng, n, columns, dtype):
    rows = sp.random(n, columns, density=0.08, format="csr", dtype=dtype, random_state=rng)
    rows = rows[rng.permutation(n)]   # (a few empty rows among them)
    rows.sort_indices()
    return l2_rows(rows).tocsr().astype(dtype)


def in_blocks(n, size):
    return [slice(start, min(start + size, n)) for start in range(0, n, size)]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n", [1, 2, 7, 250])
def test_peer_similarities_in_blocks_are_those_of_one_piece(dtype, n):
    rng = np.random.default_rng(n)
    vectors, model = random_unit_rows(rng, n, 300, dtype), random_unit_rows(rng, 3, 300, dtype)
    expected = one_piece_peer_similarities(vectors, model)
    for size in (1, 3, 64, n):   # blocks of one row, an uneven last block, one piece
        peers = PeerSimilarities(model)
        for rows in in_blocks(n, size):
            peers.first_pass(vectors[rows])
        for rows in in_blocks(n, size):
            peers.second_pass(vectors[rows])
        for got, want in zip(peers.cosine_and_support(), expected):
            assert got.dtype == want.dtype and np.array_equal(got, want), size


def one_piece_peer_margins(by_question, unit_rows, other_questions):
    """The one-piece computation (before the blocks), as the reference."""
    margins = np.full(sum(len(rows) for rows in by_question.values()), np.nan)
    totals = {qid: np.asarray(unit.sum(axis=0)).ravel() for qid, unit in unit_rows.items()}
    closest = np.array(other_questions, dtype=object)
    for qid, rows in by_question.items():
        if len(rows) < MIN_PEERS + 1:
            continue
        unit, rows = unit_rows[qid], np.asarray(rows)
        own = np.asarray(unit.multiply(unit).sum(axis=1)).ravel()
        to_total = np.asarray(unit @ totals[qid]).ravel()
        others_norm = np.sqrt(np.clip(totals[qid] @ totals[qid] - 2 * to_total + own, 0.0, None))
        own_sim = (to_total - own) / np.maximum(others_norm, 1e-6)
        for other in set(closest[rows]) - {""}:
            if len(by_question.get(other, ())) < MIN_PEERS:
                continue
            picked = np.flatnonzero(closest[rows] == other)
            other_sim = np.asarray(unit[picked] @ totals[other]).ravel() / max(np.linalg.norm(totals[other]), 1e-12)
            margins[rows[picked]] = other_sim - own_sim[picked]
    return margins


def test_peer_margins_in_blocks_are_those_of_one_piece():
    rng = np.random.default_rng(5)
    sizes = {"a": 40, "b": 23, "c": 4}   # c: too few answers to say what an answer to it looks like
    by_question, start = {}, 0
    for qid, size in sizes.items():
        by_question[qid] = list(range(start, start + size))
        start += size
    unit_rows = {qid: random_unit_rows(rng, size, 200, np.float64) for qid, size in sizes.items()}
    closest = [str(rng.choice([q for q in sizes if q != qid])) for qid, rows in by_question.items() for _ in rows]
    expected = one_piece_peer_margins(by_question, unit_rows, closest)
    for size in (1, 6, 50):
        peers = {}
        for qid, unit in unit_rows.items():
            peers[qid] = PeerSimilarities(unit[:1])
            for rows in in_blocks(unit.shape[0], size):
                peers[qid].first_pass(unit[rows])
            for rows in in_blocks(unit.shape[0], size):
                peers[qid].second_pass(unit[rows])
        totals = {qid: p.total for qid, p in peers.items()}
        for qid, rows in by_question.items():
            got = peer_margins(qid, sizes, [closest[i] for i in rows], peers[qid], totals,
                               ((block, unit_rows[qid][block]) for block in in_blocks(len(rows), size)))
            np.testing.assert_array_equal(got, expected[rows])


@pytest.mark.parametrize("block_rows,kept_bytes", [(1, 1 << 30), (4, 0), (4, 1 << 30)])
def test_features_in_blocks_are_those_of_one_piece(rubric, block_rows, kept_bytes):
    pairs = [(a.question_id, a.text) for a in read_answers([str(SAMPLES)]) if a.problem is None]
    one_piece = AnswerFeatures(rubric, runtime=Runtime(processes=1, block_rows=10**6)).fit_analyze(pairs)
    blocks = AnswerFeatures(rubric, runtime=Runtime(processes=1, block_rows=block_rows,
                                                     kept_bytes=kept_bytes)).fit_analyze(pairs)
    sizes = [sum(q == qid for qid, _ in pairs) for q in {qid for qid, _ in pairs}]
    assert max(sizes) > MIN_PEERS and (block_rows == 1 or any(size % block_rows for size in sizes))   # uneven last blocks
    np.testing.assert_array_equal(blocks.values, one_piece.values)
    np.testing.assert_array_equal(blocks.foreign_shares, one_piece.foreign_shares)
    np.testing.assert_array_equal(blocks.other_margins, one_piece.other_margins)
    assert blocks.other_questions == one_piece.other_questions


@pytest.mark.parametrize("block", [1, 7, 64, 10_000])
def test_word_terms_counted_in_blocks_are_those_of_countvectorizer(block):
    rng = np.random.default_rng(block)
    stems = [f"s{i}" for i in range(60)]
    contents = [list(rng.choice(stems, size=rng.integers(0, 12))) for _ in range(500)] + [["only"], []]
    expected = CountVectorizer(analyzer=word_terms)
    want = expected.fit_transform(contents)
    want.sort_indices()   # (CountVectorizer leaves them in the order it met the terms)
    vocabulary, got = count_word_terms(contents, block)
    assert vocabulary == expected.vocabulary_
    assert got.dtype == np.float64 and got.indices.dtype == np.int32 and got.has_sorted_indices
    assert np.array_equal(got.indptr, want.indptr) and np.array_equal(got.indices, want.indices)
    assert np.array_equal(got.data, want.data)
