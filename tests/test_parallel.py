"""A big batch is spread over forked processes (grader/runtime.py): the results must be exactly
those of one process, and a worker's failure must reach the caller."""

import os
import sys
from pathlib import Path

import pytest

from grader.answers import Answer, read_answers
from grader.grading import grade
from grader.runtime import SERIAL, Forked, Runtime, WorkerStopped

FORK_ALWAYS = Runtime(min_items=1)

SAMPLES = Path(__file__).resolve().parent.parent / "samples"

needs_fork = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="forked workers run on Linux only")


def test_split_map_without_fork_is_one_call():
    calls = []
    assert Runtime().split_map(lambda a, b: calls.append((a, b)) or list(range(a, b)), 10) == list(range(10))
    assert calls == [(0, 10)]   # under min_items
    assert SERIAL.split_map(lambda a, b: calls.append((a, b)) or list(range(a, b)), 10_000) == list(range(10_000))
    assert calls[-1] == (0, 10_000)   # one process


@needs_fork
def test_split_map_computes_the_second_half_in_another_process():
    parent = os.getpid()
    assert FORK_ALWAYS.split_map(lambda a, b: [(i, os.getpid() == parent) for i in range(a, b)], 7) == [
        (0, True), (1, True), (2, True), (3, False), (4, False), (5, False), (6, False)]


@needs_fork
def test_an_error_in_a_worker_is_raised_here():

    def second_half_fails(start, stop):
        if start > 0:
            raise ValueError(f"item {start} is bad")
        return list(range(start, stop))

    with pytest.raises(ValueError, match="item 2 is bad"):
        FORK_ALWAYS.split_map(second_half_fails, 4)


@needs_fork
def test_a_worker_that_dies_is_a_clear_error():
    with pytest.raises(WorkerStopped, match="stopped before it finished"):
        Forked(os._exit, 1).result()


@needs_fork
def test_grading_in_two_processes_gives_the_same_results(rubric):
    answers = read_answers([str(SAMPLES)])
    copied = next(a for a in answers if a.problem is None and len(a.text.split()) > 30)
    answers.append(Answer("zed", copied.question_id, copied.text.replace(" the ", " a ", 1), "copy"))
    in_one = grade(rubric, answers, runtime=SERIAL)
    in_two = grade(rubric, answers, runtime=FORK_ALWAYS)
    assert len(in_two) == len(in_one) == len(answers)
    for one, two in zip(in_one, in_two):
        assert two == one, (one.student_id, one.question_id)
    assert any("near_duplicate" in r.flag_codes for r in in_two)
    assert len({r.question_id for r in in_two}) >= 2   # the per-question split has something to split


@needs_fork
def test_a_worker_whose_result_is_not_taken_is_stopped():
    import time

    with pytest.raises(RuntimeError, match="failed here first"):
        with Forked(time.sleep, 60) as worker:
            raise RuntimeError("failed here first")
    assert not worker._process.is_alive()
