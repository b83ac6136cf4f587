"""Writing the outputs: the same files whether the report is written in this process or a forked one."""

import sys

import pytest
from conftest import SAMPLES

import grader.writers
from grader.answers import read_answers
from grader.grading import grade
from grader.runtime import Runtime
from grader.writers import OutputError, write_outputs

FORK_ALWAYS = Runtime(min_items=1)

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the forked writer is used on Linux only")


@pytest.fixture(scope="module")
def results(rubric):
    return grade(rubric, read_answers([SAMPLES]))


def files_of(folder):
    return {path.relative_to(folder).as_posix(): path.read_bytes() for path in sorted(folder.rglob("*")) if path.is_file()}


def test_report_written_by_a_forked_process_is_the_same(rubric, results, tmp_path, monkeypatch):
    here, forked = tmp_path / "here", tmp_path / "forked"
    here.mkdir(), forked.mkdir()
    written_here = write_outputs(results, rubric, here)
    written_forked = write_outputs(results, rubric, forked, runtime=FORK_ALWAYS)
    assert [p.relative_to(forked) for p in written_forked] == [p.relative_to(here) for p in written_here]
    same, other = files_of(here), files_of(forked)
    assert same.keys() == other.keys() and len(same) > 5
    for name in same:
        if name != "report.html":   # it shows the minute it was made
            assert same[name] == other[name], name


def test_an_error_in_the_forked_writer_is_raised_here(rubric, results, tmp_path, monkeypatch):
    def fail(*args, **kwargs):
        raise OutputError(f"{tmp_path}: disk full; free some space")

    monkeypatch.setattr(grader.writers, "write_report", fail)
    with pytest.raises(OutputError, match="disk full"):
        write_outputs(results, rubric, tmp_path, runtime=FORK_ALWAYS)
