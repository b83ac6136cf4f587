"""The output folder under attack (issue #14): what the grader did not write is never replaced or
read, the set of outputs switches as a whole, a second run is locked out, a full disk or a kill
leaves the previous outputs as they were, and no student string runs as a formula or a path."""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import FIXTURES, ROOT, SAMPLES
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import grader.writers
from grader.answers import Answer
from grader.cli import main
from grader.grading import grade
from grader.pipeline import Grader
from grader.writers.files import NAME_BYTES, UniqueNames, safe_file_name, spreadsheet_safe
from grader.writers.outputs import MANIFEST, STAGING, OutputFolder

OUTPUTS = ("grades.csv", "grades.json", "gradebook.csv", "report.html")


def run_cli(*args):
    return CliRunner().invoke(main, list(args))


def leftovers(folder: Path) -> list[str]:
    """Temporary files or folders a run left behind."""
    return sorted(p.name for p in folder.rglob("*") if p.name.endswith((".tmp", ".old")) or p.name == STAGING)


def snapshot(folder: Path) -> dict[str, bytes]:
    """The files a teacher sees (not the grader's own hidden lock, manifest and staging)."""
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file() and not any(part.startswith((".grader-", "..grader-")) for part in p.relative_to(folder).parts)}


def write_answers_csv(path: Path, rows) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["student_id", "question_id", "answer"])
        writer.writerows(rows)
    return path


# -- 1. --out overlapping the input; files the grader did not write ---------------------------------

def test_out_that_is_the_input_folder_is_refused_and_nothing_is_touched(tmp_path):
    import shutil

    folder = tmp_path / "class"
    shutil.copytree(SAMPLES, folder)
    before = snapshot(folder)
    result = run_cli("grade", str(folder), "--out", str(folder))
    assert result.exit_code == 2
    assert result.output.count("\n") == 1 and "--out is the input folder" in result.output
    assert snapshot(folder) == before and not (folder / MANIFEST).exists()


def test_input_folder_named_feedback_inside_out_is_refused(tmp_path):
    import shutil

    out = tmp_path / "out"
    shutil.copytree(SAMPLES, out / "feedback")
    before = snapshot(out)
    result = run_cli("grade", str(out / "feedback"), "--out", str(out))
    assert result.exit_code == 2 and "over the input" in result.output
    assert snapshot(out) == before


def test_a_file_the_grader_did_not_write_is_never_replaced(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "grades.csv").write_text("my own spreadsheet\n")
    result = run_cli("grade", str(SAMPLES), "--out", str(out))
    assert result.exit_code == 2 and "was not written by grader" in result.output
    assert (out / "grades.csv").read_text() == "my own spreadsheet\n"
    assert not (out / "report.html").exists() and leftovers(out) == []


def test_rerun_keeps_the_teachers_files_and_edited_pages(tmp_path):
    out = tmp_path / "out"
    assert run_cli("grade", str(SAMPLES), "--out", str(out)).exit_code == 0
    (out / "feedback" / "notes-for-me.txt").write_text("talk to ben")
    page = out / "feedback" / "ben.md"
    time.sleep(0.01)
    page.write_text(page.read_text() + "\nWell done on q2!\n")
    (out / "my-summary.txt").write_text("mine")
    result = run_cli("grade", str(SAMPLES), "--out", str(out))
    assert result.exit_code == 0, result.output
    assert (out / "feedback" / "notes-for-me.txt").read_text() == "talk to ben"
    kept = list((out / "feedback").glob("ben.edited-*.md"))
    assert len(kept) == 1 and kept[0].read_text().endswith("Well done on q2!\n")
    assert "Well done" not in page.read_text() and "kept as" in result.output
    assert (out / "my-summary.txt").read_text() == "mine" and leftovers(out) == []
    # A third run changes nothing of the teacher's: the page kept aside is not a grader file.
    assert run_cli("grade", str(SAMPLES), "--out", str(out)).exit_code == 0
    assert kept[0].exists() and (out / "feedback" / "notes-for-me.txt").exists()


def test_outputs_are_never_read_back_as_answers(tmp_path):
    """A second run over a folder that holds the first run's outputs grades the same answers."""
    import shutil

    folder = tmp_path / "class"
    shutil.copytree(SAMPLES, folder)
    first = Grader().run([folder], folder / "graded")
    second = Grader().run([folder], folder / "graded")
    assert len(first.answers) == 24
    assert [(a.student_id, a.question_id) for a in second.answers] == [(a.student_id, a.question_id) for a in first.answers]


# -- 2. formula injection --------------------------------------------------------------------------

@pytest.mark.parametrize("cell", ["=HYPERLINK(\"http://x\",\"y\")", "+1+2", "-2+3", "@SUM(A1)", "\tx", "\rx"])
def test_formula_cells_are_neutralised(cell):
    assert spreadsheet_safe(cell) == "'" + cell


@pytest.mark.parametrize("cell", ["-2", "+1.5", "3", "alice", "", "O'Brien"])
def test_numbers_and_plain_text_are_kept(cell):
    assert spreadsheet_safe(cell) == cell


def test_every_text_cell_of_every_csv_is_spreadsheet_safe(rubric, tmp_path):
    hostile = "=cmd|' /C calc'!A0"
    answers = [Answer(hostile, "q1", "-Stakhanov mined 102 tonnes of coal in one shift.", "@source"),
               Answer("+bob", "q1", "=1+1", "+src")]
    out = tmp_path / "out"
    Grader(rubric).write(grade(rubric, answers), out)
    for name in ("grades.csv", "gradebook.csv"):
        with (out / name).open(newline="", encoding="utf-8") as handle:
            for row in list(csv.reader(handle))[1:]:
                for cell in row:
                    assert not cell.startswith(("=", "+", "@", "\t", "\r")), (name, cell)
                    assert not cell.startswith("-") or cell.lstrip("-").replace(".", "").isdigit(), (name, cell)
    rows = list(csv.DictReader((out / "grades.csv").open(newline="", encoding="utf-8")))
    assert {r["student_id"] for r in rows} == {"'" + hostile, "'+bob"}
    assert all(r["score"] == "" or float(r["score"]) >= 0 for r in rows)   # scores stay numbers


# -- 3. one set, locked, workers die with the run ------------------------------------------------

def test_a_second_run_into_the_same_out_is_locked_out(tmp_path):
    out = tmp_path / "out"
    with OutputFolder(out):
        result = run_cli("grade", str(SAMPLES), "--out", str(out))
        assert result.exit_code == 2 and "another grader run is writing here" in result.output
    assert run_cli("grade", str(SAMPLES), "--out", str(out)).exit_code == 0


_KILLER = textwrap.dedent("""
    import os, signal, sys
    from grader.pipeline import Grader
    from grader.runtime import Runtime
    import grader.writers.files as files, grader.writers.outputs as outputs, grader.writers as writers

    point, n, out, inputs = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4:]
    calls = [0]

    def dying(original, counts):
        def wrapped(source, target, *args, **kwargs):
            if counts(str(target)):
                calls[0] += 1
                if calls[0] == n:
                    os.kill(os.getpid(), signal.SIGKILL)
            return original(source, target, *args, **kwargs)
        return wrapped

    if point == "write":        # the n-th file written into the staging folder
        os.replace = dying(os.replace, lambda target: outputs.STAGING in target)
    elif point == "switch":     # the n-th rename of the switch (journal, moves, manifest)
        os.replace = dying(os.replace, lambda target: outputs.STAGING not in target)
    elif point == "worker":     # the run dies while a forked worker writes the report
        import multiprocessing
        original = writers.write_grades_json
        def die_after_recording_workers(*args, **kwargs):
            with open(os.path.join(out, "..", "workers"), "w") as handle:
                handle.write(" ".join(str(p.pid) for p in multiprocessing.active_children()))
            os.kill(os.getpid(), signal.SIGKILL)
        writers.write_grades_json = die_after_recording_workers
    Grader(runtime=Runtime(min_items=1)).run(inputs, out)
""")


def killed_run(point: str, n: int, out: Path, inputs: list[Path]) -> int:
    done = subprocess.run([sys.executable, "-c", _KILLER, point, str(n), str(out), *map(str, inputs)],
                          cwd=ROOT, capture_output=True, timeout=120)
    return done.returncode


def process_gone(pid: int) -> bool:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return True
    return "\nState:\tZ" in status   # a zombie waiting for the container's init to reap it


@pytest.fixture(scope="module")
def second_class(tmp_path_factory):
    rows = list(csv.DictReader((FIXTURES / "dev_stakhanovism.csv").open(encoding="utf-8")))[:12]
    return write_answers_csv(tmp_path_factory.mktemp("class") / "answers.csv",
                             [(r["student_id"], r["question_id"], r["answer"]) for r in rows])


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="forked workers and SIGKILL: Linux")
@pytest.mark.parametrize("point, n", [("write", 1), ("write", 3), ("switch", 1), ("switch", 2), ("switch", 4),
                                      ("switch", 7), ("worker", 1)])
def test_a_run_killed_anywhere_leaves_one_whole_set(tmp_path, second_class, point, n):
    out = tmp_path / "out"
    Grader().run([SAMPLES], out)
    first = snapshot(out)
    Grader().run([second_class], tmp_path / "clean")
    second = snapshot(tmp_path / "clean")

    assert killed_run(point, n, out, [second_class]) == -signal.SIGKILL
    if point == "worker":
        pids = [int(p) for p in (tmp_path / "workers").read_text().split()]
        assert pids, "the report should be written by a forked worker"
        deadline = time.monotonic() + 10
        while not all(process_gone(pid) for pid in pids) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert all(process_gone(pid) for pid in pids), "a worker outlived the run"
    switching = (out / ".grader-switch").exists()
    if not switching:   # killed before the switch: the previous set, whole
        assert snapshot(out) == first
    # The next run (of anything, into this folder) finishes an interrupted switch first, then works.
    Grader().run([second_class], out)
    now = snapshot(out)
    for name in OUTPUTS:
        if name != "report.html":   # it shows the minute it was made
            assert now[name] == second[name], name
    assert sorted(now) == sorted(second) and leftovers(out) == []


def test_interrupt_leaves_no_temporary_files(rubric, tmp_path, monkeypatch):
    out = tmp_path / "out"
    Grader(rubric).run([SAMPLES], out)
    first = snapshot(out)

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(grader.writers, "write_report", interrupted)
    with pytest.raises(KeyboardInterrupt):
        Grader(rubric).run([SAMPLES], out)
    assert snapshot(out) == first and leftovers(out) == []


# -- 5. full disk --------------------------------------------------------------------------------

def test_full_disk_is_one_line_and_the_previous_outputs_stay(tmp_path, monkeypatch):
    import errno

    out = tmp_path / "out"
    assert run_cli("grade", str(SAMPLES), "--out", str(out)).exit_code == 0
    first = snapshot(out)

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(grader.writers, "write_gradebook", full)
    result = run_cli("grade", str(SAMPLES), "--out", str(out), "--quiet")
    assert result.exit_code == 2 and result.output.count("\n") == 1
    assert "No space left on device" in result.output and "previous outputs are unchanged" in result.output
    assert snapshot(out) == first and leftovers(out) == []


# -- 4 and 11. file names: bytes, uniqueness, any id ---------------------------------------------

def test_a_long_wide_id_makes_a_short_file_name():
    name = safe_file_name("\U00020000" * 70)
    assert len(name.encode("utf-8")) <= NAME_BYTES


def test_ids_that_make_one_name_get_distinct_names_in_linear_time():
    unique = UniqueNames()
    names = [unique("a" + "/" * (i + 1)) for i in range(10_000)] + [unique("A_"), unique("a__2")]
    assert len({n.lower() for n in names}) == len(names)
    assert names[:3] == ["a_", "a__2", "a__3"] and names[-2:] == ["A__10001", "a__2_2"]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ids=st.lists(st.text(min_size=1, max_size=300), min_size=1, max_size=6, unique=True))
def test_any_ids_give_one_page_each_inside_out(rubric, tmp_path_factory, ids):
    out = tmp_path_factory.mktemp("out")
    answers = [Answer(student, "q1", "Stakhanov mined coal.", f"t:{i}") for i, student in enumerate(ids)]
    results = grade(rubric, answers)
    written = Grader(rubric).write(results, out)
    pages = [p for p in written if p.parent == out / "feedback"]
    assert len(pages) == len({r.student_id for r in results})
    for page in pages:
        assert page.resolve().parent == (out / "feedback").resolve() and page.is_file()
        assert len(page.name.encode("utf-8")) <= 255
    assert leftovers(out) == []


def test_one_student_with_thousands_of_answers_keeps_the_report_small(rubric, tmp_path):
    answers = [Answer("bob", f"extra{i}", "Stakhanov mined coal for the plan.", f"t:{i}") for i in range(3000)]
    out = tmp_path / "out"
    Grader(rubric).write(grade(rubric, answers), out)
    assert (out / "report.html").stat().st_size < 3_000_000


# -- 12. file modes ------------------------------------------------------------------------------

def test_outputs_get_the_umask_mode_and_in_place_files_keep_theirs(tmp_path):
    old = os.umask(0o022)
    try:
        out = tmp_path / "out"
        Grader().run([SAMPLES], out)
        for path in [out / name for name in OUTPUTS] + list((out / "feedback").iterdir()):
            assert path.stat().st_mode & 0o777 == 0o644, path
        assert (out / "feedback").stat().st_mode & 0o777 == 0o755
        from grader.writers.files import atomic_writer

        kept = tmp_path / "rubric.toml"
        kept.write_text("x")
        kept.chmod(0o640)
        with atomic_writer(kept) as handle:
            handle.write("y")
        assert kept.stat().st_mode & 0o777 == 0o640 and kept.read_text() == "y"
    finally:
        os.umask(old)


# -- 9. terminal and TOML ----------------------------------------------------------------------

def test_escape_sequences_in_names_never_reach_the_terminal(tmp_path):
    missing = tmp_path / "class\x1b]0;owned\x07\u202e"
    result = run_cli("grade", str(missing), "--out", str(tmp_path / "out"))
    assert result.exit_code == 2
    assert "\x1b" not in result.output and "\u202e" not in result.output and "\\x1b" in result.output


def test_line_separators_in_model_answers_survive_import_and_tune(tmp_path):
    questions = tmp_path / "questions.csv"
    with questions.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["question_id", "prompt", "model_answer"])
        writer.writerow(["q1", "What is osmosis?", "Water moves\u2028across a membrane\x85 from dilute to concentrated."])
    rubric_file = tmp_path / "rubric.toml"
    assert run_cli("rubric", "import", str(questions), "--out", str(rubric_file)).exit_code == 0
    graded = write_answers_csv(tmp_path / "graded.csv", [])
    with graded.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["student_id", "question_id", "answer", "score"])
        for i in range(12):
            writer.writerow([f"s{i}", "q1", f"Water\u2028moves across\x85 a membrane {i}", i % 6])
    result = run_cli("tune", "--rubric", str(rubric_file), "--graded", str(graded), "--out", str(tmp_path / "tuned.toml"),
                     "--force")
    assert result.exit_code == 0, result.output


# -- 10. rubric limits ---------------------------------------------------------------------------

@pytest.mark.parametrize("edit, field", [
    (lambda text: text.replace("max = 5", "max = 1e308", 1), "scale.max"),
    (lambda text: text.replace("weight = ", "weight = 1e308 #", 1), "weight"),
    (lambda text: text.replace("step = 0.5", "step = 0.0001", 1), "scale.step"),
])
def test_absurd_rubric_numbers_are_validation_errors(tmp_path, edit, field):
    rubric_file = tmp_path / "rubric.toml"
    rubric_file.write_text(edit((ROOT / "rubrics" / "stakhanovism.toml").read_text()))
    result = run_cli("grade", str(SAMPLES), "--rubric", str(rubric_file), "--out", str(tmp_path / "out"))
    assert result.exit_code == 2 and result.output.count("\n") == 1 and field in result.output


def test_a_learned_cap_that_is_not_a_number_is_a_validation_error(tmp_path):
    from grader.rubric import RubricError
    from grader.scoring.learned import LearnedScorer

    with pytest.raises(RubricError, match="caps.gibberish"):
        LearnedScorer.from_dict({"kind": "monotone-ramps", "version": 1, "caps": {"gibberish": "high"}})


def test_giant_words_cost_what_a_long_word_costs(tmp_path):
    """A one-word model answer of 200,000 letters and a student's 20,000-letter word are graded
    (the spelling index once held a variant per letter: 23 GB)."""
    from grader.rubric import rubric_from_dict

    rubric = rubric_from_dict({"title": "t", "questions": [
        {"id": "q1", "prompt": "Say it.", "model_answers": ["a" * 200_000]}]})
    results = grade(rubric, [Answer("s1", "q1", "b" * 20_000 + " and more words here", "t:1"),
                             Answer("s2", "q1", "a" * 200_000, "t:2")])
    assert len(results) == 2


def test_an_interrupt_inside_the_switch_is_finished_by_the_next_run(rubric, tmp_path, monkeypatch):
    import grader.writers.outputs as outputs

    out = tmp_path / "out"
    Grader(rubric).run([SAMPLES], out)
    clean = tmp_path / "clean"
    Grader(rubric).run([FIXTURES / "dev_stakhanovism.csv"], clean)
    real_replace, calls = os.replace, []

    def interrupted(source, target, *args, **kwargs):
        if STAGING not in str(target) and str(target).endswith("grades.csv"):
            calls.append(target)
            raise KeyboardInterrupt
        return real_replace(source, target, *args, **kwargs)

    monkeypatch.setattr(outputs.os, "replace", interrupted)
    with pytest.raises(KeyboardInterrupt):
        Grader(rubric).run([FIXTURES / "dev_stakhanovism.csv"], out)
    monkeypatch.setattr(outputs.os, "replace", real_replace)
    assert calls and (out / ".grader-switch").exists()
    # The next run into the folder finishes the switch before anything else, even one that then fails.
    from grader.answers import InputError

    with pytest.raises(InputError):
        Grader(rubric).run([tmp_path / "no-such-class"], out)
    now, expected = snapshot(out), snapshot(clean)
    assert sorted(now) == sorted(expected) and leftovers(out) == []
    for name in ("grades.csv", "grades.json", "gradebook.csv"):
        assert now[name] == expected[name], name
