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

from .answers import Answer, read_answers, skipped_files
from .grading import GradedAnswer, grade
from .marking import MarksApplied, apply_learned, apply_marks
from .marks import Mark, read_marks
from .rubric import Rubric, load_rubric
from .runtime import Runtime
from .scoring import scorer_for
from .scoring.adapt import MarkAdapter
from .summary import summary_lines
from .writers import write_outputs
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
    `marks`: the teacher's marks (a marks CSV, read and checked here, or a list of Mark): final
    for the answers they mark, and learned from for the others (marking.py)."""

    def __init__(self, rubric: Rubric | str | Path | None = None, runtime: Runtime | None = None,
                 marks: str | Path | list[Mark] | None = None):
        self.rubric = rubric if isinstance(rubric, Rubric) else load_rubric(rubric)
        self.runtime = runtime or Runtime()
        self.scorer = scorer_for(self.rubric)
        self.learned = MarkAdapter.from_dict(self.rubric.marks, self.rubric.source) if self.rubric.marks else None
        self.marks: list[Mark] = (list(marks) if isinstance(marks, (list, tuple))
                                  else read_marks(marks, self.rubric) if marks is not None else [])
        self.applied: MarksApplied | None = None

    def read(self, inputs: Iterable[str | Path]) -> list[Answer]:
        """Every answer of the inputs (CSV files and answer folders), each exactly once."""
        return read_answers(inputs)

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
        return folder.write(lambda staging: write_outputs(results, self.rubric, staging, progress, self.runtime))

    def run(self, inputs: Iterable[str | Path], out: str | Path, progress: Progress | None = None,
            say: Callable[[str], None] | None = None) -> Run:
        """read, grade and write; `say(line)` hears what is going on (files skipped, answers found)."""
        say = say or (lambda line: None)
        inputs = [str(i) for i in inputs]
        # The output folder is checked and locked before anything is read: an unwritable --out,
        # one that overlaps an input, or one another run is writing fails at once. One batch: the
        # collector stays off from reading to the last output, which would otherwise walk the
        # millions of objects the batch made (seconds at 100,000 answers).
        with OutputFolder(out, inputs, say) as folder, self.runtime.batch():
            out = folder.out
            answers = self.read(inputs)
            skipped = {given: files for given in (Path(i) for i in inputs if Path(i).is_dir())
                       if (files := skipped_files(given))}
            for given, files in skipped.items():
                say(f"Skipped {len(files)} files in {given} that are not <student_id>/<question_id>.txt or .md "
                    f"(first: {files[0].relative_to(given)})")
            say(f"Grading {len(answers)} answers with rubric {self.rubric.title!r} ...")
            results = self.grade(answers)
            if self.applied is not None:
                say(f"Using {self.applied.marked} of your {len(self.marks)} marks as final; "
                    f"they changed the scores of {self.applied.moved} other answers.")
                for line in self.applied.lines():
                    say(line)
            written = self._write_into(folder, results, progress)
            summary = summary_lines(results, self.rubric, out, self.applied)
        return Run(answers, results, out, written, skipped, summary, self.applied)
