"""Results grouped by student, as the gradebook, the feedback pages and the report show them."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..grading import GradedAnswer
from ..rubric import Rubric


@dataclass
class StudentGrades:
    """One student's answers, and the answer that counts for each rubric question."""

    student_id: str
    answers: list[GradedAnswer] = field(default_factory=list)

    def for_question(self, question_id: str) -> GradedAnswer | None:
        """The graded answer to a question if any (a duplicate copy is never graded), else the first."""
        matching = [a for a in self.answers if a.question_id == question_id]
        return next((a for a in matching if a.score is not None), matching[0] if matching else None)

    @property
    def name(self) -> str:
        """The student's name as the first of their answers that has one gave it ("" if none)."""
        return next((a.name for a in self.answers if a.name), "")

    @property
    def email(self) -> str:
        return next((a.email for a in self.answers if a.email), "")

    @property
    def input_index(self) -> int:
        """Where the student's first answer was in the input."""
        return min((a.input_index for a in self.answers), default=-1)

    @property
    def heading(self) -> str:
        """How a page names the student: 'Ana Diaz (ana@school.org)', else the id."""
        return f"{self.name} ({self.student_id})" if self.name and self.name != self.student_id else self.student_id

    def total(self, rubric: Rubric) -> float | None:
        """Sum of the graded rubric questions; None when none is graded."""
        scores = [a.score for q in rubric.questions if (a := self.for_question(q.id)) and a.score is not None]
        return round(sum(scores), 6) if scores else None


def group_by_student(results: list[GradedAnswer]) -> list[StudentGrades]:
    """Students in the order of the results (grade() sorts them by id)."""
    students: dict[str, StudentGrades] = {}
    for result in results:
        students.setdefault(result.student_id, StudentGrades(result.student_id)).answers.append(result)
    return list(students.values())


def in_input_order(students: list[StudentGrades]) -> list[StudentGrades]:
    """The students in the order the input first listed them (the class list an LMS exported);
    students without a known position keep their place after them."""
    return sorted(students, key=lambda s: (s.input_index < 0, s.input_index))


def total_max(rubric: Rubric) -> float:
    return sum(rubric.max_score(q.id) for q in rubric.questions)
