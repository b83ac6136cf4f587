"""The grading pipeline behind one façade: read -> features -> score -> flags and feedback -> write.

    from grader import Grader
    grader = Grader("rubrics/stakhanovism.toml")      # or a Rubric, or None for the bundled one
    run = grader.run(["samples"], "grades")          # every output written into grades/
    for result in run.results:
        print(result.student_id, result.question_id, result.score)

Each step is also a method (`read`, `grade`, `write`) for a caller that wants to look between
them. The runtime (grader/runtime.py: forked workers, the garbage collector) is chosen here, once,
and passed down.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

from .answers import Answer, InputError, read_answers, skipped_files
from .classcontext import read_class_context, with_class
from .grading import GradedAnswer, grade
from .inputs.files import READ_LAYOUTS, why_skipped
from .marking import MarksApplied, apply_learned, apply_marks
from .marks import Mark, read_marks
from .rubric import Rubric, load_rubric
from .runtime import Runtime
from .scoring import scorer_for
from .scoring.adapt import MarkAdapter
from .summary import summary_lines
from .writers import OutputError, OutputOptions, write_outputs
from .writers.outputs import OutputFolder
from .writers.pages import Progress


@dataclass
class Run:
    """What a run read, graded and wrote."""

    answers: list[Answer]
    results: list[GradedAnswer]
    out: Path
    written: list[Path] = field(default_factory=list)
    skipped: dict[Path, list[Path]] = field(default_factory=dict)   # input folder -> files not read
    summary: list[str] = field(default_factory=list)   # a few lines for the teacher (summary.py)
    marks: MarksApplied | None = None   # what the teacher's marks did (with --marks)


class Grader:
    """One rubric, any inputs. `rubric`: a Rubric, a rubric file, or None for the bundled rubric
    (validated here, learned model included: a bad rubric fails before anything is read).
    `options`: what the outputs look like (writers.OutputOptions: the gradebook's LMS layout,
    blank answers as 0, the feedback pages' format).
    `marks`: the teacher's marks (a marks CSV, read and checked here, or a list of Mark): final
    for the answers they mark, and learned from for the others (marking.py)."""

    def __init__(self, rubric: Rubric | str | Path | None = None, runtime: Runtime | None = None,
                 options: OutputOptions | None = None, marks: str | Path | list[Mark] | None = None):
        self.rubric = rubric if isinstance(rubric, Rubric) else load_rubric(rubric)
        self.runtime = runtime or Runtime()
        self.options = options or OutputOptions()
        self.scorer = scorer_for(self.rubric)
        self.learned = MarkAdapter.from_dict(self.rubric.marks, self.rubric.source) if self.rubric.marks else None
        self.marks: list[Mark] = (list(marks) if isinstance(marks, (list, tuple))
                                  else read_marks(marks, self.rubric) if marks is not None else [])
        self.applied: MarksApplied | None = None

    def read(self, inputs: Iterable[str | Path], columns: str | None = None,
             say: Callable[[str], None] | None = None) -> list[Answer]:
        """Every answer of the inputs (answers.read_answers: documents, folders, CSV files of any
        dialect, spreadsheets, form and LMS exports), each exactly once. `columns`: a long table's
        column names ("student=Pupil,question=Item,answer=Text"); `say` hears how export columns
        were matched to the rubric's questions."""
        return read_answers(inputs, self.rubric, columns, say)

    def grade(self, answers: list[Answer]) -> list[GradedAnswer]:
        """One GradedAnswer per answer, sorted by student then the rubric's question order; with
        marks, the marked answers have the teacher's score and feedback (what else they did: `applied`)."""
        results = grade(self.rubric, answers, self.scorer, self.runtime)
        if self.learned is not None:
            apply_learned(results, self.learned, self.rubric)
        self.applied = apply_marks(results, self.marks, self.rubric) if self.marks else None
        return results

    def write(self, results: list[GradedAnswer], out: str | Path, progress: Progress | None = None,
              say: Callable[[str], None] | None = None) -> list[Path]:
        """Every output into `out` (created if needed), switched in as one set (writers/outputs.py);
        returns the paths written."""
        with OutputFolder(out, say=say) as folder:
            return self._write_into(folder, results, progress)

    def _write_into(self, folder: OutputFolder, results: list[GradedAnswer], progress: Progress | None) -> list[Path]:
        return folder.write(lambda staging: write_outputs(results, self.rubric, staging, progress, self.runtime,
                                                                 self.options))

    def grade_in_context(self, answers: list[Answer], context: str | Path) -> list[GradedAnswer]:
        """`answers` graded together with the class of the run whose outputs are in `context`
        (classcontext.py), so that each gets the score it would have had in that run; returns the
        results of `answers` only."""
        late = {(a.student_id, a.question_id) for a in answers}
        class_answers = read_class_context(context, self.rubric)
        return [r for r in self.grade(with_class(answers, class_answers)) if (r.student_id, r.question_id) in late]

    def run(self, inputs: Iterable[str | Path], out: str | Path, progress: Progress | None = None,
            say: Callable[[str], None] | None = None, context: str | Path | None = None,
            columns: str | None = None) -> Run:
        """read, grade and write; `say(line)` hears what is going on (files skipped, answers found).
        `context`: the --out folder of an earlier run, whose class the answers are graded with
        (grade_in_context); `columns`: see `read`."""
        say = say or (lambda line: None)
        inputs = [str(i) for i in inputs]
        if context is not None and Path(context).resolve() == Path(out).resolve():
            raise OutputError(f"{out}: --out is the --context folder; the class's outputs would be replaced by "
                              "those of the late answers alone. Choose another --out")
        # The output folder is checked and locked before anything is read: an unwritable --out,
        # one that overlaps an input, or one another run is writing fails at once. One batch: the
        # collector stays off from reading to the last output, which would otherwise walk the
        # millions of objects the batch made (seconds at 100,000 answers).
        with OutputFolder(out, inputs, say) as folder, self.runtime.batch():
            out = folder.out
            answers = self.read(inputs, columns, say)
            skipped = {given: files for given in (Path(i) for i in inputs if Path(i).is_dir())
                       if (files := skipped_files(given))}
            for given, files in skipped.items():
                say(f"Skipped {len(files)} files in {given}: {_first_skipped(given, files)}")
            if not any(a.problem is None and self.rubric.question(a.question_id) is not None for a in answers):
                raise InputError(f"nothing to grade in {', '.join(inputs)}: {_found(answers, self.rubric, skipped)}; "
                                 f"grader reads {READ_LAYOUTS} (README, \"Inputs\")")
            say(f"Grading {len(answers)} answers with rubric {self.rubric.title!r}"
                + (f", in the context of the class in {context}" if context is not None else "") + " ...")
            results = self.grade(answers) if context is None else self.grade_in_context(answers, context)
            if self.applied is not None:
                say(f"Using {self.applied.marked} of your {len(self.marks)} marks as final; "
                    f"they changed the scores of {self.applied.moved} other answers.")
                for line in self.applied.lines():
                    say(line)
            written = self._write_into(folder, results, progress)
            summary = summary_lines(results, self.rubric, out, self.applied)
        return Run(answers, results, out, written, skipped, summary, self.applied)


def _first_skipped(folder: Path, files: list[Path], shown: int = 3) -> str:
    """The first few files skipped, each with why: 'notes.jpg (not an answer document (.jpg)), ...'."""
    first = ", ".join(f"{f.relative_to(folder)} ({why_skipped(folder, f)})" for f in files[:shown])
    return first + (f" and {len(files) - shown} more" if len(files) > shown else "")


def _found(answers: list[Answer], rubric: Rubric, skipped: dict[Path, list[Path]]) -> str:
    """What a run with nothing gradable found, in one clause: answers by problem, files skipped."""
    problems: dict[str, int] = {}
    for answer in answers:
        code = answer.problem or ("a question not in the rubric" if rubric.question(answer.question_id) is None else "")
        problems[code] = problems.get(code, 0) + 1
    found = (f"{len(answers)} answers, none gradable ({', '.join(f'{n} {code}' for code, n in problems.items())})"
             if answers else "no answers")
    files = sum(len(f) for f in skipped.values())
    if files:
        found += f"; {files} files skipped: " + "; ".join(_first_skipped(g, f) for g, f in skipped.items())
    return found
