"""Feedback: one to four short sentences per answer, built from what the grader found.

What was covered, quoting the student's own words; what was denied; what is missing (the
rubric's feedback line for the heaviest missing concepts); and, for a flagged answer, what to do
differently. Every sentence is fit to hand back to the student: the flags' reasons (which may
name another student) stay with the flags, for the teacher. No generic filler.
"""

from __future__ import annotations

from .features import ConceptResult
from .flags import Flag
from .text import quotable

MAX_QUOTED = 3
MAX_MISSING = 2

# What a student should do differently, per flag; flags without advice say nothing to the student.
ADVICE = {
    "keyword_list": "Write full sentences that explain how these ideas connect; a list of terms earns little credit.",
    "keyword_stuffing": "Explain the ideas in your own sentences instead of stringing key terms together.",
    "restates_question": "Answer the question in your own words instead of repeating it.",
    "off_topic": "This does not answer the question asked; reread the prompt.",
    "gibberish": "The answer could not be read as words.",
    "no_answer": "No answer was given; even a partial answer can earn some marks.",
    "not_english": "Write the answer in English.",
    "repetitive": "Develop new points instead of repeating the same one.",
    "copies_model_answer": "Explain it in your own words rather than copying a source.",
    "padding": "Cut the general statements and say something specific about the question.",
    "wrong_question": "This reads as an answer to a different question; check which question you were answering.",
}


def feedback_for(concepts: list[ConceptResult], flags: list[Flag], missing_terms: list[str] | None = None) -> list[str]:
    """Sentences of feedback, most important first (at most four)."""
    sentences: list[str] = []
    advice = [ADVICE[flag.code] for flag in flags if flag.code in ADVICE][:1]
    found = sorted((c for c in concepts if c.status == "found"), key=lambda c: -c.weight)
    echoed = [c for c in concepts if c.status == "echo"]
    negated = [c for c in concepts if c.status == "negated"]
    missing = sorted((c for c in concepts if c.status in ("missing", "echo")), key=lambda c: -c.weight)

    if found:
        # Every covered concept is named (the student sees all the credit); only the heaviest
        # few are quoted, so the sentence stays readable.
        named = _quoted(found[:MAX_QUOTED]) + [c.label for c in found[MAX_QUOTED:]]
        sentences.append(f"Covered: {_join(named)}.")
    elif echoed and not advice:
        sentences.append(f"Names {_join([c.label for c in echoed])} only in repeating the question; explain it in your own words.")
    if negated:
        quoted = _quoted(negated[:2])
        sentences.append(f"Contradicts the model answer on {_join(quoted)}.")
    for concept in missing[:MAX_MISSING]:
        if len(sentences) >= 3:
            break
        line = concept.missing or f"Missing: {concept.label}."
        sentences.append(line if line.endswith((".", "!", "?")) else line + ".")
    if not concepts and missing_terms:
        sentences.append(f"Key terms of the model answer it does not use: {', '.join(missing_terms[:5])}.")
    if advice:
        sentences = sentences[:3] + advice
    if not sentences:
        sentences.append("Covers every rubric concept." if concepts else "Close to the model answer.")
    return sentences[:4]


def _quoted(concepts: list[ConceptResult]) -> list[str]:
    """'label ("evidence")' for each concept, quoting a passage only the first time it comes up."""
    seen: set[str] = set()
    items = []
    for concept in concepts:
        evidence = quotable(concept.evidence, 90)
        items.append(concept.label if evidence in seen else f'{concept.label} ("{evidence}")')
        seen.add(evidence)
    return items


def _join(items: list[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]
