import pytest

from grader.answers import MAX_ANSWER_CHARS, InputError, read_answers, skipped_files


def test_folder_layout_reads_answer_documents_and_skips_other_files(tmp_path):
    (tmp_path / "s1").mkdir()
    (tmp_path / "s1" / "q1.txt").write_text("Quotas rose.", encoding="utf-8")
    (tmp_path / "s1" / "q2.md").write_bytes("Propaganda \u201cheroes\u201d".encode("cp1252"))
    (tmp_path / "s1" / "notes.docx").write_bytes(b"PK\x03\x04")
    (tmp_path / "s1" / "photo.png").write_bytes(b"\x89PNG")
    (tmp_path / "README.txt").write_text("not an answer")
    answers = read_answers([tmp_path])
    assert [(a.student_id, a.question_id, a.text, a.problem) for a in answers] == [
        ("s1", "notes", "", "unreadable"), ("s1", "q1", "Quotas rose.", None), ("s1", "q2", 'Propaganda "heroes"', None)]
    assert {p.name for p in skipped_files(tmp_path)} == {"photo.png", "README.txt"}


def test_csv_ignores_other_columns_and_keeps_multiline_answers(tmp_path):
    path = tmp_path / "export.csv"
    path.write_text('Name,Student_ID,question_id,answer\nAna,s1,q1,"Line one,\nline two"\nBen,s2,q1,Short\n', encoding="utf-8-sig")
    answers = read_answers([path])
    assert [(a.student_id, a.text, a.source) for a in answers] == [
        ("s1", "Line one,\nline two", f"{path}:2"), ("s2", "Short", f"{path}:4")]   # the line a row starts on


def test_problems_are_kept_not_dropped(tmp_path):
    path = tmp_path / "a.csv"
    long_answer = "word " * (MAX_ANSWER_CHARS // 4)
    path.write_text(f"student_id,question_id,answer\ns1,q1,\ns1,q2,fine\ns1,q2,again\ns2,q1,{long_answer}\n")
    answers = read_answers([path])
    assert [a.problem for a in answers] == ["empty", None, "duplicate", "truncated"]
    assert "the first is" in answers[2].detail


def test_csv_without_answer_column_names_file_line_and_fix(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("pupil,item,words\na,q1,hello\n")
    with pytest.raises(InputError) as info:
        read_answers([path])
    assert str(info.value).startswith(f"{path}: line 1: missing columns student_id, question_id, answer (found: pupil, item, words; "
                                 "no answer column among them)")
    assert "--columns" in str(info.value)
    assert "rename the header" in str(info.value)


def test_missing_path_is_a_clear_error(tmp_path):
    with pytest.raises(InputError, match="no such file or folder"):
        read_answers([tmp_path / "missing"])
