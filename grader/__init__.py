"""grader: offline short-answer grading against model answers and rubric concepts.

Library use::

    from grader import Grader
    run = Grader("rubrics/stakhanovism.toml").run(["samples"], "grades")   # every output in grades/
    for result in run.results:
        print(result.student_id, result.question_id, result.score, result.feedback)

or step by step::

    from grader import load_rubric, read_answers, grade
    rubric = load_rubric("rubrics/stakhanovism.toml")
    results = grade(rubric, read_answers(["samples"]))

Submodules are imported on first use, so `grader --help` stays fast.
"""

from importlib import import_module

__version__ = "0.1.0"

_EXPORTS = {
    "load_rubric": "rubric", "Rubric": "rubric", "RubricError": "rubric",
    "read_answers": "answers", "Answer": "answers", "InputError": "answers",
    "grade": "grading", "GradedAnswer": "grading",
    "Grader": "pipeline", "Run": "pipeline", "Runtime": "runtime",
    "AnswerFeatures": "features", "RuleScorer": "scoring", "LearnedScorer": "scoring",
    "write_outputs": "writers",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(import_module(f".{_EXPORTS[name]}", __name__), name)
    raise AttributeError(f"module 'grader' has no attribute {name!r}")
