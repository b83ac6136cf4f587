"""Reading under attack (issue #14, reading side): limits per answer, links that leave the input,
silent misreads, identities kept apart. Each case fails on the code before the fix."""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import SAMPLES

import grader.answers
from grader.answers import InputError, read_answers, read_csv, read_folder, skipped_files
from grader.cli import main
from grader.pipeline import Grader

GOOD = "Stakhanov mined 102 tons of coal in one shift, fourteen times his quota, for the Five-Year Plan."


def answers_csv(path: Path, rows, header=("student_id", "question_id", "answer")) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def by_student(answers):
    return {(a.student_id, a.question_id): a for a in answers}


# -- 4. limits per answer, not per file ---------------------------------------------------------

def test_one_huge_cell_flags_that_answer_truncated(tmp_path):
    path = answers_csv(tmp_path / "a.csv", [("ann", "q1", "word " * 40_000), ("bob", "q1", GOOD)])
    found = by_student(read_answers([path]))
    assert found["ann", "q1"].problem == "truncated" and found["bob", "q1"].problem is None


def test_nuls_in_one_answer_make_that_answer_unreadable(tmp_path):
    path = answers_csv(tmp_path / "a.csv", [("ann", "q1", "\x00" * 600), ("bob", "q1", GOOD)])
    found = by_student(read_answers([path]))
    assert found["ann", "q1"].problem == "unreadable" and found["bob", "q1"].problem is None


def test_an_unreadable_student_folder_is_flagged_not_a_traceback(tmp_path, monkeypatch):
    import shutil

    folder = tmp_path / "class"
    shutil.copytree(SAMPLES, folder)
    real_scandir = os.scandir

    def scandir(path):
        if Path(path).name == "ben":
            raise PermissionError(13, "Permission denied", str(path))
        return real_scandir(path)

    monkeypatch.setattr(grader.answers.os, "scandir", scandir)
    found = by_student(read_folder(folder))
    assert found["ben", ""].problem == "unreadable" and "Permission denied" in found["ben", ""].detail
    assert found["amara", "q1"].problem is None


# -- 6. links out of the input ----------------------------------------------------------------

def test_links_that_leave_the_input_are_not_followed(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("the teacher's private notes")
    outside = tmp_path / "elsewhere"
    (outside / "q1.txt").parent.mkdir()
    (outside / "q1.txt").write_text("private too")
    folder = tmp_path / "class"
    (folder / "eve").mkdir(parents=True)
    (folder / "eve" / "q1.txt").symlink_to(secret)
    (folder / "mal").symlink_to(outside, target_is_directory=True)
    (folder / "ann").mkdir()
    (folder / "ann" / "q1.txt").write_text(GOOD)
    (folder / "ann" / "q2.txt").symlink_to(folder / "ann" / "q1.txt")   # inside: fine
    out = tmp_path / "out"
    run = Grader().run([folder], out)
    found = by_student(run.answers)
    assert found["eve", "q1"].problem == "unreadable" and "outside the input" in found["eve", "q1"].detail
    assert found["mal", ""].problem == "unreadable"
    assert found["ann", "q2"].problem is None
    everything = (out / "grades.json").read_text() + (out / "report.html").read_text()
    assert "private" not in everything


# -- 7. silent misreads ----------------------------------------------------------------------

def test_an_unbalanced_quote_is_one_line_naming_the_row(tmp_path):
    path = tmp_path / "a.csv"
    path.write_text('student_id,question_id,answer\nann,q1,"He said it was good\nbob,q1,fine answer\n'
                    'cid,q1,another answer\ndan,q1,and one more\n', encoding="utf-8")
    result = CliRunner().invoke(main, ["grade", str(path), "--out", str(tmp_path / "out")])
    assert result.exit_code == 2 and result.output.count("\n") == 1
    assert "line 2" in result.output and "never closed" in result.output


def test_an_answer_over_several_lines_is_still_one_answer(tmp_path):
    path = answers_csv(tmp_path / "a.csv", [("ann", "q1", "First, the plans.\nSecond, quotas, norms, bonuses.\nThird."),
                                            ("bob", "q1", GOOD)])
    assert len(read_csv(path)) == 2


def test_a_duplicated_answer_header_is_an_error_naming_the_columns(tmp_path):
    path = answers_csv(tmp_path / "a.csv", [("ann", "q1", "x", "y")], header=("student_id", "question_id", "answer", "Answer"))
    with pytest.raises(InputError, match=r"column 'answer' appears twice \(columns 3 and 4\)"):
        read_csv(path)


def test_hidden_student_folders_are_reported(tmp_path):
    import shutil

    folder = tmp_path / "class"
    shutil.copytree(SAMPLES / "ben", folder / ".bob")
    shutil.copytree(SAMPLES / "amara", folder / "amara")
    assert [p.relative_to(folder).as_posix() for p in skipped_files(folder)] == [".bob/q1.txt", ".bob/q2.txt", ".bob/q3.txt"]
    result = CliRunner().invoke(main, ["grade", str(folder), "--out", str(tmp_path / "out")])
    assert result.exit_code == 0 and "Skipped 3 files" in result.output and ".bob" in result.output


# -- 8. identities kept apart --------------------------------------------------------------------

@pytest.mark.parametrize("first, second", [("\uff46\uff55\uff4c\uff4c", "full"), ("\ufb01ona", "fiona"),
                                           ("stu\u200bdent", "student")])
def test_distinct_ids_stay_distinct_students(tmp_path, first, second):
    path = answers_csv(tmp_path / "a.csv", [(first, "q1", GOOD), (second, "q1", GOOD + " Also propaganda.")])
    answers = read_answers([path])
    assert [a.student_id for a in answers] == [first, second]
    assert all(a.problem is None for a in answers)


def test_bidi_controls_are_removed_from_answers_and_escaped_on_the_terminal(tmp_path):
    evil = "\u202eevil"
    path = answers_csv(tmp_path / "a.csv", [(evil, "q1", "Stakhanov \u202emined\u202c coal."), ("bob", "q9", GOOD)])
    answers = by_student(read_answers([path]))
    assert answers[evil, "q1"].text == "Stakhanov mined coal."
    result = CliRunner().invoke(main, ["grade", str(path), "--out", str(tmp_path / "out")])
    assert result.exit_code == 0 and "\u202e" not in result.output
    shown = [tmp_path / "out" / "report.html", *(tmp_path / "out" / "feedback").iterdir()]
    for page in shown:   # (the report's data block keeps the id itself, \u-escaped, for the marks export)
        assert "\u202e" not in page.read_text(encoding="utf-8"), page.name


# -- grader's own CSVs read back as they were written ----------------------------------------------

def test_grades_csv_with_protected_ids_reads_back_with_the_ids(tmp_path):
    path = answers_csv(tmp_path / "a.csv", [("=HYPERLINK(1)", "q1", GOOD), ("@bob", "q1", GOOD + " Quotas.")])
    out = tmp_path / "out"
    Grader().run([path], out)
    rows = list(csv.DictReader((out / "grades.csv").open(newline="", encoding="utf-8")))
    assert [r["student_id"] for r in rows] == ["'=HYPERLINK(1)", "'@bob"]
    again = answers_csv(tmp_path / "again.csv", [(r["student_id"], r["question_id"], "text") for r in rows])
    assert [a.student_id for a in read_csv(again)] == ["=HYPERLINK(1)", "@bob"]
    assert json.loads((out / "grades.json").read_text())["answers"][0]["student_id"] == "=HYPERLINK(1)"


def test_an_output_folder_is_never_read_as_answers(tmp_path):
    """Not given as the input, and not inside the input folder (here --out is class/feedback, whose
    pages would otherwise be read as the answers of a student called "feedback")."""
    import shutil

    folder = tmp_path / "class"
    shutil.copytree(SAMPLES, folder)
    Grader().run([folder], folder / "feedback")
    second = Grader().run([folder], tmp_path / "out")
    assert {a.student_id for a in second.answers} == {p.name for p in SAMPLES.iterdir()}
    result = CliRunner().invoke(main, ["grade", str(folder / "feedback"), "--out", str(tmp_path / "out2")])
    assert result.exit_code == 2 and "is the output folder of a grader run" in result.output


def test_a_top_level_document_linking_out_is_not_followed(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("1. the teacher's private notes\n2. more\n3. more")
    folder = tmp_path / "class"
    folder.mkdir()
    (folder / "ann.txt").write_text("1. " + GOOD + "\n2. Propaganda made heroes.\n3. Burnout.")
    (folder / "eve.txt").symlink_to(secret)
    run = Grader().run([folder], tmp_path / "out")
    eve = [a for a in run.answers if a.student_id == "eve"]
    assert len(eve) == 1 and eve[0].problem == "unreadable" and "outside the input" in eve[0].detail
    assert "private" not in (tmp_path / "out" / "grades.json").read_text()


def test_limits_per_answer_hold_in_any_csv_dialect(tmp_path):
    """A ';'-separated CSV (the sniffing path, not the standard one) has the same per-answer limits."""
    path = tmp_path / "a.csv"
    path.write_text("student_id;question_id;answer\nann;q1;" + "word " * 40_000 + "\nbob;q1;" + "\x00" * 600
                    + "\ncid;q1;" + GOOD + "\n", encoding="utf-8")
    found = by_student(read_answers([path]))
    assert found["ann", "q1"].problem == "truncated" and found["bob", "q1"].problem == "unreadable"
    assert found["cid", "q1"].problem is None


def test_an_unbalanced_quote_in_a_semicolon_csv_is_one_line_too(tmp_path):
    path = tmp_path / "a.csv"
    path.write_text('student_id;question_id;answer\nann;q1;"He said it was good\nbob;q1;fine answer\n'
                    'cid;q1;another answer\ndan;q1;and one more\n', encoding="utf-8")
    with pytest.raises(InputError, match="line 2: a quote"):
        read_answers([path])
