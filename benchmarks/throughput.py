"""Throughput of `grader grade` on large synthetic classes, next to the floor of the same job.

For each size N it writes N synthetic answers (N/3 students s000001..., each answering q1-q3 of the
bundled Stakhanovism rubric) to a CSV in a temporary folder, then times, as subprocesses under
`/usr/bin/time -v` (for the peak resident memory):

- grader: `grader grade CSV --out DIR` end to end, with every output `grade` writes by default;
- floor:  the unavoidable work only: read the CSV with the csv module, fit one scikit-learn
  TfidfVectorizer on the answers plus the rubric's model answers, take each answer's cosine to its
  question's model answers (the best one), write a CSV of scores.

Each measurement is repeated (--repeats, interleaved grader/floor) and the MEDIANS are reported:
answers/s, seconds, grader/floor time ratio, peak RSS, and the largest/smallest size time ratio.
It also times `grader --help` (median of 5). The Markdown table is printed and written to
benchmarks/results/throughput.md.

    python benchmarks/throughput.py --sizes 10000 100000 --repeats 3
    python benchmarks/throughput.py --sizes 10000 --repeats 1 --profile   # + cProfile of one run

Targets (issue "Throughput: grade 100,000 answers in well under a minute"): >= 2,000 answers/s at
the largest size with all default outputs; <= 6x the floor; largest takes <= 12x the time of a
10x smaller size (i.e. close to linear); peak memory <= 2 GiB; `grader --help` < 0.5 s.

The synthetic answers are recombined from a pool of templated sentences (with alternatives in
every slot, so few answers are identical): on-topic fragments for each question, fragments that
belong to another question, filler, off-topic sentences, misspellings, keyword lists, restated
questions, blanks, a little gibberish and non-English, and near-duplicates of other students'
answers. The seed makes a given size reproducible.
"""

from __future__ import annotations

import argparse
import csv
import os
import platform
import pstats
import random
import re
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RESULTS = HERE / "results"
TIME_BIN = "/usr/bin/time"
QUESTIONS = ("q1", "q2", "q3")

TARGET_RATE = 2000          # answers/s at the largest size, all default outputs
TARGET_FLOOR_RATIO = 6.0    # grader time / floor time
TARGET_SCALING = 12.0       # time(largest) / time(10x smaller)
TARGET_RSS_MIB = 2048       # peak resident memory
TARGET_HELP_S = 0.5         # `grader --help`

# ---------------------------------------------------------------------------------------------
# Synthetic answers
# ---------------------------------------------------------------------------------------------
# A fragment is a template: "{a|b|c}" picks one alternative, nesting allowed. Each question has
# on-topic fragments grouped by the rubric concept they touch, so answers cover a varying subset.

ON_TOPIC = {
    "q1": [
        # Five-Year Plans
        "{Stalin's|The|The first and second} {Five-Year Plans|five year plans|5 year plans|FYPs} {aimed at|were about|wanted} "
        "{rapid industrialization|industrializing the country fast|heavy industry and more output|catching up with the West}.",
        "The {plans|Five-Year Plans|central planners at Gosplan} set {huge|very high|unrealistic|ever rising} "
        "{production quotas|targets|output targets|norms} for every {factory|mine|worker|industry}.",
        "{Under|During} the {planned economy|Five-Year Plans} the {state|government|party} {needed|demanded|wanted} "
        "{more coal and steel|higher output|more production|every worker to produce more}.",
        # Stakhanov's record
        "In {1935|August 1935|1935, in the Donbas,} {Alexei|Aleksei|} Stakhanov {mined|cut|dug|produced} "
        "{102 tons|102 tonnes|more than 100 tons|about a hundred tons} of coal in {one shift|a single shift|under six hours}.",
        "{His|Stakhanov's|This} record was {fourteen times|14 times|many times|far above} {the norm|his quota|the normal amount}.",
        "Stakhanov was a {coal miner|miner|worker in a coal mine} who {broke the record|set a record|became famous} "
        "{for his output|in 1935|overnight}.",
        # productivity
        "{Stakhanovism|The movement|The Stakhanovite movement} was {meant|supposed|used} to {raise|increase|boost} "
        "{labour productivity|labor productivity|productivity|output per worker}.",
        "Workers were {told|pushed|encouraged|expected} to {work harder|produce more|be more efficient} and "
        "{exceed|overfulfil|overfulfill|beat} their {norms|quotas|targets}.",
        # competition
        "{It|The movement|Stakhanovism} {created|encouraged|fostered} {socialist competition|competition|rivalry} "
        "{between workers|among workers|between brigades and factories}.",
        "{Shock workers|Udarniks|Stakhanovites} {tried to outdo|competed with|raced against} {each other|one another|other brigades}.",
        # rewards
        "Record breakers {got|received|were given} {bonuses|higher wages|better housing|medals and titles|privileges}"
        "{| as a reward| as incentives| from the state}.",
        # model worker
        "{The party|Propaganda|The government|Pravda} {held him up|used Stakhanov|presented him} as "
        "{a role model|a hero|an example for all workers|a model worker} {to copy|to imitate|to emulate|}.",
        "{So|Therefore|This shows that} Stakhanovism {reflected|fitted|matched|was a tool of} the {goals|aims|demands} "
        "of the {Five-Year Plans|plans|planned economy}.",
    ],
    "q2": [
        # propaganda
        "{Newspapers|Posters|Films and posters|The press} {glorified|celebrated|praised} {Stakhanovites|record breakers|model workers}.",
        "{Stakhanovism|The movement} was {a big part of|central to|used in} {Soviet propaganda|propaganda|the regime's propaganda} "
        "{to show that socialism was superior|about the success of socialism|in the 1930s}.",
        "Stalin said that \"life has become {better|more joyous|better, comrades}\"{| at the Stakhanovite conference}.",
        # heroes
        "{Workers|Ordinary workers|Labourers} were {portrayed|shown|presented} as {heroes|heroic|heroes of labour} "
        "{in the media|in posters|by the state}.",
        # New Soviet Man
        "{Stakhanov|The Stakhanovite} became {a symbol of|the image of} the {New Soviet Man|new Soviet person|ideal socialist worker}.",
        # privileges
        "Stakhanovites {got|enjoyed|received} {privileges|higher pay|flats|cars|seats in public office} "
        "{and became a new elite|which others did not get|as a reward}.",
        # pressure and punishment
        "{Norms|Quotas|Targets} were {raised|increased|pushed up} for {everyone|all workers|the whole factory}"
        "{| after every record| because of the records}.",
        "Workers who {could not keep up|failed to meet the norms|complained} {faced pressure|were punished|were called saboteurs|"
        "were accused of wrecking}.",
        # resentment
        "{Many|Some|Ordinary} workers {resented|hated|were angry at} the Stakhanovites"
        "{| and sometimes attacked them| because their norms went up}.",
        "There was {a lot of|much|growing} {resentment|anger|tension} {among workers|on the shop floor|between workers and Stakhanovites}.",
        # image vs reality
        "{But|However|In reality,} the {image|propaganda|official picture} {hid|covered up|did not show} "
        "{a harsher reality|the real conditions|how hard life was}.",
        "Productivity {rose|grew|increased} {much less|less|far less} than {the propaganda claimed|was claimed|the state said}.",
        "{Overall|In conclusion|So}, Stakhanovism {changed|shaped|distorted} how labour was {portrayed|shown|seen} in Soviet society.",
    ],
    "q3": [
        # culture of pressure
        "{In the long term|Later on|Over time} Stakhanovism {left|created|caused} a culture of "
        "{constant pressure|pressure to overperform|always producing more}.",
        # burnout
        "{Many|Some|Lots of} workers {suffered burnout|burned out|were exhausted|got injured} {from the pace|from overwork|}.",
        # disillusionment
        "Workers became {disillusioned|discontented|cynical} when {the rewards did not come|promises were broken|norms kept rising}.",
        # unrealistic targets
        "{Because|Since} norms {kept being raised|went up} after every record, targets became {unrealistic|impossible|too high}.",
        "Managers {sometimes|often} {staged|faked|organised} records {to look good|to please the party|for propaganda}.",
        # inefficiency
        "{Quantity|Output} mattered more than {quality|safety|maintenance}, so {machines broke down|a lot was wasted|goods were poor}.",
        "{This|The system} made the {economy|Soviet economy|planned economy} {inefficient|wasteful|slow to innovate}.",
        # campaigns
        "Later {economic policies|leaders|plans} still {relied on|used} {socialist competition|campaigns|shock work} "
        "instead of {real incentives|market incentives|better technology}.",
        # economic problems
        "{This|It} {helped cause|led to|contributed to} {low productivity|stagnation|shortages} in the {planned economy|USSR|Soviet Union}"
        "{| in the 1970s| under Brezhnev}.",
        # reforms
        "{These problems|This} {pushed|led} {leaders like Kosygin|Khrushchev and Kosygin|later Gorbachev|reformers} "
        "{towards reforms|to try reforms|to perestroika}.",
        "{The|Its} {implications|effects} for {future economic policies|later policy|the economy} were {mostly negative|serious|long lasting}.",
    ],
}

FILLER = [
    "{I think|In my opinion|I believe} this {is|was} {a very important|an interesting|a hard} {question|topic}.",
    "{There are|There were} {many|several|a lot of} {reasons|effects|factors} {for this|to consider}.",
    "{In conclusion|To conclude|Overall}, it {was important|had many effects|mattered a lot}.",
    "{As we|Like we} {learned|discussed|read} in {class|the lecture|the textbook}{|, chapter 12}.",
    "{This|It} {is|was} {a complicated|a complex|an important} {part of history|issue|period}.",
    "{Historians|Some people|Many historians} {disagree|have different views} about this.",
]

OFF_TOPIC = [
    "The French Revolution {began|started} in 1789 {with the storming of the Bastille|because of debt}.",
    "Photosynthesis {turns|converts} {light|sunlight} into {sugar|chemical energy}.",
    "{My|Our} {dog|cat} {ate|chewed} my {homework|notes} {yesterday|last night}.",
    "The {Roman Empire|British Empire} {fell|declined} for many reasons.",
    "{World War One|The First World War} started in 1914.",
    "{I did not|I didn't} {have time to study|read the chapter|understand the question}.",
]

KEYWORDS = {
    "q1": ["five year plan", "quotas", "Stakhanov", "102 tons", "productivity", "industrialization", "competition",
           "norms", "bonuses", "role model", "coal", "Gosplan", "efficiency", "targets"],
    "q2": ["propaganda", "heroes", "New Soviet Man", "privileges", "resentment", "pressure", "posters", "elite",
           "saboteurs", "image vs reality", "Pravda", "higher pay"],
    "q3": ["burnout", "pressure", "unrealistic targets", "inefficiency", "quantity over quality", "stagnation",
           "reforms", "Gorbachev", "Kosygin", "campaigns", "disillusionment", "shortages"],
}

PROMPTS = {
    "q1": "How did Stakhanovism reflect the goals of Stalin's Five-Year Plans in terms of labor productivity?",
    "q2": "Evaluate the impact of Stakhanovism on Soviet society and its portrayal of labor during the 1930s.",
    "q3": "Analyze the long-term effects of Stakhanovism on labor practices in the Soviet Union and its "
          "implications for future economic policies.",
}

NON_ENGLISH = [
    "Стахановское движение было связано с пятилетними планами и ростом производительности труда.",
    "El estajanovismo buscaba aumentar la productividad de los trabajadores soviéticos.",
    "Der Stachanowismus sollte die Arbeitsproduktivität in der Sowjetunion erhöhen.",
]

MISSPELLINGS = {
    "Stakhanov": ["Stakanov", "Stackhanov", "Stakhonov"], "propaganda": ["propoganda", "propeganda"],
    "government": ["goverment", "govermnent"], "industrialization": ["industrilization", "industrializaton"],
    "productivity": ["productivty", "prodcutivity"], "resentment": ["resentmant", "resentement"],
    "quotas": ["qoutas", "quottas"], "Soviet": ["Soveit", "Sovet"], "workers": ["wokers", "workres"],
    "competition": ["competiton", "compitition"], "privileges": ["priviliges", "privleges"],
    "disillusioned": ["dissillusioned", "disilusioned"], "efficient": ["eficient", "effecient"],
}

OPENERS = ["", "", "", "", "Also, ", "Furthermore, ", "Moreover, ", "In addition, ", "Secondly, ", "For example, ", "Basically "]
LENGTH_WEIGHTS = {1: 6, 2: 12, 3: 18, 4: 20, 5: 17, 6: 12, 7: 8, 8: 7}   # sentences per answer

_SLOT = re.compile(r"\{([^{}]*)\}")


def expand(template: str, rng: random.Random) -> str:
    """Fill every {a|b|c} slot with one alternative (innermost first)."""
    while True:
        template, n = _SLOT.subn(lambda m: rng.choice(m.group(1).split("|")), template)
        if not n:
            return re.sub(r"\s+([.,])", r"\1", re.sub(r" {2,}", " ", template)).strip()


def misspell(text: str, rng: random.Random, rate: float) -> str:
    """Common misspellings of topic words and random typos (swap, drop or double a letter)."""
    words = text.split(" ")
    for i, word in enumerate(words):
        if rng.random() >= rate:
            continue
        core = word.strip(".,;:\"'")
        if core in MISSPELLINGS:
            words[i] = word.replace(core, rng.choice(MISSPELLINGS[core]))
        elif len(core) > 3 and core.isalpha():
            k = rng.randrange(1, len(core) - 1)
            kind = rng.random()
            typo = (core[:k] + core[k + 1] + core[k] + core[k + 2:] if kind < 0.4 else
                    core[:k] + core[k + 1:] if kind < 0.7 else core[:k] + core[k] + core[k:])
            words[i] = word.replace(core, typo)
    return " ".join(words)


def sentence_for(qid: str, kind: str, rng: random.Random) -> str:
    if kind == "on":
        text = expand(rng.choice(ON_TOPIC[qid]), rng)
    elif kind == "other":
        text = expand(rng.choice(ON_TOPIC[rng.choice([q for q in QUESTIONS if q != qid])]), rng)
    elif kind == "filler":
        text = expand(rng.choice(FILLER), rng)
    else:
        text = expand(rng.choice(OFF_TOPIC), rng)
    if text.startswith(("So", "Overall", "In conclusion", "To conclude", "But", "However", "In reality", "Therefore",
                        "This shows", "Later", "In the long term", "Over time")):
        return text                                     # already opens with a connective
    opener = rng.choice(OPENERS)
    keep_case = text.startswith(("Stakhanov", "Stalin", "I ", "Pravda", "Alexei", "Aleksei", "Soviet", "Gosplan"))
    return opener + (text[0].lower() + text[1:] if opener and not keep_case else text)


def synthetic_answer(qid: str, rng: random.Random, previous: list[str]) -> str:
    """One answer to question `qid`; `previous` holds earlier answers to it (for near-duplicates)."""
    roll = rng.random()
    if roll < 0.012:                                    # blank
        return rng.choice(["", " ", "\n", "-", "n/a"])
    if roll < 0.047:                                    # keyword list
        words = rng.sample(KEYWORDS[qid], rng.randint(4, 9))
        return rng.choice([", ", "; ", "\n", " "]).join(words)
    if roll < 0.057:                                    # restates the question
        return PROMPTS[qid] + rng.choice(["", " " + expand(rng.choice(FILLER), rng)])
    if roll < 0.061:                                    # gibberish
        return " ".join("".join(rng.choice("asdfghjklqwertzuiopyxcvbnm") for _ in range(rng.randint(2, 9)))
                        for _ in range(rng.randint(3, 25)))
    if roll < 0.064:                                    # not English
        return rng.choice(NON_ENGLISH)
    if roll < 0.094 and previous:                       # near-duplicate of another student's answer
        source = rng.choice(previous[-2000:])
        sentences = re.split(r"(?<=[.!?])\s+", source)
        if len(sentences) > 2 and rng.random() < 0.5:
            sentences.pop(rng.randrange(len(sentences)))
        copy = " ".join(sentences)
        copy = misspell(copy, rng, 0.03) if rng.random() < 0.7 else copy
        return copy + ("" if rng.random() < 0.6 else " " + expand(rng.choice(FILLER), rng))
    # Ordinary answer: a student "quality" decides the mix of sentence kinds.
    quality = rng.random()
    weights = {"on": 1 + 8 * quality, "other": 1.5, "filler": 2.5 - 2 * quality, "off": 0.6 - 0.5 * quality}
    if roll > 0.98:                                     # the occasional fully off-topic answer
        weights = {"on": 0, "other": 0, "filler": 1, "off": 4}
    length = rng.choices(list(LENGTH_WEIGHTS), weights=list(LENGTH_WEIGHTS.values()))[0]
    kinds = rng.choices(list(weights), weights=list(weights.values()), k=length)
    sentences = [sentence_for(qid, kind, rng) for kind in kinds]
    text = " ".join(sentences) if rng.random() < 0.85 else "\n".join(sentences)   # some span lines
    if rng.random() < 0.3:
        text = misspell(text, rng, rng.choice([0.02, 0.05, 0.1]))
    if rng.random() < 0.05:
        text = text.lower()
    return text


def write_synthetic_csv(path: Path, n: int, seed: int) -> dict[str, int]:
    """N answers, students s000001... answering q1, q2, q3 in turn. Returns simple statistics."""
    rng = random.Random(f"{seed}:{n}")
    previous: dict[str, list[str]] = {q: [] for q in QUESTIONS}
    words = chars = 0
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["student_id", "question_id", "answer"])
        for i in range(n):
            qid = QUESTIONS[i % 3]
            text = synthetic_answer(qid, rng, previous[qid])
            if len(text.split()) >= 5:
                previous[qid].append(text)
                if len(previous[qid]) > 4000:
                    del previous[qid][:2000]
            words += len(text.split())
            chars += len(text)
            writer.writerow([f"s{i // 3 + 1:06d}", qid, text])
    return {"answers": n, "students": (n + 2) // 3, "mean_words": round(words / max(n, 1), 1),
            "bytes": path.stat().st_size, "chars": chars}


# ---------------------------------------------------------------------------------------------
# The floor: only the unavoidable work
# ---------------------------------------------------------------------------------------------

FLOOR_SCRIPT = '''\
"""Floor: read the CSV, fit one TF-IDF on answers + model answers, cosine to the question's model answers, write scores."""
import csv
import sys

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer

from grader.rubric import load_rubric

src, dst = sys.argv[1], sys.argv[2]
rubric = load_rubric()
with open(src, encoding="utf-8", newline="") as handle:
    reader = csv.reader(handle)
    next(reader)
    rows = [(r[0], r[1], r[2]) for r in reader]
models, model_question = [], []
for q in rubric.questions:
    for text in q.model_answers:
        models.append(text)
        model_question.append(q.id)
vectorizer = TfidfVectorizer().fit([r[2] for r in rows] + models)
X = vectorizer.transform([r[2] for r in rows])           # rows are L2-normalized: dot = cosine
M = vectorizer.transform(models)
sims = (X @ M.T).toarray()                                # answers x model answers
question_of_model = np.array(model_question)
answer_question = np.array([r[1] for r in rows])
mask = answer_question[:, None] == question_of_model[None, :]
best = np.where(mask, sims, -1.0).max(axis=1)
with open(dst, "w", encoding="utf-8", newline="") as handle:
    writer = csv.writer(handle)
    writer.writerow(["student_id", "question_id", "score"])
    for (sid, qid, _), value in zip(rows, best):
        writer.writerow([sid, qid, "" if value < 0 else f"{value:.4f}"])
'''


# ---------------------------------------------------------------------------------------------
# Measuring
# ---------------------------------------------------------------------------------------------

@dataclass
class Run:
    seconds: float
    rss_mib: float | None
    failure: str = ""           # why the run did not finish: timed out, out of memory, exit status


@dataclass
class Series:
    runs: list[Run] = field(default_factory=list)

    @property
    def ok(self) -> list[Run]:
        return [r for r in self.runs if not r.failure]

    @property
    def failure(self) -> str:
        return next((r.failure for r in self.runs if r.failure), "")

    def median_seconds(self) -> float | None:
        return statistics.median(r.seconds for r in self.ok) if self.ok else None

    def median_rss(self) -> float | None:
        values = [r.rss_mib for r in self.ok if r.rss_mib is not None]
        return statistics.median(values) if values else None


def grader_command() -> list[str]:
    script = Path(sys.executable).parent / "grader"
    return [str(script)] if script.exists() else [sys.executable, "-m", "grader"]


def ensure_time_binary() -> None:
    if Path(TIME_BIN).exists():
        return
    sys.exit(f"{TIME_BIN} is missing: install GNU time (Debian: apt-get update -qq && apt-get install -y -qq time)")


def measure(cmd: list[str], log: Path, timeout: float, memory_limit_gib: float) -> Run:
    """Run `cmd` under /usr/bin/time -v; wall time from here, peak RSS from time's report.

    The child gets an address-space limit (RLIMIT_AS), so a run that would need far more memory
    than the target fails with MemoryError instead of pushing a shared machine into the OOM killer."""
    report = log.with_suffix(".time")
    limit = int(memory_limit_gib * 2**30)

    def limit_memory() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    failure = ""
    # The previous run's outputs (hundreds of MiB, 33,000 files) still being written back to disk
    # would slow this run's file creation by seconds: each run starts with nothing pending.
    os.sync()
    with log.open("w") as out:
        start = time.perf_counter()
        proc = subprocess.Popen([TIME_BIN, "-v", "-o", str(report), *cmd], stdout=out, stderr=subprocess.STDOUT,
                                cwd=ROOT, start_new_session=True, preexec_fn=limit_memory if limit > 0 else None)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)          # the group we just started, nothing else
            proc.wait()
            failure = f"stopped after {timeout:.0f} s"
        seconds = time.perf_counter() - start
    text = log.read_text(errors="replace")
    if not failure and proc.returncode != 0:
        if "MemoryError" in text or "bad_alloc" in text or "Unable to allocate" in text:
            failure = f"out of memory (over the {memory_limit_gib:g} GiB address-space limit) after {seconds:.0f} s"
        else:
            failure = f"exit status {proc.returncode} after {seconds:.0f} s"
    if failure:
        print(f"{' '.join(cmd)}: {failure}; last lines of its output:\n{text[-1500:]}", file=sys.stderr)
    match = re.search(r"Maximum resident set size \(kbytes\): (\d+)", report.read_text()) if report.exists() else None
    return Run(seconds, int(match.group(1)) / 1024 if match else None, failure)


def check_outputs(out: Path, n: int) -> list[str]:
    """Sanity check (one row per answer in grades.csv) and the list of outputs written."""
    with (out / "grades.csv").open(encoding="utf-8", newline="") as handle:
        rows = sum(1 for _ in csv.reader(handle)) - 1
    if rows != n:
        sys.exit(f"{out / 'grades.csv'} has {rows} rows for {n} answers")
    listing = []
    for path in sorted(out.iterdir()):
        if path.name.startswith("."):
            continue
        if path.is_dir():
            files = [p for p in path.rglob("*") if p.is_file()]
            size = sum(p.stat().st_size for p in files)
            listing.append(f"{path.name}/ ({len(files):,} files, {size / 2**20:.1f} MiB)")
        else:
            listing.append(f"{path.name} ({path.stat().st_size / 2**20:.1f} MiB)")
    return listing


def time_help(runs: int = 5) -> float:
    cmd = [*grader_command(), "--help"]
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True, cwd=ROOT)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def profile(csv_path: Path, work: Path, prof: Path, top: int = 15) -> str:
    """cProfile one grader run; the top functions by cumulative and by own time, as Markdown."""
    out = work / "profile-out"
    cmd = [sys.executable, "-m", "cProfile", "-o", str(prof), "-m", "grader", "grade", str(csv_path),
           "--out", str(out), "--quiet"]
    subprocess.run(cmd, check=True, cwd=ROOT)
    stats = pstats.Stats(str(prof))
    total = max(entry[3] for entry in stats.stats.values())   # the outermost frame's cumulative time
    lines = [f"cProfile of one grader run ({csv_path.name}): {total:.1f} s under the profiler "
             "(profiling slows pure-Python code more than C code).", ""]

    def name(key) -> str:
        path, line, func = key
        if path == "~":
            return func
        path = path.replace(str(ROOT) + os.sep, "")
        path = re.sub(r".*site-packages/", "", path)
        path = re.sub(r".*/lib/python3\.\d+/", "", path)
        return f"{path}:{line}({func})"

    # cProfile's cumulative time counts a recursive function once, so this is all importing.
    imports = max((v[3] for k, v in stats.stats.items() if k[2] == "_find_and_load"), default=0.0)
    lines += [f"Importing modules (importlib `_find_and_load`, cumulative): {imports:.2f} s ({100 * imports / total:.0f}%).", ""]

    def plumbing(key) -> bool:   # frames that only pass control down: runpy, exec, click, importlib
        path, _, func = key
        return (path.startswith("<frozen") or func in ("<built-in method builtins.exec>", "<module>")
                or "/click/" in path or func == "wrapper")

    for title, column in (("cumulative", 3), ("own (tottime)", 2)):
        lines += [f"Top {top} by {title} time" + (" (runpy/click/import plumbing left out)" if column == 3 else "") + ":",
                  "", "| # | function | calls | own s | cumulative s | % of run |", "|---|---|---:|---:|---:|---:|"]
        ranked = sorted(((k, v) for k, v in stats.stats.items() if column == 2 or not plumbing(k)),
                        key=lambda kv: kv[1][column], reverse=True)[:top]
        for i, (key, (cc, nc, tt, ct, _)) in enumerate(ranked, 1):
            lines.append(f"| {i} | `{name(key)}` | {nc:,} | {tt:.2f} | {ct:.2f} | {100 * (ct if column == 3 else tt) / total:.1f}% |")
        lines.append("")
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------------------------

def fmt(value: float | None, spec: str) -> str:
    return "-" if value is None else format(value, spec)


def verdict(ok: bool | None) -> str:
    return "n/a" if ok is None else ("met" if ok else "**missed**")


def build_report(args, sizes, results, stats_by_size, outputs, help_s, profile_text, load) -> str:
    import numpy
    import sklearn

    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                                text=True).stdout.strip() or "?"
        dirty = bool(subprocess.run(["git", "status", "--porcelain", "--", "grader", "pyproject.toml"], cwd=ROOT,
                                    capture_output=True, text=True).stdout.strip())
    except OSError:
        commit, dirty = "?", False
    options = [f"--sizes {' '.join(map(str, sizes))}", f"--repeats {args.repeats}"]
    options += [] if args.seed == 1935 else [f"--seed {args.seed}"]
    options += [] if args.memory_limit == 8.0 else [f"--memory-limit {args.memory_limit:g}"]
    options += [] if args.timeout == 480.0 else [f"--timeout {args.timeout:g}"]
    options += ["--profile"] if args.profile else []
    lines = [
        "# Throughput benchmark",
        "",
        f"`python benchmarks/throughput.py {' '.join(options)}`",
        "",
        f"{datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC; commit {commit}{' + uncommitted changes in grader/' if dirty else ''}; "
        f"Python {platform.python_version()}, scikit-learn {sklearn.__version__}, numpy {numpy.__version__}; "
        f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPUs, load average {load[0]:.1f} at the start and "
        f"{load[1]:.1f} at the end. Medians of {args.repeats} runs each (grader and floor interleaved); seconds are the "
        "wall time of the whole subprocess (interpreter start, imports, reading, grading, writing every default "
        "output); peak RSS is GNU time's \"Maximum resident set size\". Each run may use at most "
        f"{args.memory_limit:g} GiB of address space and {args.timeout:.0f} s.",
        "",
        "| answers | run | answers/s | seconds | grader/floor | peak RSS (MiB) |",
        "|---:|---|---:|---:|---:|---:|",
    ]
    for n in sizes:
        g, f = results[n]["grader"], results[n]["floor"]
        gs, fs = g.median_seconds(), f.median_seconds()
        if gs is None:      # every grader run at this size failed (the first failure stops the size)
            rss = g.runs[0].rss_mib
            lines.append(f"| {n:,} | grader | - | did not finish: {g.failure} | - | "
                         f"{'-' if rss is None else f'>= {rss:,.0f}'} |")
        else:
            lines.append(f"| {n:,} | grader | {n / gs:,.0f} | {gs:.2f} | {gs / fs:.2f}x | {fmt(g.median_rss(), ',.0f')} |")
        lines.append(f"| {n:,} | floor | {fmt(n / fs if fs else None, ',.0f')} | {fmt(fs, '.2f')} | 1.00x | "
                     f"{fmt(f.median_rss(), ',.0f')} |")
    big, small = max(sizes), min(sizes)
    grader_big = results[big]["grader"]
    big_s, small_s = grader_big.median_seconds(), results[small]["grader"].median_seconds()
    floor_big, floor_small = results[big]["floor"].median_seconds(), results[small]["floor"].median_seconds()
    scaling = big_s / small_s if big_s and small_s and big != small else None
    lines.append("")
    if big != small:
        lines.append(f"Time ratio {big:,} / {small:,} answers ({big / small:g}x the answers): grader "
                     f"{fmt(scaling, '.2f')}x, floor {fmt(floor_big / floor_small if floor_big and floor_small else None, '.2f')}x.")
    lines += [f"`grader --help`: {help_s:.3f} s (median of 5 runs).", ""]

    unfinished = "did not finish"
    rate = big / big_s if big_s else None
    ratio = big_s / floor_big if big_s and floor_big else None
    rows = [(f">= {TARGET_RATE:,} answers/s at {big:,}, all default outputs",
             unfinished if rate is None else f"{rate:,.0f}", False if rate is None else rate >= TARGET_RATE),
            (f"<= {TARGET_FLOOR_RATIO:g}x the floor at {big:,}",
             unfinished if ratio is None else f"{ratio:.2f}x", False if ratio is None else ratio <= TARGET_FLOOR_RATIO)]
    if big == 10 * small:
        rows.append((f"{big:,} takes <= {TARGET_SCALING:g}x the time of {small:,}",
                     unfinished if scaling is None else f"{scaling:.2f}x", False if scaling is None else scaling <= TARGET_SCALING))
    peaks = [results[n]["grader"].median_rss() for n in sizes if results[n]["grader"].ok]
    peak = max([p for p in peaks if p is not None], default=None)
    if grader_big.failure and not grader_big.ok:
        seen = grader_big.runs[0].rss_mib
        out_of_memory = grader_big.failure.startswith("out of memory")
        rows.append((f"peak memory <= {TARGET_RSS_MIB / 1024:g} GiB",
                     f"> {args.memory_limit:g} GiB (address space)" if out_of_memory else ("-" if seen is None else f">= {seen:,.0f} MiB"),
                     False if out_of_memory or (seen or 0) > TARGET_RSS_MIB else None))
    else:
        rows.append((f"peak memory <= {TARGET_RSS_MIB / 1024:g} GiB", f"{fmt(peak, ',.0f')} MiB",
                     None if peak is None else peak <= TARGET_RSS_MIB))
    rows.append((f"`grader --help` < {TARGET_HELP_S:g} s", f"{help_s:.3f} s", help_s < TARGET_HELP_S))
    lines += ["| target | measured | |", "|---|---:|---|"]
    lines += [f"| {target} | {measured} | {verdict(ok)} |" for target, measured, ok in rows]
    lines += [
        "",
        "Inputs (synthetic, seeded): " + "; ".join(
            f"{n:,} answers = {s['students']:,} students x 3 questions, {s['mean_words']} words per answer on average, "
            f"{s['bytes'] / 2**20:.1f} MiB CSV" for n, s in stats_by_size.items()) + ".",
        "",
    ]
    for n in sizes:
        if outputs.get(n):
            lines.append(f"Default outputs of `grader grade` at {n:,}: " + ", ".join(outputs[n]) + ".")
    lines.append("")
    if profile_text:
        lines += ["## Profile", "", profile_text]
    return "\n".join(lines).rstrip() + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10000, 100000], help="numbers of answers")
    parser.add_argument("--repeats", type=int, default=3, help="runs per measurement (medians are reported)")
    parser.add_argument("--seed", type=int, default=1935, help="seed of the synthetic answers")
    parser.add_argument("--timeout", type=float, default=480.0,
                        help="seconds before a grader run is stopped (its size's remaining runs are skipped)")
    parser.add_argument("--memory-limit", type=float, default=8.0,
                        help="address-space limit per run in GiB (0: none); a run over it fails with MemoryError")
    parser.add_argument("--profile", action="store_true", help="also cProfile one grader run at the smallest size")
    parser.add_argument("--profile-out", type=Path, default=Path(tempfile.gettempdir()) / "prof.out",
                        help="where --profile keeps the cProfile data")
    parser.add_argument("--out", type=Path, default=RESULTS / "throughput.md", help="Markdown file to write")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (CSV files, outputs, logs)")
    parser.add_argument("--workdir", type=Path, default=None,
                        help="where to make the temporary folder (default: the system's temp folder); file "
                             "creation speed differs a lot between file systems, and grade writes a page per student")
    args = parser.parse_args()
    ensure_time_binary()
    sizes = sorted(set(args.sizes))

    load_start = os.getloadavg()[0]
    if args.workdir is not None:
        args.workdir.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="grader-throughput-", dir=args.workdir))
    try:
        floor_script = work / "floor.py"
        floor_script.write_text(FLOOR_SCRIPT)
        stats_by_size, results, outputs = {}, {}, {}
        for n in sizes:
            csv_path = work / f"answers-{n}.csv"
            stats_by_size[n] = write_synthetic_csv(csv_path, n, args.seed)
            print(f"[{n:,}] wrote {csv_path} ({stats_by_size[n]['bytes'] / 2**20:.1f} MiB)", file=sys.stderr)
            results[n] = {"grader": Series(), "floor": Series()}
            for rep in range(args.repeats):
                # A fresh folder per run, all removed at the end: deleting 33,000 feedback pages
                # just before a run made creating the next run's pages 5-15x slower on this ext4
                # (mounted with discard), which measured the benchmark's own clean-up.
                out = work / f"out-{n}-{rep}"
                run = measure([*grader_command(), "grade", str(csv_path), "--out", str(out)],
                              work / f"grader-{n}-{rep}.log", args.timeout, args.memory_limit)
                results[n]["grader"].runs.append(run)
                print(f"[{n:,}] grader run {rep + 1}: " + (f"{run.failure}, peak RSS {fmt(run.rss_mib, ',.0f')} MiB"
                      if run.failure else f"{run.seconds:.2f} s, {n / run.seconds:,.0f} answers/s, "
                      f"{run.rss_mib:,.0f} MiB"), file=sys.stderr)
                if not run.failure and n not in outputs:
                    outputs[n] = check_outputs(out, n)
                floor = measure([sys.executable, str(floor_script), str(csv_path), str(work / f"floor-{n}.csv")],
                                work / f"floor-{n}-{rep}.log", args.timeout, args.memory_limit)
                if floor.failure:
                    sys.exit(f"the floor failed at {n:,} answers: {floor.failure}")
                results[n]["floor"].runs.append(floor)
                print(f"[{n:,}] floor  run {rep + 1}: {floor.seconds:.2f} s, {n / floor.seconds:,.0f} answers/s, "
                      f"{floor.rss_mib:,.0f} MiB", file=sys.stderr)
                if run.failure:
                    print(f"[{n:,}] the grader did not finish: skipping its other runs at this size", file=sys.stderr)
                    break
        help_s = time_help()
        profile_text = ""
        if args.profile:
            print(f"[{sizes[0]:,}] profiling one grader run ...", file=sys.stderr)
            profile_text = profile(work / f"answers-{sizes[0]}.csv", work, args.profile_out)
            print(f"Wrote {args.profile_out} (python -m pstats {args.profile_out})", file=sys.stderr)
        report = build_report(args, sizes, results, stats_by_size, outputs, help_s, profile_text,
                              (load_start, os.getloadavg()[0]))
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(report, encoding="utf-8")
        print(report)
        print(f"Wrote {args.out}", file=sys.stderr)
    finally:
        if args.keep:
            print(f"Kept {work}", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
