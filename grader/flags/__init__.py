"""Validity and gaming flags: answers a teacher should look at, each with its reason.

- answer: flags one answer earns from its own features and text (keyword lists, restated
  questions, off-topic text, gibberish, repetition, contradictions, copies of the model answer);
- duplicates: near-duplicates, from comparing students' answers with each other.

A gaming flag caps the score (scoring/caps.py): a flagged answer is scored conservatively and
always goes to the review queue.
"""

from .answer import Flag, QuestionChecks, answer_flags, rubric_checks, subject_comparison, word_triples
from .duplicates import NEAR_DUPLICATE_SIMILARITY, near_duplicates, near_duplicates_in_texts

__all__ = ["Flag", "QuestionChecks", "answer_flags", "rubric_checks", "subject_comparison", "word_triples",
           "NEAR_DUPLICATE_SIMILARITY", "near_duplicates", "near_duplicates_in_texts"]
