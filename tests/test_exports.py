"""Tables as teachers have them: form and LMS exports with a column per question (recognised from
their headers), CSV files of any delimiter and encoding, long tables with other column names."""

import csv

import pytest

from conftest import SAMPLES
from grader.answers import InputError, read_answers

ANSWERS = {s: {q: (SAMPLES / s / f"{q}.txt").read_text(encoding="utf-8").strip() for q in ("q1", "q2", "q3")}
           for s in ("amara", "ben")}


def _write_csv(path, rows, delimiter=",", encoding="utf-8"):
    with open(path, "w", newline="", encoding=encoding) as file:
        csv.writer(file, delimiter=delimiter).writerows(rows)
    return path


def _by_key(answers):
    return {(a.student_id, a.question_id): a for a in answers}


def _assert_read(answers, students, emails=None):
    got = _by_key(answers)
    assert len(answers) == 3 * len(students) and not [a for a in answers if a.problem]
    for student_id, sample in students.items():
        for qid in ("q1", "q2", "q3"):
            assert " ".join(got[(student_id, qid)].text.split()) == " ".join(ANSWERS[sample][qid].split())
            if emails:
                assert got[(student_id, qid)].email == emails[student_id]


def test_google_forms_csv(tmp_path, rubric):
    prompts = [q.prompt for q in rubric.questions]
    reworded = "What were the long-term effects of Stakhanovism on Soviet labor practices and future economic policy?"
    path = _write_csv(tmp_path / "Quiz (Responses).csv", [
        ["Timestamp", "Email Address", "Score", "Name", prompts[0], prompts[1], reworded, "Any comments?"],
        ["2026/03/02 9:14:03 AM GMT", "amara@school.org", "", "Amara Diallo", *ANSWERS["amara"].values(), ""],
        ["2026/03/02 9:20:44 AM GMT", "ben@school.org", "", "Ben Ito", *ANSWERS["ben"].values(), "no"],
    ])
    lines = []
    answers = read_answers([path], rubric, say=lines.append)
    _assert_read(answers, {"amara@school.org": "amara", "ben@school.org": "ben"},
                 {"amara@school.org": "amara@school.org", "ben@school.org": "ben@school.org"})
    assert _by_key(answers)[("ben@school.org", "q1")].name == "Ben Ito"
    assert any("is question q3 (similar to its prompt" in line for line in lines)
    assert any("'Any comments?' matches no question" in line for line in lines)


def test_microsoft_forms_xlsx(tmp_path, rubric):
    openpyxl = pytest.importorskip("openpyxl")
    import datetime as dt

    prompts = [q.prompt for q in rubric.questions]
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["ID", "Start time", "Completion time", "Email", "Name", "Total points", "Quiz feedback",
                  prompts[0], f"Points - {prompts[0]}", prompts[1], prompts[2]])
    for number, (student, email) in enumerate((("amara", "amara@school.org"), ("ben", "anonymous")), 1):
        sheet.append([number, dt.datetime(2026, 3, 2, 9, 14), dt.datetime(2026, 3, 2, 9, 40), email,
                      student.title(), None, None, ANSWERS[student]["q1"], None, ANSWERS[student]["q2"], ANSWERS[student]["q3"]])
    book.save(tmp_path / "Quiz.xlsx")
    answers = read_answers([tmp_path / "Quiz.xlsx"], rubric)
    _assert_read(answers, {"amara@school.org": "amara", "Ben": "ben"})   # anonymous: the name


def test_moodle_responses_by_position(tmp_path, rubric):
    path = _write_csv(tmp_path / "quiz-responses.csv", [
        ["Surname", "First name", "Email address", "State", "Started on", "Completed", "Time taken", "Grade/15.00",
         "Response 1", "Response 2", "Response 3"],
        ["Diallo", "Amara", "a.diallo@uni.edu", "Finished", "2 March 2026  9:14 AM", "2 March 2026  9:40 AM",
         "26 mins", "-", *ANSWERS["amara"].values()],
        ["Ito", "Ben", "b.ito@uni.edu", "Finished", "2 March 2026  9:15 AM", "2 March 2026  9:41 AM",
         "26 mins", "-", *ANSWERS["ben"].values()],
        ["Overall average", "", "", "", "", "", "", "", "", "", ""],
    ])
    answers = read_answers([path], rubric)
    _assert_read(answers, {"a.diallo@uni.edu": "amara", "b.ito@uni.edu": "ben"})
    assert _by_key(answers)[("a.diallo@uni.edu", "q2")].name == "Amara Diallo"


def test_canvas_student_analysis(tmp_path, rubric):
    prompts = [q.prompt for q in rubric.questions]
    path = _write_csv(tmp_path / "Quiz Student Analysis Report.csv", [
        ["name", "id", "sis_id", "section", "section_id", "section_sis_id", "submitted", "attempt",
         f"1201: {prompts[0]}", "5.0", f"1202: {prompts[1]}", "5.0", f"1203: {prompts[2]}", "5.0",
         "n correct", "n incorrect", "score"],
        ["Amara Diallo", "4411", "S-001", "History 1", "77", "", "2026-03-02 09:40:00 UTC", "1",
         ANSWERS["amara"]["q1"], "0", ANSWERS["amara"]["q2"], "0", ANSWERS["amara"]["q3"], "0", "0", "0", "0"],
        ["Ben Ito", "4412", "S-002", "History 1", "77", "", "2026-03-02 09:41:00 UTC", "1",
         ANSWERS["ben"]["q1"], "0", ANSWERS["ben"]["q2"], "0", ANSWERS["ben"]["q3"], "0", "0", "0", "0"],
    ])
    answers = read_answers([path], rubric)
    _assert_read(answers, {"4411": "amara", "4412": "ben"})
    assert _by_key(answers)[("4411", "q3")].name == "Amara Diallo"


@pytest.mark.parametrize("delimiter,encoding,suffix", [(";", "cp1252", ".csv"), ("\t", "utf-16", ".tsv"),
                                                       ("\t", "utf-8", ".txt"), (",", "utf-8-sig", ".csv")])
def test_long_csv_of_any_dialect_with_synonyms(tmp_path, rubric, delimiter, encoding, suffix):
    rows = [["Student", "Question", "Response"]]
    rows += [[f"{s}-\u00e9", q, ANSWERS[s][q].replace("\u2014", "-")] for s in ANSWERS for q in ANSWERS[s]]
    text = {s: {q: ANSWERS[s][q].replace("\u2014", "-") for q in ANSWERS[s]} for s in ANSWERS}
    path = tmp_path / f"answers{suffix}"
    _write_csv(path, rows, delimiter, encoding if encoding != "cp1252" else "cp1252")
    answers = read_answers([path], rubric)
    got = _by_key(answers)
    assert len(answers) == 6 and not [a for a in answers if a.problem]
    assert " ".join(got[("ben-\u00e9", "q2")].text.split()) == " ".join(text["ben"]["q2"].split())


def test_columns_option_maps_a_long_table_and_question_labels_are_resolved(tmp_path, rubric):
    path = _write_csv(tmp_path / "marks.csv", [["Pupil", "Mail", "Item", "Words"],
                                               ["amara", "a@x.org", "Question 1", ANSWERS["amara"]["q1"]],
                                               ["amara", "a@x.org", rubric.question("q2").prompt, ANSWERS["amara"]["q2"]],
                                               ["amara", "a@x.org", "3", ANSWERS["amara"]["q3"]]])
    answers = read_answers([path], rubric, columns="student=Pupil,question=Item,answer=Words,email=Mail")
    assert [(a.student_id, a.question_id, a.email) for a in answers] == [("amara", f"q{i}", "a@x.org") for i in (1, 2, 3)]
    with pytest.raises(InputError, match="no column 'Text'"):
        read_answers([path], rubric, columns="student=Pupil,question=Item,answer=Text")
    with pytest.raises(InputError, match="give role=column"):
        read_answers([path], rubric, columns="pupil")


def test_names_and_emails_reach_the_gradebook_report_and_pages(tmp_path, rubric):
    from click.testing import CliRunner
    from grader.cli import main

    prompts = [q.prompt for q in rubric.questions]
    path = _write_csv(tmp_path / "form.csv", [
        ["Timestamp", "Email Address", "Name", *prompts],
        ["2026/03/02 9:14:03 AM GMT", "amara@school.org", "Amara <b>Diallo</b>", *ANSWERS["amara"].values()],
        ["2026/03/02 9:20:44 AM GMT", "ben@school.org", "Ben Ito", *ANSWERS["ben"].values()],
    ])
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["grade", str(path), "--rubric", str(rubric.source), "--out", str(out)])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(open(out / "gradebook.csv", encoding="utf-8")))
    assert [(r["student_id"], r["name"], r["email"]) for r in rows] == [
        ("amara@school.org", "Amara <b>Diallo</b>", "amara@school.org"), ("ben@school.org", "Ben Ito", "ben@school.org")]
    assert all(r["total (15)"] for r in rows)
    report = (out / "report.html").read_text(encoding="utf-8")
    assert "Amara &lt;b&gt;Diallo&lt;/b&gt; (amara@school.org)" in report and "<b>Diallo" not in report
    pages = sorted((out / "feedback").glob("*.md"))
    assert any("# Feedback for Ben Ito (ben@school.org)" in p.read_text(encoding="utf-8") for p in pages)


def test_moodle_responses_as_ods_and_a_damaged_workbook(tmp_path, rubric):
    from odf.opendocument import OpenDocumentSpreadsheet
    from odf.table import Table, TableCell, TableRow
    from odf.text import P

    book = OpenDocumentSpreadsheet()
    sheet = Table(name="Responses")
    rows = [["Surname", "First name", "Email address", "Grade/15.00", "Response 1", "Response 2", "Response 3"],
            ["Diallo", "Amara", "a.diallo@uni.edu", "-", *ANSWERS["amara"].values()]]
    for cells in rows:
        row = TableRow()
        for value in cells:
            cell = TableCell(valuetype="string")
            cell.addElement(P(text=value))
            row.addElement(cell)
        sheet.addElement(row)
    book.spreadsheet.addElement(sheet)
    book.save(str(tmp_path / "responses.ods"))
    answers = read_answers([tmp_path / "responses.ods"], rubric)
    assert [(a.student_id, a.question_id, a.name) for a in answers] == [
        ("a.diallo@uni.edu", f"q{i}", "Amara Diallo") for i in (1, 2, 3)]
    (tmp_path / "broken.xlsx").write_bytes(b"PK\x03\x04 not a workbook")
    with pytest.raises(InputError, match="broken.xlsx: cannot be read as a spreadsheet"):
        read_answers([tmp_path / "broken.xlsx"], rubric)
