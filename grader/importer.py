"""`grader rubric import`: a rubric from a spreadsheet of questions and model answers.

The CSV needs the columns question_id, prompt and model_answer; max_score, concepts and
model_answers are optional (concepts: phrases separated by ';', each becoming a concept of weight 1
with a feedback line; model_answers: every acceptable answer, separated by ` || `, each scored as
a model answer: an answer is graded against the one it matches best); other columns are ignored.
A question_id on several rows gets one model answer per row.

A question without concepts gets concepts derived from its model answers (`derive_concepts`): their
key phrases, each with the forms the model answers write it in as aliases, weighted by how central
it is (how rare across the rubric, how many of the question's model answers say it), with a
feedback line quoting the model answer. The teacher can edit or delete them in the TOML. Questions
whose model answers are a few words (a name, a number) get none: the answer is the whole phrase.
"""

from __future__ import annotations

import math
import tomllib
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from wordfreq import zipf_frequency

from .answers import InputError, csv_rows
from .writers.files import OutputError, atomic_writer
from .rubric import Question, Rubric, RubricError, dump_rubric, rubric_from_dict, rubric_to_dict, step_divides
from .text import NEGATIONS, normalize, quotable, rarest_words, sentence_spans, tokenize

REQUIRED = ("question_id", "prompt", "model_answer")
OPTIONAL = ("max_score", "concepts", "model_answers")
ALTERNATIVES = " || "   # between acceptable answers in the model_answers column
SUGGESTED_TERMS = 5
MAX_DERIVED = 6            # concepts derived per question at most
WORDS_PER_CONCEPT = 4      # ...and about one per this many content words of the longest model answer
SHORT_ANSWER_WORDS = 8     # model answers all this short: no concepts derived (flags/answer.py agrees)


@dataclass
class ImportedRubric:
    rubric: Rubric
    suggestions: dict[str, list[str]] = field(default_factory=dict)   # question id -> key terms

    def toml(self) -> str:
        """The rubric as TOML, with the suggested key terms as comments above each question."""
        return rubric_toml(self.rubric, self.suggestions)


def import_questions(path: str | Path, max_score: float = 5.0, step: float = 0.5, title: str | None = None) -> ImportedRubric:
    """Read a questions CSV and build a validated rubric (raises InputError / RubricError)."""
    path = Path(path)
    rows = _read_rows(path)
    order: list[str] = []
    data: dict[str, dict] = {}
    for line, row in rows:
        qid, prompt, answer = row["question_id"], row["prompt"], row["model_answer"]
        for column, value in (("question_id", qid), ("prompt", prompt), ("model_answer", answer)):
            if not value:
                raise InputError(f"{path}: line {line}: column {column} is empty; fill it in or delete the row")
        q_max = _max_score(row.get("max_score", ""), path, line, step)
        concepts = [normalize(c) for c in row.get("concepts", "").split(";") if normalize(c)]
        if qid not in data:
            order.append(qid)
            data[qid] = {"id": qid, "prompt": prompt, "model_answers": [], "concepts": [], "line": line}
            if q_max is not None:
                data[qid]["max_score"] = q_max
        q = data[qid]
        if prompt != q["prompt"]:
            raise InputError(f"{path}: line {line}: question {qid!r} has a different prompt than on line {q['line']}; "
                             "give each question one prompt (repeat rows only to add model answers)")
        if q_max is not None and q.get("max_score", q_max) != q_max:
            raise InputError(f"{path}: line {line}: question {qid!r} has a different max_score than on line {q['line']}; use one value")
        alternatives = [normalize(a) for a in row.get("model_answers", "").split(ALTERNATIVES.strip())]
        for text in (answer, *alternatives):
            if text and text not in q["model_answers"]:
                q["model_answers"].append(text)
        known = {c["label"].lower() for c in q["concepts"]}
        for phrase in concepts:
            if phrase.lower() not in known:
                known.add(phrase.lower())
                q["concepts"].append({"label": phrase, "weight": 1.0, "aliases": [],
                                      "missing": f"Mention {phrase}."})
    if not order:
        raise InputError(f"{path}: no questions; add one row per question under the header {', '.join(REQUIRED)}")
    questions = []
    document_frequency = _document_frequency([(q["prompt"], *q["model_answers"]) for q in data.values()])
    for qid in order:
        q = {k: v for k, v in data[qid].items() if k != "line"}
        if not q["concepts"]:
            q["concepts"] = derive_concepts(q["prompt"], q["model_answers"], document_frequency)
        if not q["concepts"]:
            del q["concepts"]
        questions.append(q)
    raw = {"title": title or path.stem, "scale": {"max": max_score, "step": step}, "questions": questions}
    rubric = rubric_from_dict(raw, str(path))
    suggestions = {q.id: suggest_key_terms(q, rubric) for q in rubric.questions if not q.concepts}
    return ImportedRubric(rubric, {k: v for k, v in suggestions.items() if v})


def rubric_toml(rubric: Rubric, suggestions: dict[str, list[str]] | None = None, header: str = "") -> str:
    """TOML text for the rubric, validated by parsing it back; suggested key terms as comments."""
    text = dump_rubric(rubric)
    lines = []
    index = 0
    ids = [q.id for q in rubric.questions]
    for line in text.split("\n"):   # not splitlines(): it also splits at U+2028 or U+0085 inside a string
        if line == "[[questions]]" and index < len(ids):
            terms = (suggestions or {}).get(ids[index])
            if terms:
                lines.append(f"# Suggested key terms for {ids[index]} (not used until you add them as "
                             f"[[questions.concepts]]): {', '.join(terms)}")
            index += 1
        lines.append(line)
    text = (header + "\n" if header else "") + "\n".join(lines).rstrip("\n") + "\n"
    check_round_trip(rubric, text)
    return text


def import_rubric_file(questions: str | Path, out: str | Path, max_score: float = 5.0, step: float = 0.5,
                       title: str | None = None) -> ImportedRubric:
    """`grader rubric import`: read the questions CSV, write the rubric TOML to `out`."""
    if Path(questions).resolve() == Path(out).resolve():
        raise InputError(f"{out}: --out is the questions CSV itself; choose another file such as rubric.toml")
    imported = import_questions(questions, max_score=max_score, step=step, title=title)
    write_rubric_text(out, imported.toml())
    return imported


def write_rubric_text(path: str | Path, text: str) -> Path:
    """Write rubric TOML atomically (a half-written rubric never replaces a good one)."""
    path = Path(path)
    if path.is_dir():
        raise OutputError(f"{path}: is a folder; give a file name such as rubric.toml with --out")
    try:
        with atomic_writer(path) as handle:
            handle.write(text)
    except OSError as exc:
        raise OutputError(f"{path}: cannot be written ({exc.strerror}); choose a writable --out") from None
    return path


def check_round_trip(rubric: Rubric, text: str) -> None:
    """Raise RubricError unless `text` loads back to exactly the same rubric."""
    try:
        again = rubric_from_dict(tomllib.loads(text), rubric.source)
    except tomllib.TOMLDecodeError as exc:  # pragma: no cover - tomli_w writes valid TOML
        raise RubricError(rubric.source, "TOML output", f"does not parse back ({exc}); report this as a bug") from None
    if rubric_to_dict(again) != rubric_to_dict(rubric):
        raise RubricError(rubric.source, "TOML output", "does not load back to the same rubric; report this as a bug")


def suggest_key_terms(question: Question, rubric: Rubric, limit: int = SUGGESTED_TERMS) -> list[str]:
    """The model answers' most specific content words that are not the question's own words:
    rarest across the rubric's questions and model answers first (as written, lowercase)."""
    prompt = {t.stem for t in tokenize(question.prompt) if t.is_content}
    document_frequency: Counter[str] = Counter()
    for q in rubric.questions:
        document_frequency.update({t.stem for text in (q.prompt, *q.model_answers) for t in tokenize(text) if t.is_content})
    return [word for _, word in rarest_words(question.model_answers, prompt, document_frequency.__getitem__, limit)]


def _document_frequency(question_texts: list[tuple[str, ...]]) -> Counter[str]:
    """In how many questions (prompt and model answers) each content stem occurs."""
    frequency: Counter[str] = Counter()
    for texts in question_texts:
        frequency.update({t.stem for text in texts for t in tokenize(text) if t.is_content})
    return frequency


_NOT_NEGATED = frozenset({"longer", "matter", "doubt", "only", "just"})   # "no longer" negates nothing


def key_phrases(text: str, prompt_stems: frozenset[str]) -> list[tuple[tuple[str, ...], str, str]]:
    """Candidate concept phrases of a model answer: its content words and pairs of neighbouring
    content words not split by punctuation, a negation before them kept ("no cell wall"); phrases
    made only of the prompt's words are left out. Each as (stems, the phrase as written, its sentence)."""
    phrases = []
    for lo, hi in sentence_spans(text):
        sentence = text[lo:hi]
        tokens = list(tokenize(sentence))
        run: list = []

        def close():
            # Every word and every pair of neighbouring words of the run (with a negation before it).
            content = [t for t in run if t.is_content]
            negation = run[0] if run and not run[0].is_content else None
            for size in (1, 2):
                for i in range(len(content) - size + 1):
                    part = content[i:i + size]
                    stems = tuple(t.stem for t in part)
                    if set(stems) <= prompt_stems or not all(t.word.isalpha() and len(t.word) > 2 for t in part):
                        continue
                    negated = negation is not None and i == 0 and part[0].word not in _NOT_NEGATED
                    if negated:   # the negated and the plain phrase are different concepts
                        stems = ("not", *stems)
                    first = negation if negated else part[0]
                    phrases.append((stems, sentence[first.start:part[-1].end], sentence.strip()))
            run.clear()

        previous = None
        for token in tokens:
            gap = sentence[previous.end:token.start] if previous else ""
            if previous is not None and any(c in gap for c in ",;:()[]\"/") :
                close()
            if token.is_content:
                if not run and previous is not None and previous.word in NEGATIONS and not any(c in gap for c in ",;:"):
                    run.append(previous)   # "no cell wall": the negation is part of the concept
                run.append(token)
            else:
                close()
            previous = token
        close()
    return phrases


def derive_concepts(prompt: str, model_answers: list[str], document_frequency: Counter[str]) -> list[dict]:
    """Concepts for a question that has none, from its model answers (see the module docstring)."""
    if max(len(text.split()) for text in model_answers) <= SHORT_ANSWER_WORDS:
        return []
    prompt_stems = frozenset(t.stem for t in tokenize(prompt) if t.is_content)
    n_questions = max(document_frequency.values(), default=1)
    forms: dict[tuple[str, ...], list[str]] = {}
    sentences: dict[tuple[str, ...], str] = {}
    said_by: Counter[tuple[str, ...]] = Counter()
    occurrences: Counter[tuple[str, ...]] = Counter()
    position: dict[tuple[str, ...], int] = {}   # the first answer states its main point first
    for text in model_answers:
        seen = set()
        for stems, written, sentence in key_phrases(text, prompt_stems):
            occurrences[stems] += 1
            position.setdefault(stems, len(position))
            forms.setdefault(stems, [])
            if written.lower() not in (f.lower() for f in forms[stems]):
                forms[stems].append(written)
            sentences.setdefault(stems, sentence)
            seen.add(stems)
        said_by.update(seen)
    if not forms:
        return []

    def rarity(stems: tuple[str, ...]) -> float:
        """How specific its words beyond the question's are: rare in English (wordfreq's Zipf scale:
        "good" 6.1, "pressure" 5.0, "osmosis" 2.8) and rare among the rubric's questions."""
        own = [t for t in tokenize(forms[stems][0]) if t.is_content and t.stem not in prompt_stems]
        if not own:
            return 0.0
        specific = sum(max(0.5, 8.0 - zipf_frequency(t.word, "en")) for t in own) / len(own)
        spread = sum(math.log(1 + n_questions / max(1, document_frequency[t.stem])) for t in own) / len(own)
        return specific * (1 + 0.3 * spread)

    # Central: rare across the rubric, said by several model answers, a pair said more than once.
    centrality = {stems: rarity(stems) * (1 + (said_by[stems] - 1) / len(model_answers))
                  * (1.25 if len(stems) > 1 and occurrences[stems] > 1 else 1.0 if len(stems) == 1 else 0.8)
                  / (1 + 0.01 * position[stems]) for stems in forms}
    longest = max(sum(1 for t in tokenize(text) if t.is_content) for text in model_answers)
    limit = max(2, min(MAX_DERIVED, round(longest / WORDS_PER_CONCEPT)))
    chosen: list[tuple[str, ...]] = []
    for stems in sorted(forms, key=lambda s: (-centrality[s], s)):
        if any(set(stems) & set(other) - {"not"} for other in chosen):
            continue   # shares a word with a phrase chosen before
        chosen.append(stems)
        if len(chosen) == limit:
            break
    top = max(centrality[s] for s in chosen) or 1.0
    concepts, labels = [], set()
    for stems in chosen:
        label = forms[stems][0].lower() if not forms[stems][0].isupper() else forms[stems][0]
        if label.lower() in labels:
            continue
        labels.add(label.lower())
        concepts.append({"label": label, "weight": round(max(0.5, 2 * centrality[stems] / top), 1),
                         "aliases": [f for f in forms[stems][1:] if f.lower() != label.lower()],
                         "missing": f'Not covered: {label} (the model answer: "{_around(sentences[stems], forms[stems][0])}").'})
    return concepts


def _around(sentence: str, phrase: str, words: int = 6) -> str:
    """The words of a sentence around a phrase it contains, with "..." where it is cut."""
    at = max(0, sentence.find(phrase))
    before, rest = sentence[:at].split(), sentence[at:].rstrip(".!?;: ").split()
    keep = len(phrase.split()) + words
    text = " ".join([*before[-words:], *rest[:keep]])
    return quotable(("..." if len(before) > words else "") + text + ("..." if len(rest) > keep else ""), 120)


def _read_rows(path: Path) -> list[tuple[int, dict[str, str]]]:
    return [(line, {c: normalize(v) for c, v in row.items()})
            for line, row in csv_rows(path, REQUIRED, OPTIONAL, what="questions")]


def _max_score(value: str, path: Path, line: int, step: float) -> float | None:
    if not value:
        return None
    try:
        number = float(value)
    except ValueError:
        number = math.nan
    if not math.isfinite(number) or number <= 0:
        raise InputError(f"{path}: line {line}: column max_score is {value!r}; give a positive number such as 5 or leave it empty")
    if not step_divides(number, step):
        raise InputError(f"{path}: line {line}: column max_score {value} is not a multiple of the step {step:g}; "
                         "use a multiple of the step or change --step")
    return number

