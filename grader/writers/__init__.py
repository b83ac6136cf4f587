"""Writing a run's outputs: grades.csv and grades.json (the complete record), and the teacher's
files: gradebook.csv, feedback/<student>.md and report.html.

- files: atomic writes, safe file names, score formatting (every writer's helpers);
- grades, gradebook, pages, report (with charts): one module per output;
- students: results grouped by student, for the gradebook, the pages and the report.
"""

from __future__ import annotations

from pathlib import Path

from ..grading import GradedAnswer
from ..rubric import Rubric
from ..runtime import Runtime
from .files import OutputError, atomic_writer, prepare_out_dir
from .gradebook import GRADEBOOK_LAYOUTS, GRADEBOOK_NAME, write_gradebook
from .grades import write_grades_csv, write_grades_json
from .options import OutputOptions
from .pages import FEEDBACK_DIR, FEEDBACK_FORMATS, Progress, write_feedback_pages
from .report import REPORT_NAME, write_report
from .students import group_by_student

__all__ = ["OutputError", "OutputOptions", "atomic_writer", "prepare_out_dir", "write_outputs", "write_teacher_files",
           "GRADEBOOK_NAME", "GRADEBOOK_LAYOUTS", "FEEDBACK_DIR", "FEEDBACK_FORMATS", "REPORT_NAME"]


def write_outputs(results: list[GradedAnswer], rubric: Rubric, out: Path, progress: Progress | None = None,
                  runtime: Runtime | None = None, options: OutputOptions | None = None) -> list[Path]:
    """Write every output of a grading run into `out`; returns the paths written. `options`: the
    gradebook's layout and the feedback pages' format (default: OutputOptions()).

    `progress(items, label=...)`, when given (e.g. click.progressbar), wraps the long loop over
    students. On a big batch (`runtime.forks`) the teacher's files are written by a forked process
    while this one writes the grades (not with a progress bar: only one process can draw it).
    """
    runtime = runtime or Runtime()
    written = [out / "grades.csv", out / "grades.json"]
    with runtime.batch(), runtime.forked(len(results) if progress is None else 0,
                                         write_teacher_files, results, rubric, out, None, options) as report:
        write_grades_csv(results, written[0])
        write_grades_json(results, rubric, written[1])
        written += report.result() if report is not None else write_teacher_files(results, rubric, out, progress, options)
    return written


def write_teacher_files(results: list[GradedAnswer], rubric: Rubric, out: Path,
                        progress: Progress | None = None, options: OutputOptions | None = None) -> list[Path]:
    """Write gradebook.csv, feedback/<student>.<format> and report.html into `out`; returns the paths."""
    options = options or OutputOptions()
    students = group_by_student(results)
    gradebook = out / GRADEBOOK_NAME
    write_gradebook(students, rubric, gradebook, options.gradebook, options.blank_as_zero)
    pages = write_feedback_pages(students, rubric, out / FEEDBACK_DIR, progress, options.feedback_format)
    return [gradebook, *pages.values(), write_report(results, rubric, students, pages, out)]
