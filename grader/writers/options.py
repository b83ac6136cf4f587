"""What a run writes beyond the complete record: the gradebook's layout and the feedback pages' format."""

from __future__ import annotations

from dataclasses import dataclass

from .gradebook import GRADEBOOK_LAYOUTS
from .pages import FEEDBACK_FORMATS


@dataclass(frozen=True)
class OutputOptions:
    """`gradebook`: the column layout of gradebook.csv, one an LMS imports (plain, canvas, moodle,
    classroom: docs/gradebook.md). `blank_as_zero`: a blank or missing answer scores 0 in the
    gradebook instead of an empty cell (which Moodle reads as "clear the grade"). `feedback_format`:
    the feedback pages as Markdown (md), plain text to paste into an LMS comment box (txt) or HTML."""

    gradebook: str = "plain"
    blank_as_zero: bool = False
    feedback_format: str = "md"

    def __post_init__(self):
        if self.gradebook not in GRADEBOOK_LAYOUTS:
            raise ValueError(f"gradebook layout {self.gradebook!r}: choose one of {', '.join(GRADEBOOK_LAYOUTS)}")
        if self.feedback_format not in FEEDBACK_FORMATS:
            raise ValueError(f"feedback format {self.feedback_format!r}: choose one of {', '.join(FEEDBACK_FORMATS)}")
