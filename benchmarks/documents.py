"""What reading answers as Word files costs over the same answers as plain text (issue #12.7).

It writes the same N answers (N/3 students, each answering q1-q3 of the bundled rubric with one
of the sample answers in samples/) twice in the folder layout <student>/<question>: once as .txt,
once as .docx made with python-docx. Then it times, interleaved (--repeats):

- read: `grader.answers.read_answers(folder, rubric)` in this process, the reading step alone;
- grade: `grader grade FOLDER --out DIR --quiet` end to end, as a subprocess.

It reports MEDIANS: seconds for .txt, for .docx, and the difference per 1,000 files. The target:
reading 1,000 .docx files takes at most a few seconds more than the same answers as .txt. The
Markdown table is printed and written to benchmarks/results/documents.md.

    python benchmarks/documents.py --files 1000 --repeats 3
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def write_class(folder: Path, files: int, suffix: str) -> None:
    import docx

    # the sample students with an answer to every question (eli's are blank)
    samples = sorted(p for p in (ROOT / "samples").iterdir()
                     if p.is_dir() and all((p / f"q{i}.txt").read_text(encoding="utf-8").strip() for i in (1, 2, 3)))
    for index in range(files):
        student, question = f"s{index // 3:05d}", f"q{index % 3 + 1}"
        text = (samples[(index // 3) % len(samples)] / f"{question}.txt").read_text(encoding="utf-8").strip()
        (folder / student).mkdir(parents=True, exist_ok=True)
        path = folder / student / f"{question}{suffix}"
        if suffix == ".txt":
            path.write_text(text, encoding="utf-8")
        else:
            document = docx.Document()
            for paragraph in text.split("\n"):
                if paragraph.strip():
                    document.add_paragraph(paragraph)
            document.save(str(path))


def time_read(folder: Path) -> float:
    from grader.answers import read_answers
    from grader.rubric import load_rubric

    rubric = load_rubric(None)
    start = time.perf_counter()
    answers = read_answers([folder], rubric)
    elapsed = time.perf_counter() - start
    assert not [a for a in answers if a.problem], "every answer must be readable"
    return elapsed


def time_grade(folder: Path, out: Path) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "grader", "grade", str(folder), "--out", str(out), "--quiet"],
                   check=True, capture_output=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--files", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "documents.md")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        for suffix in (".txt", ".docx"):
            write_class(tmp / suffix[1:], args.files, suffix)
        timings: dict[tuple[str, str], list[float]] = {}
        for repeat in range(args.repeats):
            for suffix in ("txt", "docx"):   # interleaved: a busy machine slows both alike
                timings.setdefault(("read", suffix), []).append(time_read(tmp / suffix))
                timings.setdefault(("grade", suffix), []).append(time_grade(tmp / suffix, tmp / f"out-{suffix}-{repeat}"))
    per_thousand = 1000 / args.files
    lines = [f"| step | .txt (s) | .docx (s) | .docx - .txt per 1,000 files (s) |", "|---|---|---|---|"]
    for step in ("read", "grade"):
        txt, docx_ = (statistics.median(timings[(step, s)]) for s in ("txt", "docx"))
        lines.append(f"| {step} | {txt:.2f} | {docx_:.2f} | {(docx_ - txt) * per_thousand:+.2f} |")
    table = "\n".join([f"{args.files} answer files, medians of {args.repeats} interleaved runs; "
                       f"{platform.python_implementation()} {platform.python_version()}, {os.cpu_count()} cores.",
                       "", *lines, ""])
    print(table)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(f"`python benchmarks/documents.py --files {args.files} --repeats {args.repeats}`\n\n{table}")


if __name__ == "__main__":
    main()
