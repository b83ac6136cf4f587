"""The throughput benchmark's synthetic answers are what it says they are: their mean length is the
length asked for (within 15%), and a long answer is many different sentences, not one template
repeated (benchmarks/throughput.py)."""

from __future__ import annotations

import importlib.util
import statistics
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parent.parent / "benchmarks" / "throughput.py"


@pytest.fixture(scope="module")
def throughput():
    spec = importlib.util.spec_from_file_location("throughput_benchmark", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module          # dataclasses look their module up while it loads
    try:
        spec.loader.exec_module(module)
        yield module
    finally:
        del sys.modules[spec.name]


@pytest.mark.parametrize("length", [15, 100, 300])
def test_mean_length_and_variety(throughput, length):
    n = 900 if length < 300 else 450
    rows = list(throughput.generate_answers(n, length, seed=7))
    assert len(rows) == n and {qid for _, qid, _ in rows} == {"q1", "q2", "q3"}
    mean = statistics.mean(len(text.split()) for _, _, text in rows)
    assert abs(mean - length) <= 0.15 * length, f"mean {mean:.1f} words for a target of {length}"
    overall, within = throughput.distinct_sentence_ratio(text for _, _, text in rows)
    assert within >= 0.95, f"only {within:.0%} of an answer's sentences are distinct"
    assert overall >= 0.35, f"only {overall:.0%} of all sentences are distinct"


def test_same_seed_same_answers_and_other_seed_others(throughput):
    first = list(throughput.generate_answers(30, 300, seed=1))
    assert first == list(throughput.generate_answers(30, 300, seed=1))
    assert first != list(throughput.generate_answers(30, 300, seed=2))
