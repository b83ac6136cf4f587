"""Rubrics: what a good answer to each question contains, loaded from TOML and validated.

A rubric has a title, a score scale and questions; each question has a prompt, one or more
model answers and weighted concepts (a label, aliases that count as the concept, and the
feedback line shown when it is missing). A tuned rubric also carries what `grader tune`
learned (`[model]` and per-question `calibration` / `exemplars`), as plain data.
"""

from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass, field
from functools import cached_property
from importlib import resources
from pathlib import Path
from typing import Any

DEFAULT_RUBRIC = "stakhanovism.toml"


class RubricError(ValueError):
    """A rubric that cannot be used; the message names the file, the field and the fix."""

    def __init__(self, source: str, where: str, problem: str):
        self.source, self.where, self.problem = source, where, problem
        super().__init__(f"{source}: {where}: {problem}" if where else f"{source}: {problem}")


@dataclass(frozen=True)
class Scale:
    max: float = 5.0
    step: float = 0.5

    def snap(self, value: float) -> float:
        """Clip to 0..max and round to the nearest step."""
        value = min(max(value, 0.0), self.max)
        snapped = round(value / self.step) * self.step
        return round(min(snapped, self.max), 6)


@dataclass(frozen=True)
class Concept:
    label: str
    weight: float = 1.0
    aliases: tuple[str, ...] = ()
    missing: str = ""

    @property
    def phrases(self) -> tuple[str, ...]:
        """Every phrase that counts as this concept: the label first, then the aliases."""
        return (self.label, *[a for a in self.aliases if a.lower() != self.label.lower()])


@dataclass(frozen=True)
class Exemplar:
    """A graded answer kept as an extra reference for its score level."""

    score: float
    answer: str


@dataclass(frozen=True)
class Question:
    id: str
    prompt: str
    model_answers: tuple[str, ...]
    concepts: tuple[Concept, ...] = ()
    max_score: float | None = None
    exemplars: tuple[Exemplar, ...] = ()
    calibration: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class Rubric:
    title: str
    scale: Scale
    questions: tuple[Question, ...]
    model: dict[str, Any] = field(default_factory=dict)
    # What `grader tune` learned from a few marks per question (scoring/adapt.py, MarkAdapter.to_dict).
    marks: dict[str, Any] = field(default_factory=dict)
    source: str = "<rubric>"
    # Course reading the questions are about (optional): its words count as on-topic, and answers
    # copied from it are flagged like copies of a model answer.
    sources: tuple[str, ...] = ()
    # The scorer of a rubric without [model]: "general" (the shipped general model) or "rules".
    scorer: str = "general"

    def question(self, question_id: str) -> Question | None:
        return self._by_id.get(question_id)

    def max_score(self, question_id: str) -> float:
        question = self.question(question_id)
        return question.max_score if question and question.max_score is not None else self.scale.max

    def scale_for(self, question_id: str) -> Scale:
        return Scale(max=self.max_score(question_id), step=self.scale.step)

    @cached_property   # looked up once or more per answer; the rubric is immutable
    def _by_id(self) -> dict[str, Question]:
        return {q.id: q for q in self.questions}


_TOP_KEYS = {"title", "scale", "questions", "model", "sources", "scorer", "marks"}
SCORERS = ("general", "rules")
_SCALE_KEYS = {"max", "step"}
_QUESTION_KEYS = {"id", "prompt", "model_answers", "concepts", "max_score", "exemplars", "calibration"}
_CONCEPT_KEYS = {"label", "weight", "aliases", "missing"}
_EXEMPLAR_KEYS = {"score", "answer"}


def bundled_rubric_path() -> Path:
    """Path of the default rubric shipped inside the package (rubrics/ in a source checkout)."""
    try:
        return Path(str(resources.files("grader.rubrics").joinpath(DEFAULT_RUBRIC)))
    except ModuleNotFoundError:  # running from a checkout without installing: rubrics/ beside grader/
        return Path(__file__).resolve().parent.parent / "rubrics" / DEFAULT_RUBRIC


def load_rubric(path: str | Path | None = None) -> Rubric:
    """Read and validate a rubric file (the bundled Stakhanovism rubric when `path` is None)."""
    path = Path(path) if path is not None else bundled_rubric_path()
    source = str(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise RubricError(source, "", "no such file; give an existing rubric with --rubric") from None
    except IsADirectoryError:
        raise RubricError(source, "", "is a folder; give a rubric .toml file with --rubric") from None
    except OSError as exc:
        raise RubricError(source, "", f"cannot be read ({exc.strerror}); check its permissions") from None
    try:
        data = tomllib.loads(raw.decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise RubricError(source, "", "is not UTF-8 text; save it as UTF-8") from None
    except tomllib.TOMLDecodeError as exc:
        raise RubricError(source, "TOML syntax", f"{exc}; fix the syntax there") from None
    return rubric_from_dict(data, source)


def rubric_from_dict(data: dict[str, Any], source: str = "<rubric>") -> Rubric:
    """Validate parsed TOML data and build a Rubric; raises RubricError naming the field."""
    _no_unknown_keys(data, _TOP_KEYS, "", source)
    title = _text(data, "title", "", source, required=False) or Path(source).stem
    scale_data = data.get("scale", {})
    if not isinstance(scale_data, dict):
        raise RubricError(source, "scale", "must be a table like [scale] max = 5, step = 0.5")
    _no_unknown_keys(scale_data, _SCALE_KEYS, "scale", source)
    scale = Scale(
        max=_positive(scale_data, "max", "scale", source, default=5.0),
        step=_positive(scale_data, "step", "scale", source, default=0.5),
    )
    _check_step(scale.max, scale.step, "scale", source)

    questions_data = data.get("questions")
    if not isinstance(questions_data, list) or not questions_data:
        raise RubricError(source, "questions", "missing; add at least one [[questions]] table with id, prompt and model_answers")
    questions = []
    seen: dict[str, int] = {}
    for index, q_data in enumerate(questions_data):
        where = f"questions[{index}]"
        if not isinstance(q_data, dict):
            raise RubricError(source, where, "must be a table ([[questions]])")
        question = _question(q_data, where, source, scale)
        if question.id in seen:
            raise RubricError(source, f"{where}.id", f"duplicate id {question.id!r} (also questions[{seen[question.id]}]); give each question its own id")
        seen[question.id] = index
        questions.append(question)

    model = data.get("model", {})
    if not isinstance(model, dict):
        raise RubricError(source, "model", "must be a table ([model]) written by `grader tune`")
    marks = data.get("marks", {})
    if not isinstance(marks, dict):
        raise RubricError(source, "marks", "must be a table ([marks]) written by `grader tune`; remove it to grade without it")
    sources = data.get("sources", [])
    if not isinstance(sources, list) or not all(isinstance(text, str) and text.strip() for text in sources):
        raise RubricError(source, "sources", 'must be a list of non-empty texts, e.g. sources = ["""..."""]')
    scorer = data.get("scorer", "general")
    if scorer not in SCORERS:
        raise RubricError(source, "scorer", f"must be one of {', '.join(repr(s) for s in SCORERS)} (got {scorer!r}); "
                                            "leave it out for the general model")
    return Rubric(title=title, scale=scale, questions=tuple(questions), model=model, marks=marks, source=source,
                  sources=tuple(text.strip() for text in sources), scorer=scorer)


def _question(q_data: dict[str, Any], where: str, source: str, scale: Scale) -> Question:
    _no_unknown_keys(q_data, _QUESTION_KEYS, where, source)
    qid = _text(q_data, "id", where, source)
    prompt = _text(q_data, "prompt", where, source)
    answers = q_data.get("model_answers")
    if isinstance(answers, str):
        answers = [answers]
    if not isinstance(answers, list) or not [a for a in answers if isinstance(a, str) and a.strip()]:
        raise RubricError(source, f"{where}.model_answers", f"question {qid!r} has no model answer; add model_answers = [\"...\"]")
    for i, answer in enumerate(answers):
        if not isinstance(answer, str) or not answer.strip():
            raise RubricError(source, f"{where}.model_answers[{i}]", "must be non-empty text")
    max_score = None
    if "max_score" in q_data:
        max_score = _positive(q_data, "max_score", where, source)
        _check_step(max_score, scale.step, where, source)

    concepts = []
    labels: dict[str, int] = {}
    concepts_data = q_data.get("concepts", [])
    if not isinstance(concepts_data, list):
        raise RubricError(source, f"{where}.concepts", "must be a list of [[questions.concepts]] tables")
    for c_index, c_data in enumerate(concepts_data):
        c_where = f"{where}.concepts[{c_index}]"
        if not isinstance(c_data, dict):
            raise RubricError(source, c_where, "must be a table ([[questions.concepts]])")
        _no_unknown_keys(c_data, _CONCEPT_KEYS, c_where, source)
        label = _text(c_data, "label", c_where, source)
        if label.lower() in labels:
            raise RubricError(source, f"{c_where}.label", f"duplicate concept {label!r} in question {qid!r}; merge the two or rename one")
        labels[label.lower()] = c_index
        aliases = c_data.get("aliases", [])
        if not isinstance(aliases, list) or not all(isinstance(a, str) and a.strip() for a in aliases):
            raise RubricError(source, f"{c_where}.aliases", "must be a list of non-empty phrases")
        missing = c_data.get("missing", "")
        if not isinstance(missing, str):
            raise RubricError(source, f"{c_where}.missing", "must be text: the feedback line shown when the concept is missing")
        concepts.append(Concept(
            label=label,
            weight=_positive(c_data, "weight", c_where, source, default=1.0),
            aliases=tuple(a.strip() for a in aliases),
            missing=missing.strip(),
        ))

    exemplars = []
    for e_index, e_data in enumerate(q_data.get("exemplars", [])):
        e_where = f"{where}.exemplars[{e_index}]"
        if not isinstance(e_data, dict):
            raise RubricError(source, e_where, "must be a table with score and answer")
        _no_unknown_keys(e_data, _EXEMPLAR_KEYS, e_where, source)
        score = _number(e_data, "score", e_where, source)
        limit = max_score if max_score is not None else scale.max
        if not 0 <= score <= limit:
            raise RubricError(source, f"{e_where}.score", f"{score} is outside 0..{limit:g}")
        exemplars.append(Exemplar(score=score, answer=_text(e_data, "answer", e_where, source)))

    calibration = q_data.get("calibration", {})
    if not isinstance(calibration, dict) or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in calibration.values()):
        raise RubricError(source, f"{where}.calibration", "must be a table of numbers written by `grader tune`")
    return Question(id=qid, prompt=prompt, model_answers=tuple(a.strip() for a in answers),
                    concepts=tuple(concepts), max_score=max_score, exemplars=tuple(exemplars),
                    calibration={k: float(v) for k, v in calibration.items()})


def _no_unknown_keys(data: dict[str, Any], allowed: set[str], where: str, source: str) -> None:
    unknown = sorted(set(data) - allowed)
    if unknown:
        field_name = f"{where}.{unknown[0]}" if where else unknown[0]
        raise RubricError(source, field_name, f"unknown key; allowed here: {', '.join(sorted(allowed))} (check the spelling)")


def _text(data: dict[str, Any], key: str, where: str, source: str, required: bool = True) -> str:
    value = data.get(key)
    name = f"{where}.{key}" if where else key
    if value is None:
        if required:
            raise RubricError(source, name, f"missing; add {key} = \"...\"")
        return ""
    if isinstance(value, (int, float)) and not isinstance(value, bool) and key == "id":
        value = str(value)
    if not isinstance(value, str) or (required and not value.strip()):
        raise RubricError(source, name, "must be non-empty text")
    return value.strip()


def finite_number(value: Any) -> float | None:
    """`value` as a float when it is a finite TOML number (not a boolean), else None."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return None
    return float(value)


def step_divides(maximum: float, step: float) -> bool:
    """Whether `step` divides `maximum` (within rounding): scores are multiples of the step."""
    return abs(maximum / step - round(maximum / step)) <= 1e-9


def _number(data: dict[str, Any], key: str, where: str, source: str) -> float:
    value = data.get(key)
    number = finite_number(value)
    if number is None:
        raise RubricError(source, f"{where}.{key}", f"must be a number (got {value!r})")
    return number


MAX_MARKS = 1000.0
"""The largest scale maximum, question maximum and concept weight a rubric may give."""
MAX_STEPS = 1000
"""The most steps a scale may have (max / step): each is a choice in the report's score control."""


def _positive(data: dict[str, Any], key: str, where: str, source: str, default: float | None = None) -> float:
    if key not in data and default is not None:
        return default
    value = _number(data, key, where, source)
    if value <= 0:
        raise RubricError(source, f"{where}.{key}", f"must be greater than 0 (got {value:g}); use a positive number")
    if value > MAX_MARKS:
        raise RubricError(source, f"{where}.{key}", f"must be at most {MAX_MARKS:g} (got {value:g}); use a smaller number")
    return value


def _check_step(maximum: float, step: float, where: str, source: str) -> None:
    if not step_divides(maximum, step):
        raise RubricError(source, f"{where}.step", f"step {step:g} does not divide the maximum {maximum:g}; pick a step such as 0.5 or 1")
    if maximum / step > MAX_STEPS:
        raise RubricError(source, f"{where}.step", f"step {step:g} makes {maximum / step:.0f} steps up to {maximum:g} "
                          f"(at most {MAX_STEPS}); pick a larger step")


def rubric_to_dict(rubric: Rubric) -> dict[str, Any]:
    """Plain data for TOML: the inverse of rubric_from_dict."""
    questions = []
    for q in rubric.questions:
        q_data: dict[str, Any] = {"id": q.id, "prompt": q.prompt, "model_answers": list(q.model_answers)}
        if q.max_score is not None:
            q_data["max_score"] = q.max_score
        if q.calibration:
            q_data["calibration"] = dict(q.calibration)
        if q.concepts:
            q_data["concepts"] = [
                {"label": c.label, "weight": c.weight, "aliases": list(c.aliases), "missing": c.missing}
                for c in q.concepts
            ]
        if q.exemplars:
            q_data["exemplars"] = [{"score": e.score, "answer": e.answer} for e in q.exemplars]
        questions.append(q_data)
    data: dict[str, Any] = {"title": rubric.title, "scale": {"max": rubric.scale.max, "step": rubric.scale.step}}
    if rubric.scorer != "general":
        data["scorer"] = rubric.scorer
    if rubric.model:
        data["model"] = rubric.model
    if rubric.marks:
        data["marks"] = rubric.marks
    if rubric.sources:
        data["sources"] = list(rubric.sources)
    data["questions"] = questions
    return data


def dump_rubric(rubric: Rubric) -> str:
    """The rubric as TOML text (diffable; multi-line strings where they help)."""
    import tomli_w

    return tomli_w.dumps(rubric_to_dict(rubric), multiline_strings=True)
