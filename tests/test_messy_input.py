"""A messy class folder: every answer accounted for, inputs unchanged, no traceback."""

import csv
import os

from click.testing import CliRunner

from grader.cli import main


def build_messy_folder(root):
    files = {
        "ana/q1.txt": "Les ouvriers modèles: Stakhanov's quota record under the Five-Year Plans, café.".encode("latin-1"),
        "ben/q2.txt": "Propaganda made Stakhanovites heroes and bred resentment among other workers.".encode("utf-16"),
        "cy/q3.txt": os.urandom(512),
        "dee/q1.txt": b"",
        "eve/q2.txt": ("Propaganda and pressure. " * 90_000).encode("utf-8"),
        "fox/q3.txt": b"Burnout and\x00 disillusionment\x00 followed.",
        "gil nunez/q1.md": "Quotas rose with each record, and workers who fell behind were punished.".encode("utf-8"),
        "gil nunez/notes.docx": b"PK\x03\x04",
        "gil nunez/photo.jpg": b"\xff\xd8\xff\xe0",
    }
    for name, data in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return files


def test_messy_folder_every_answer_accounted_for(tmp_path):
    folder = tmp_path / "class"
    files = build_messy_folder(folder)
    result = CliRunner().invoke(main, ["grade", str(folder), "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output
    assert "Skipped 1 files in" in result.stderr and "photo.jpg" in result.stderr
    rows = {(r["student_id"], r["question_id"]): r for r in csv.DictReader(open(tmp_path / "out" / "grades.csv", encoding="utf-8"))}
    assert len(rows) == 8  # every answer document once, the damaged .docx flagged; the photo is not an answer
    assert rows[("gil nunez", "notes")]["flags"] == "unreadable" and rows[("gil nunez", "notes")]["score"] == ""
    assert rows[("ana", "q1")]["score"] != "" and not rows[("ana", "q1")]["flags"].startswith("unreadable")
    assert rows[("ben", "q2")]["score"] != ""
    assert rows[("cy", "q3")]["flags"] in ("unreadable", "gibberish")
    assert rows[("dee", "q1")]["flags"] == "empty" and rows[("dee", "q1")]["score"] == ""
    assert rows[("eve", "q2")]["flags"] == "truncated" and rows[("eve", "q2")]["score"] == ""
    assert rows[("fox", "q3")]["flags"] == "unreadable" and rows[("fox", "q3")]["score"] == ""
    assert rows[("gil nunez", "q1")]["score"] != ""
    for name, data in files.items():
        assert (folder / name).read_bytes() == data
