"""Writing results: grades.csv and grades.json (and, through report.py, the teacher's report).

Every file is written atomically: into a temporary file in the same folder, then renamed over
the target, so an interrupted run never leaves half a file and running again is safe.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import shutil
import tempfile
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Iterator

from .grading import GradedAnswer, paused_gc
from .parallel import Forked, can_fork
from .rubric import Rubric

CSV_COLUMNS = ("student_id", "question_id", "score", "max_score", "confidence", "needs_review", "flags", "feedback", "source")


class OutputError(OSError):
    """The output folder cannot be written; the message names it and says what to do."""


def prepare_out_dir(out: str | Path) -> Path:
    """Create the output folder (and parents) or raise OutputError with a clear fix."""
    out = Path(out)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise OutputError(f"{out}: exists and is not a folder; choose another --out") from None
    except OSError as exc:
        raise OutputError(f"{out}: cannot create the output folder ({exc.strerror}); choose a writable --out") from None
    if not os.access(out, os.W_OK | os.X_OK):
        raise OutputError(f"{out}: the output folder is not writable; choose a writable --out or fix its permissions")
    return out


@contextmanager
def atomic_writer(path: Path, newline: str | None = None) -> Iterator[io.TextIOBase]:
    """Open a temporary file beside `path` for writing text; rename it over `path` on success."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline=newline) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@contextmanager
def atomic_folder(path: Path) -> Iterator[Path]:
    """A new temporary folder beside `path` to fill; on success it replaces `path` whole (files of
    an earlier run that this one did not write go too). One rename instead of one per file: a
    class of 30,000 students writes 30,000 pages."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fresh = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent))
    fresh.chmod(0o755)  # mkdtemp makes it private; the pages are meant to be shared
    try:
        yield fresh
        if path.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".old", dir=path.parent))
            os.replace(path, old / path.name)
            os.replace(fresh, path)
            shutil.rmtree(old)
        else:
            os.replace(fresh, path)
    except BaseException:
        shutil.rmtree(fresh, ignore_errors=True)
        raise


def safe_file_name(student_id: str, used: set[str] | None = None) -> str:
    """A file name made from a student id that cannot leave its folder (no separators, no dots
    in front, no device names), unique within `used` when given."""
    name = re.sub(r"[^\w.\- ]+", "_", student_id, flags=re.UNICODE).strip(" .")
    name = re.sub(r"\.{2,}", "_", name)[:80] or "student"
    if name.upper().split(".")[0] in {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(10)), *(f"LPT{i}" for i in range(10))}:
        name = f"_{name}"
    if used is not None:
        base, n = name, 2
        while name.lower() in used:
            name = f"{base}_{n}"
            n += 1
        used.add(name.lower())
    return name


def _format_score(value: float | None) -> str:
    return "" if value is None else f"{value:g}"


def write_grades_csv(results: list[GradedAnswer], path: Path) -> None:
    with atomic_writer(path, newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(CSV_COLUMNS)
        for r in results:
            writer.writerow([
                r.student_id, r.question_id, _format_score(r.score), _format_score(r.max_score),
                f"{r.confidence:.2f}", "true" if r.needs_review else "false",
                ";".join(r.flag_codes), " ".join(r.feedback), r.source,
            ])


def result_to_dict(r: GradedAnswer) -> dict:
    return {
        "student_id": r.student_id,
        "question_id": r.question_id,
        "score": r.score,
        "max_score": r.max_score,
        "raw_score": r.raw_score,
        "confidence": r.confidence,
        "needs_review": r.needs_review,
        "flags": [flag.to_dict() for flag in r.flags],
        "feedback": r.feedback,
        "concepts": [
            {"label": c.label, "weight": c.weight, "status": c.status, "evidence": c.evidence,
             "span": list(c.span) if c.span else None}
            for c in r.concepts
        ],
        "similarity": {k: r.features[k] for k in ("word_recall", "char_recall", "word_cosine", "char_cosine") if k in r.features},
        "features": r.features,
        "answer": r.answer,
        "source": r.source,
    }


def write_grades_json(results: list[GradedAnswer], rubric: Rubric, path: Path) -> None:
    document = {
        "rubric": {"title": rubric.title, "source": rubric.source, "tuned": bool(rubric.model),
                   "scale": {"max": rubric.scale.max, "step": rubric.scale.step}},
    }
    # One answer per line: diffable and greppable, and written by json's fast C encoder
    # (indent= would switch to the pure-Python one, several times slower on big classes).
    # Each answer's dict is encoded as soon as it is made: holding 100,000 of them at once
    # made the garbage collector walk them over and over, which took longer than encoding.
    encode = json.JSONEncoder(ensure_ascii=False).encode   # what json.dumps(..., ensure_ascii=False) uses
    with atomic_writer(path) as handle:
        handle.write(encode(document)[:-1] + ', "answers": [\n')
        for index, result in enumerate(results):
            handle.write(("" if index == 0 else ",\n") + encode(result_to_dict(result)))
        handle.write("\n]}\n")


def write_outputs(results: list[GradedAnswer], rubric: Rubric, out: Path, progress=None) -> list[Path]:
    """Write every output of a grading run into `out`; returns the paths written.

    grades.csv and grades.json (the complete record), and the teacher's report: gradebook.csv,
    feedback/<student>.md and report.html. `progress(items, label=...)`, when given (e.g.
    click.progressbar), wraps the long loop over students.
    """
    from .report import write_report  # imported here: report.py imports this module

    written = [out / "grades.csv", out / "grades.json"]
    with paused_gc():
        # A big batch's report is written by a forked process while this one writes the grades
        # (not with a progress bar: only one process can draw it).
        report = Forked(write_report, results, rubric, out) if progress is None and can_fork(len(results)) else None
        with report or nullcontext():
            write_grades_csv(results, written[0])
            write_grades_json(results, rubric, written[1])
            written += report.result() if report is not None else write_report(results, rubric, out, progress)
    return written
