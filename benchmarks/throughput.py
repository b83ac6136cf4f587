"""Throughput of `grader grade` at several answer lengths and class sizes, next to the floor of the same job.

For each length L (mean words per answer) and size N it writes N synthetic answers (N/3 students
s000001..., each answering q1-q3 of the bundled Stakhanovism rubric) to a CSV in a temporary
folder, then times, as subprocesses under `/usr/bin/time -v`:

- grader: `grader grade CSV --out DIR` end to end, with every output `grade` writes by default;
- floor:  the unavoidable work only: read the CSV with the csv module, fit one scikit-learn
  TfidfVectorizer on the answers plus the rubric's model answers, take each answer's cosine to its
  question's model answers (the best one), write a CSV of scores.

Each measurement is repeated (--repeats, grader and floor interleaved) and the MEDIANS are
reported, per length and size: seconds, answers/s, words/s, the grader/floor time ratio, the peak
memory of the largest process (GNU time) and the peak memory summed over the process tree (the
grader forks workers: PSS and RSS of the process and its descendants, sampled every 50 ms from
/proc/<pid>/smaps_rollup), and the largest/smallest size time ratio (growth). It also times
`grader --help` and a class of 30 students x 3 questions graded end to end (medians of 5), and
summarises `python -X importtime -c "import grader.pipeline"`. The Markdown table is printed and
written to benchmarks/results/throughput.md (--out).

    python benchmarks/throughput.py                                  # the full measurement (issue 16)
    python benchmarks/throughput.py --lengths 15 40 100 300 --sizes 10000 100000 --repeats 3 --profile
    python benchmarks/throughput.py --sizes 2000 --lengths 15 100 --repeats 1   # a quick check

Options: --lengths (default 15 40 100 300), --sizes (default 10000 100000), --repeats (3),
--seed (1935), --timeout (s per grader run, 900), --memory-limit (GiB of address space per run,
8; 0 for none), --profile (per length, one run of --profile-size answers, default the smallest
size: its public steps Grader.read/grade/write timed, and a cProfile of it in one process with
every function's time charged to the grader module that called it: read, features by signal,
scoring, flags, feedback, each writer), --profile-out (the cProfile data), --out, --keep (keep the
temporary folder), --workdir (where to make it).

Targets (issue 16): at 100,000 answers of about 100 words with every default output: <= 3x the
floor, >= 3,000 answers/s on 2 cores, <= 12x the time of 10,000 answers, <= 2 GiB for the largest
process and <= 3 GiB summed over the processes. At every other length: <= 4x the floor and the same
memory bounds. `grader --help` < 0.5 s; a class of 30 x 3 graded end to end in < 2 s.

The synthetic answers are recombined from pools of templated sentences (with alternatives in
every slot, so few sentences are identical): on-topic sentences for each question (paraphrasing
the Stakhanovism history of the rubric: the plans, Stakhanov's record, propaganda, privileges and
resentment, the long-term effects), sentences that belong to another question, elaborations
naming a topic of the question, filler, off-topic sentences, misspellings, keyword lists,
restated questions, blanks, a little gibberish and non-English, and near-duplicates of other
students' answers. An ordinary answer's length is drawn log-normally around a mean calibrated so
that all answers together average L words; within an answer each template is used once before
any is reused, and long answers (70 words or more) come in paragraphs with a thesis and often a
conclusion. The seed makes a given length and size reproducible.
"""

from __future__ import annotations

import argparse
import csv
import functools
import json
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
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterable, Iterator

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RESULTS = HERE / "results"
TIME_BIN = "/usr/bin/time"
QUESTIONS = ("q1", "q2", "q3")

HEADLINE_LENGTH = 100             # words: the length the issue's tightest targets are for
TARGET_FLOOR_RATIO_HEADLINE = 3.0  # grader time / floor time at HEADLINE_LENGTH
TARGET_FLOOR_RATIO = 4.0          # ... at every other length
TARGET_RATE = 3000                # answers/s at HEADLINE_LENGTH, the largest size, all default outputs
TARGET_GROWTH = 12.0              # time(largest) / time(10x smaller)
TARGET_LARGEST_MIB = 2048         # peak resident memory of the largest process
TARGET_SUMMED_MIB = 3072          # peak PSS summed over the process tree
TARGET_HELP_S = 0.5               # `grader --help`
TARGET_CLASS_S = 2.0              # 30 students x 3 questions, end to end

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
        # more on the plans and the record (paraphrased from the Stakhanovism history, seeds)
        "Stakhanov was {about thirty|a thirty year old miner|a young miner} when he {cut|hewed|extracted} "
        "{over a hundred tons|102 tons|a record amount} of coal {in one night|in a six-hour shift|in a single shift} in {1935|August 1935}.",
        "The normal {norm|quota} for {such a shift|a shift like that|one shift} was {only about seven tons|about seven tons|a small fraction of that}.",
        "{After|Following} his record the party {launched|started|organised} a {whole|national} movement {named after him|in his name|of Stakhanovites}.",
        "{The title|Being called} Stakhanovite {soon replaced|quickly took over from|became more important than} {the older title of|being a} shock worker.",
        "{The movement|Stakhanovism} {spread|was extended} {from mining|beyond the coal mines} to {other industries|factories, railways and farms|every branch of industry}.",
        "{The plans|The Five-Year Plans|Stalin's plans} {wanted to|aimed to|tried to} {modernise|modernize|transform} {the Soviet economy|a backward country|the USSR} "
        "{in ten years|as fast as possible|within a decade}.",
        "{Individual|Single|Exceptional} {records|achievements|feats} were {meant to|supposed to} {show|prove|demonstrate} what {every worker|ordinary workers|the whole workforce} could do.",
        "{By praising|Through praising|By rewarding} {individual records|record breakers|the best workers}, the state {pushed|encouraged|urged} "
        "{everyone|all workers|the rest} to {go beyond their limits|push harder|raise their own output}.",
        "{Better|New} {work methods|techniques|ways of organising the work} {were part of it too|also mattered|were promoted}: Stakhanov's team "
        "{split the tasks|divided the work|let him only cut coal while others propped the tunnel}.",
        "The {movement|campaign} {was also supposed to|tried to|aimed to} {raise morale|boost morale|make workers proud of their work} "
        "{during the plans|in the factories|across the country}.",
        "{Rapid industrial growth|Fast industrial growth|Catching up} {depended on|needed|required} {productivity|each worker producing more|higher output per worker}, "
        "{not just more workers|not only new factories|as much as on new machines}.",
        "{In theory|On paper|According to the party} {the records|Stakhanovism|the movement} {would|should} {lift|raise} the {norms|output} of "
        "{the whole economy|every factory|the entire workforce}.",
        "{The party|Stalin|The leadership} {saw|treated|used} {collective effort|hard work|labour} as {the way|the key} to {meeting the targets|fulfilling the plan|building socialism}.",
        "{Soviet|The} planners {measured|judged|counted} success {in tons|by the numbers|by output}, {so|and} a record {like Stakhanov's|of 102 tons} {fitted|suited|served} them {perfectly|well}.",
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
        # more on society and the portrayal of labour (paraphrased from the seeds)
        "In {November 1935|1935} Stalin {declared|claimed|told a conference} that life had become {better and happier|more joyous|better}{| for Soviet people}.",
        "{That phrase|His words|The slogan about a happier life} {became|served as} {the motto|a motto|the slogan} of the {movement|Stakhanovites|campaign}.",
        "{The mid-1930s|The years around 1935|That period} {were presented as|looked like|was shown as} {a time of harmony|a happy time|an era of joy} "
        "{even though|although|just before} the {Great Purges|terror|purges of 1936-38} {followed|came soon after|began}.",
        "The 1936 Constitution {said|declared|announced} that socialism {had been achieved|was built|was now a fact}.",
        "{Stakhanovites|Record workers|Model workers} were {shown as|described as|presented as} {admired by their comrades|respected by their fellow workers|loved by ordinary people} "
        "and {worthy of public office|fit to hold office|ready for positions of responsibility}.",
        "{The propaganda|The state|Soviet culture} {contrasted|compared} a {prosperous present|happy present} and {an even happier future|a bright future} with "
        "{the harsh past|the oppressive past under the Tsars|the misery of the old regime}.",
        "{The Stakhanovite|The model worker} {stood for|represented|came to mean} {mastery of technology|upward social mobility|a cultured working-class family|a new way to live}.",
        "The movement {carried|taught|spread} {lessons|ideas|rules} about {how to work and how to live|how a good Soviet citizen should behave|hard work and culture}.",
        "Hard work {was presented as|was shown as|became} a {patriotic duty|duty to the country|duty to socialism}{| for every citizen| in every factory}.",
        "{A new class|A new group|A kind of new elite} of {Stakhanovites|privileged workers|labour heroes} {appeared|was created|grew up} {in the factories|in society|above ordinary workers}.",
        "Workers who {could not become|never became|failed to become} Stakhanovites {felt|were} {left out|resentful|bitter}{| about it}.",
        "{Even|Some} Stakhanovites {did not get|never received|were denied} the {rewards|benefits|pay} they had been {promised|told about|expecting}.",
        "{The movement|This} {focused on|celebrated|glorified} {individual heroes|outstanding individuals|single record breakers} {rather than the collective|more than the group|in a new way}.",
        "{The image|This picture} of {happy|heroic|joyful} labour {masked|hid|covered} {the pressure|the fear of punishment|how ordinary workers really lived}{| in the 1930s}.",
        "{Speeches|Meetings|Conferences} {praised|honoured|thanked} Stalin{| and Stakhanov| for the happy life}, {and|while} {Stakhanov himself|record breakers} {spoke about|praised} the leader.",
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
        # more on the long-term effects (paraphrased from the seeds)
        "{The hopes|The expectations|The promises} that Stakhanovism would {raise labor productivity|raise productivity for good|transform output} "
        "{went largely unfulfilled|were mostly not met|did not come true}.",
        "{The pressure|The culture of pressure|Pressure to perform} {lasted|continued|persisted} {long after the 1930s|into the following decades|after Stalin died}.",
        "{At first|In the beginning|Initially} production {rose|went up|increased}, but {later|soon|over time} {systemic problems|deeper problems|new problems} {appeared|grew|followed}.",
        "{The Soviet system|The planned economy|The state} {kept searching|was always looking|never stopped looking} for {a way|some way|a method} to "
        "{make people work harder|reward innovation|motivate workers} without {market incentives|private profit|real wages}.",
        "{Unattainable|Impossible|Unrealistic} {goals|targets|norms} {led to|caused|produced} {waste|inefficiency|faked figures} and {low quality|poor goods|broken machines}.",
        "{Workers|Many workers|Ordinary people} {became|grew} {discontented|disillusioned|tired} {with the system|with the campaigns|with endless targets}{| over time}.",
        "{Later|Future} {plans|economic policies|Soviet leaders} {kept|continued} {using|relying on} {competition|campaigns like this|shock work} "
        "{without fixing|instead of addressing|and ignored} {the real needs of workers|underlying labour problems|workers' needs}.",
        "{The discontent|This discontent|The frustration} in the workforce {later fed|contributed to|helped start} {reform movements|calls for reform|perestroika}.",
        "{Stakhanovism|The movement} {proved to be|turned out to be|was in the end} {an illusion|more propaganda than reality|a short-lived campaign}{| of Stalinism}.",
        "{The purges|The Great Purges|The terror} and {the war|the Second World War} {ended|overshadowed|changed} {the movement|the campaign|the Stakhanovite era}.",
        "{Managers|Factory directors|Planners} {learned to|began to|had to} {hide capacity|keep targets low|report false figures} {to survive|to avoid punishment|so they could meet the plan}.",
        "{Safety|Worker safety|Health} {suffered|was ignored|was neglected} {because of|due to|in the rush for} {record attempts|speed-ups|higher norms}.",
        "{Rewarding|Paying for} {only quantity|output alone|tons instead of quality} {left|created|gave} the economy {a habit|a tradition|a problem} that {later reformers|Gorbachev|Kosygin} {tried to change|could not fix|fought against}.",
        "{In the end|Ultimately|Overall} the movement {showed|revealed|exposed} the Soviet {struggle|difficulty|failure} to {incentivize|encourage|reward} {hard work|innovation|efficiency}.",
    ],
}

THESIS = {
    "q1": [
        "Stakhanovism {reflected|mirrored|was closely tied to} the {goals|aims} of {Stalin's|the} Five-Year Plans, {above all|mainly|especially} "
        "{the push for productivity|the demand for more output|rapid industrialization}.",
        "{To understand|To see} how Stakhanovism {fitted|served} the plans, {we need to|one has to} look at {what the plans wanted|the targets|the role of labour}.",
    ],
    "q2": [
        "Stakhanovism {had a big impact|had a deep effect|left a strong mark} on Soviet society and on {how labour was portrayed|the image of work|the way work was shown}.",
        "{In the 1930s|During the 1930s} Stakhanovism {changed|shaped} {both society and propaganda|how people saw work|the life of workers}{| in many ways}.",
    ],
    "q3": [
        "{The long-term effects|In the long run the effects} of Stakhanovism on Soviet labour {were mostly negative|were mixed|lasted for decades}.",
        "Stakhanovism {influenced|shaped|affected} labour practices {long after 1935|for decades|well beyond the 1930s} and {future|later} economic policy.",
    ],
}

TOPICS = {   # noun phrases for the elaboration templates (<T>)
    "q1": ["the production quotas", "Stakhanov's record", "the Five-Year Plans", "socialist competition", "the bonuses for record breakers",
           "the push for industrialization", "the norms in the mines", "the demand for higher productivity", "the shock workers"],
    "q2": ["the propaganda posters", "the privileges of the Stakhanovites", "the resentment on the shop floor", "the image of the New Soviet Man",
           "the rising norms", "Stalin's speech about a happier life", "the new elite of workers", "the fear of being called a saboteur"],
    "q3": ["the culture of pressure", "the unrealistic targets", "the burnout of workers", "the faked records", "the inefficiency of the plans",
           "the later reforms", "the focus on quantity over quality", "the stagnation of the economy", "the disillusionment of workers"],
}

ELABORATIONS = [
    "{One reason for this is|This is partly explained by|A key part of this was} <T>.",
    "{Because of|Without} <T>, {things would have looked very different|the story would be different|workers' lives would have been different}.",
    "{Historians|Textbooks|Our teacher} {point to|stress|emphasise} <T> {here|as a main factor|when explaining this}.",
    "{It is worth adding that|We should also remember that|Another point is that} <T> {was not the same everywhere|varied between industries|changed over the decade}.",
    "<T> {shows|illustrates|is a good example of} {how the regime worked|what the state wanted|the spirit of the time}.",
    "{A good example is|For instance, think of|Take} <T>{| in the Donbas| in the big factories}.",
    "{This connects to|This links to|This is related to} <T>{, which I mentioned above|| as well}.",
]

CONCLUSIONS = {
    "q1": ["{In conclusion|To sum up|All in all}, Stakhanovism was {a tool|a way|an instrument} of the Five-Year Plans to {raise productivity|get more output|meet the targets}."],
    "q2": ["{In conclusion|To sum up|All in all}, Stakhanovism {glorified|celebrated} labour but {hid|masked|covered up} {a harsher reality|the pressure on ordinary workers|real problems}."],
    "q3": ["{In conclusion|To sum up|All in all}, its {legacy|long-term effect} was {pressure, waste and disillusionment|an inefficient economy|a habit of campaigns} that {later reforms|reformers} {had to face|tried to fix}."],
}

FILLER = [
    "{I think|In my opinion|I believe} this {is|was} {a very important|an interesting|a hard} {question|topic}.",
    "{There are|There were} {many|several|a lot of} {reasons|effects|factors} {for this|to consider}.",
    "{In conclusion|To conclude|Overall}, it {was important|had many effects|mattered a lot}.",
    "{As we|Like we} {learned|discussed|read} in {class|the lecture|the textbook}{|, chapter 12}.",
    "{This|It} {is|was} {a complicated|a complex|an important} {part of history|issue|period}.",
    "{Historians|Some people|Many historians} {disagree|have different views} about this.",
    "{I will|Let me|I am going to} {explain|discuss|go through} {this|the main points|a few points} {below|now|in this answer}.",
    "{This is|That is} {hard to say|difficult to judge|not easy to answer} {for sure|in a few words|without more sources}.",
    "{Of course|Obviously|Clearly}, {not everyone agreed|it was not that simple|there is more to it}.",
    "{It depends on|Much depends on} {how you look at it|which historian you read|the source}.",
]

OFF_TOPIC = [
    "The French Revolution {began|started} in 1789 {with the storming of the Bastille|because of debt}.",
    "Photosynthesis {turns|converts} {light|sunlight} into {sugar|chemical energy}.",
    "{My|Our} {dog|cat} {ate|chewed} my {homework|notes} {yesterday|last night}.",
    "The {Roman Empire|British Empire} {fell|declined} for many reasons.",
    "{World War One|The First World War} started in 1914.",
    "{I did not|I didn't} {have time to study|read the chapter|understand the question}.",
    "{The Industrial Revolution|Industrialisation in Britain} {began|started} in the {18th|eighteenth} century {with textiles|with steam power}.",
    "{Water|Ice} {boils|melts} at {100|0} degrees {Celsius|C}.",
    "{My favourite|The best} {subject|class} is {maths|art|PE} {because it is fun|because of the teacher}.",
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
LENGTH_SPREAD = 0.5   # sigma of the log-normal spread of an ordinary answer's length

Template = list  # parts: a str, or a list of alternatives (each a Template)
_PARSED: dict[str, Template] = {}


def parse(template: str) -> Template:
    """"a {b|c{d|e}} f" -> ["a ", [["b"], ["c", [["d"], ["e"]]]], " f"], once per template."""
    def parts(i: int, inside: bool) -> tuple[Template, int]:
        out, text = [], ""
        while i < len(template):
            char = template[i]
            if char == "{":
                out.append(text)
                text, alternatives, i = "", [], i + 1
                while True:
                    alternative, i = parts(i, True)
                    alternatives.append(alternative)
                    i += 1
                    if template[i - 1] == "}":
                        break
                out.append(alternatives)
                continue
            if inside and char in "|}":
                break
            text += char
            i += 1
        out.append(text)
        return [part for part in out if part != ""], i

    if template not in _PARSED:
        _PARSED[template] = parts(0, False)[0]
    return _PARSED[template]


def _fill(parts: Template, rng: random.Random, out: list[str]) -> None:
    for part in parts:
        if isinstance(part, str):
            out.append(part)
        else:
            _fill(rng.choice(part), rng, out)


def expand(template: str, rng: random.Random) -> str:
    """Fill every {a|b|c} slot with one alternative (nested slots allowed)."""
    out: list[str] = []
    _fill(parse(template), rng, out)
    return _TIDY_SPACE_PUNCT.sub(r"\1", _TIDY_SPACES.sub(" ", "".join(out))).strip()


_TIDY_SPACES = re.compile(r" {2,}")
_TIDY_SPACE_PUNCT = re.compile(r"\s+([.,])")


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


CONNECTIVE_STARTS = ("So", "Overall", "In conclusion", "To conclude", "To sum up", "All in all", "But", "However", "In reality",
                     "Therefore", "This shows", "Later", "In the long term", "Over time", "In the end", "Ultimately", "At first",
                     "In the beginning", "Initially", "In theory", "On paper", "According to", "Of course", "Obviously", "Clearly",
                     "For instance", "A good example", "Take", "It is worth", "We should", "Another point", "One reason")
KEEP_CASE = ("Stakhanov", "Stalin", "I ", "Pravda", "Alexei", "Aleksei", "Soviet", "Gosplan", "Khrushchev",
             "The French", "World War", "The First World", "Photosynthesis", "The Industrial", "Industrialisation", "The 1936",
             "In November")


class Pools:
    """One answer's shuffled pools of templates: each template is used once before any is reused,
    so a long answer is many different sentences, not a few repeated."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.decks: dict[object, list[str]] = {}

    def draw(self, key: object, templates: list[str]) -> str:
        deck = self.decks.get(key)
        if not deck:
            deck = self.decks[key] = self.rng.sample(templates, len(templates))
        return deck.pop()


def sentence_for(qid: str, kind: str, rng: random.Random, pools: Pools) -> str:
    if kind == "on":
        text = expand(pools.draw(qid, ON_TOPIC[qid]), rng)
    elif kind == "other":
        other = rng.choice([q for q in QUESTIONS if q != qid])
        text = expand(pools.draw(other, ON_TOPIC[other]), rng)
    elif kind == "elaborate":
        text = expand(pools.draw("elaborate", ELABORATIONS).replace("<T>", rng.choice(TOPICS[qid])), rng)
        text = text[0].upper() + text[1:]
    elif kind == "filler":
        text = expand(pools.draw("filler", FILLER), rng)
    else:
        text = expand(pools.draw("off", OFF_TOPIC), rng)
    if text.startswith(CONNECTIVE_STARTS):
        return text                                     # already opens with a connective
    opener = rng.choice(OPENERS)
    return opener + (text[0].lower() + text[1:] if opener and not text.startswith(KEEP_CASE) else text)


def target_words(mean: float, rng: random.Random) -> int:
    """An ordinary answer's length in words: log-normal around `mean` (some students write half
    as much as others, a few twice as much)."""
    return max(3, round(mean * rng.lognormvariate(-0.5 * LENGTH_SPREAD ** 2, LENGTH_SPREAD)))


def ordinary_answer(qid: str, rng: random.Random, words_wanted: float) -> str:
    """Sentences added until about `words_wanted` words; long answers in paragraphs (a thesis,
    body paragraphs, a conclusion), every template of a pool used before one is reused."""
    quality = rng.random()
    weights = {"on": 1 + 8 * quality, "elaborate": 0.5 + 1.5 * quality, "other": 1.5, "filler": 2.5 - 2 * quality,
               "off": 0.6 - 0.5 * quality}
    off_topic = rng.random() < 0.02                     # the occasional fully off-topic answer
    if off_topic:
        weights = {"on": 0, "elaborate": 0, "other": 0, "filler": 1, "off": 4}
    target = target_words(words_wanted, rng)
    pools = Pools(rng)
    long = target >= 70 and not off_topic
    sentences = [expand(rng.choice(THESIS[qid]), rng)] if long and rng.random() < 0.3 + 0.6 * quality else []
    words = sum(len(s.split()) for s in sentences)
    ending = expand(rng.choice(CONCLUSIONS[qid]), rng) if long and rng.random() < 0.2 + 0.6 * quality else ""
    budget = target - len(ending.split())
    while True:
        kind = rng.choices(list(weights), weights=list(weights.values()))[0]
        sentence = sentence_for(qid, kind, rng, pools)
        n = len(sentence.split())
        if sentences and words + n / 2 > budget:
            break
        sentences.append(sentence)
        words += n
    if ending:
        sentences.append(ending)
    if long and rng.random() < 0.75:                    # paragraphs of 3-6 sentences
        paragraphs, i = [], 0
        while i < len(sentences):
            size = rng.randint(3, 6)
            paragraphs.append(" ".join(sentences[i:i + size]))
            i += size
        text = "\n\n".join(paragraphs)
    else:
        text = " ".join(sentences) if rng.random() < 0.85 else "\n".join(sentences)   # some span lines
    if rng.random() < 0.3:
        text = misspell(text, rng, rng.choice([0.02, 0.05, 0.1]))
    if rng.random() < 0.05:
        text = text.lower()
    return text


def synthetic_answer(qid: str, rng: random.Random, previous: list[str], words_wanted: float) -> str:
    """One answer to question `qid` of about `words_wanted` words if it is an ordinary answer;
    `previous` holds earlier answers to it (for near-duplicates)."""
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
    return ordinary_answer(qid, rng, words_wanted)


def generate_answers(n: int, length: int, seed: int) -> Iterator[tuple[str, str, str]]:
    """N (student_id, question_id, answer) rows, students s000001... answering q1, q2, q3 in turn,
    averaging about `length` words per answer (blanks and keyword lists included)."""
    rng = random.Random(f"{seed}:{n}:{length}")
    wanted = length * ordinary_scale(length, seed)
    previous: dict[str, list[str]] = {q: [] for q in QUESTIONS}
    for i in range(n):
        qid = QUESTIONS[i % 3]
        text = synthetic_answer(qid, rng, previous[qid], wanted)
        if len(text.split()) >= 5:
            previous[qid].append(text)
            if len(previous[qid]) > 4000:
                del previous[qid][:2000]
        yield f"s{i // 3 + 1:06d}", qid, text


@functools.lru_cache(maxsize=None)
def ordinary_scale(length: int, seed: int) -> float:
    """How much longer than `length` an ordinary answer must be for the mean over all answers
    (short blanks, keyword lists and gibberish included) to come out at `length`: measured on a
    sample with its own seed, twice (the stopping rule makes the relation not quite linear). The
    sample holds about 120,000 words (400 to 1,500 answers)."""
    sample = min(1500, max(400, 120_000 // max(length, 1)))
    scale = 1.0
    for _ in range(2):
        rng = random.Random(f"calibrate:{seed}:{length}")
        previous: list[str] = []
        words = 0
        for i in range(sample):
            text = synthetic_answer(QUESTIONS[i % 3], rng, previous, length * scale)
            words += len(text.split())
        scale *= length / max(words / sample, 1.0)
    return scale


def write_synthetic_csv(path: Path, n: int, length: int, seed: int) -> dict[str, float]:
    """Write generate_answers(n, length, seed) as a CSV; returns simple statistics."""
    words = chars = 0
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["student_id", "question_id", "answer"])
        for row in generate_answers(n, length, seed):
            words += len(row[2].split())
            chars += len(row[2])
            writer.writerow(row)
    return {"answers": n, "students": (n + 2) // 3, "words": words, "mean_words": round(words / max(n, 1), 1),
            "bytes": path.stat().st_size, "chars": chars}


def distinct_sentence_ratio(texts: Iterable[str]) -> tuple[float, float]:
    """(distinct sentences / sentences over all the texts, the mean of the same ratio within each
    text of 3 sentences or more): how far answers are from one repeated template."""
    seen: set[str] = set()
    total = 0
    within = []
    for text in texts:
        sentences = [s.strip().lower() for s in re.split(r"(?<=[.!?])\s+", text) if len(s.split()) >= 3]
        total += len(sentences)
        seen.update(sentences)
        if len(sentences) >= 3:
            within.append(len(set(sentences)) / len(sentences))
    return len(seen) / max(total, 1), statistics.mean(within) if within else 1.0


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
    rss_mib: float | None               # GNU time: the largest single process's peak RSS
    sum_pss_mib: float | None = None    # sampled: peak of the PSS summed over the process tree
    sum_rss_mib: float | None = None    # sampled: peak of the RSS summed (counts shared pages twice)
    processes: int = 0                  # most processes seen at once
    failure: str = ""                   # why the run did not finish: timed out, out of memory, exit status


@dataclass
class Series:
    runs: list[Run] = field(default_factory=list)

    @property
    def ok(self) -> list[Run]:
        return [r for r in self.runs if not r.failure]

    @property
    def failure(self) -> str:
        return next((r.failure for r in self.runs if r.failure), "")

    def median(self, attribute: str) -> float | None:
        values = [getattr(r, attribute) for r in self.ok if getattr(r, attribute) is not None]
        return statistics.median(values) if values else None

    def median_seconds(self) -> float | None:
        return self.median("seconds")


class TreeMemory(threading.Thread):
    """Samples the memory of a process and its descendants every `interval` seconds while it runs.

    /usr/bin/time -v reports only the largest process; the grader forks workers that share the
    batch copy-on-write, so the sum that matters is PSS (each shared page divided among its
    sharers, /proc/<pid>/smaps_rollup). Descendants are found through the session (the run is
    started in its own session) by a scan of /proc every `scan_every` samples, which is cheap
    enough not to steal a core from the run."""

    def __init__(self, root: int, interval: float = 0.05, scan_every: int = 4):
        super().__init__(daemon=True)
        self.root, self.interval, self.scan_every = root, interval, scan_every
        self.stop = threading.Event()
        self.peak_pss = self.peak_rss = 0.0
        self.processes = 0
        self.pids: set[int] = {root}

    def scan(self) -> None:
        for name in os.listdir("/proc"):
            if name.isdigit():
                try:
                    with open(f"/proc/{name}/stat", "rb") as handle:
                        fields = handle.read().rsplit(b")", 1)[1].split()
                except (OSError, IndexError):
                    continue
                if int(fields[3]) == self.root:          # session id (the 6th field of stat)
                    self.pids.add(int(name))

    def sample(self) -> None:
        pss = rss = 0
        alive = set()
        for pid in self.pids:
            try:
                with open(f"/proc/{pid}/smaps_rollup", "rb") as handle:
                    text = handle.read()
            except OSError:
                continue
            alive.add(pid)
            rss_kib = re.search(rb"^Rss:\s+(\d+)", text, re.M)
            pss_kib = re.search(rb"^Pss:\s+(\d+)", text, re.M)
            rss += int(rss_kib.group(1)) if rss_kib else 0
            pss += int(pss_kib.group(1)) if pss_kib else 0
        self.pids = alive | {self.root}
        self.peak_pss = max(self.peak_pss, pss / 1024)
        self.peak_rss = max(self.peak_rss, rss / 1024)
        self.processes = max(self.processes, len(alive))

    def run(self) -> None:
        tick = 0
        while not self.stop.is_set():
            if tick % self.scan_every == 0:
                self.scan()
            self.sample()
            tick += 1
            self.stop.wait(self.interval)


def grader_command() -> list[str]:
    script = Path(sys.executable).parent / "grader"
    return [str(script)] if script.exists() else [sys.executable, "-m", "grader"]


def ensure_time_binary() -> None:
    if Path(TIME_BIN).exists():
        return
    sys.exit(f"{TIME_BIN} is missing: install GNU time (Debian: apt-get update -qq && apt-get install -y -qq time)")


def measure(cmd: list[str], log: Path, timeout: float, memory_limit_gib: float) -> Run:
    """Run `cmd` under /usr/bin/time -v; wall time from here, the largest process's peak RSS from
    time's report, the process tree's summed peak from TreeMemory.

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
        sampler = TreeMemory(proc.pid)
        sampler.start()
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)          # the group we just started, nothing else
            proc.wait()
            failure = f"stopped after {timeout:.0f} s"
        seconds = time.perf_counter() - start
        sampler.stop.set()
        sampler.join()
    text = log.read_text(errors="replace")
    if not failure and proc.returncode != 0:
        if "MemoryError" in text or "bad_alloc" in text or "Unable to allocate" in text:
            failure = f"out of memory (over the {memory_limit_gib:g} GiB address-space limit) after {seconds:.0f} s"
        else:
            failure = f"exit status {proc.returncode} after {seconds:.0f} s"
    if failure:
        print(f"{' '.join(cmd)}: {failure}; last lines of its output:\n{text[-1500:]}", file=sys.stderr)
    match = re.search(r"Maximum resident set size \(kbytes\): (\d+)", report.read_text()) if report.exists() else None
    # time itself (a few MiB) is in the sampled sum too; it is not worth leaving out.
    return Run(seconds, int(match.group(1)) / 1024 if match else None, sampler.peak_pss or None,
               sampler.peak_rss or None, sampler.processes, failure)


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


def timed(cmd: list[str], runs: int = 5) -> float:
    """Median wall time of `cmd` (a subprocess: interpreter start and imports included)."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True, cwd=ROOT)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def time_small_class(work: Path, seed: int, runs: int = 5) -> tuple[float, int]:
    """`grader grade` of a class of 30 students x 3 questions (about 100 words each), end to end."""
    csv_path = work / "class-30.csv"
    write_synthetic_csv(csv_path, 90, 100, seed)
    times = []
    for rep in range(runs):
        out = work / f"class-30-out-{rep}"
        start = time.perf_counter()
        subprocess.run([*grader_command(), "grade", str(csv_path), "--out", str(out), "--quiet"],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True, cwd=ROOT)
        times.append(time.perf_counter() - start)
    return statistics.median(times), 90


def import_costs(runs: int = 3, top: int = 8) -> tuple[float, list[tuple[str, float, float]]]:
    """`python -X importtime -c "import grader.pipeline"`: the run with the median total; its total
    (s) and the top packages by cumulative time, each with its self time summed (s)."""
    parsed = []
    for _ in range(runs):
        result = subprocess.run([sys.executable, "-X", "importtime", "-c", "import grader.pipeline"], cwd=ROOT,
                                capture_output=True, text=True, check=True)
        cumulative: dict[str, float] = {}
        own: dict[str, float] = defaultdict(float)
        total = 0.0
        for line in result.stderr.splitlines():
            match = re.match(r"import time:\s+(\d+) \|\s+(\d+) \|( *)(\S+)", line)
            if not match:
                continue
            self_us, cum_us, indent, name = int(match.group(1)), int(match.group(2)), len(match.group(3)), match.group(4)
            package = name.split(".")[0]
            own[package] += self_us / 1e6
            # A package's first (outermost) import counts it with everything it imports.
            cumulative[package] = max(cumulative.get(package, 0.0), cum_us / 1e6)
            if indent == 1:
                total += cum_us / 1e6
        parsed.append((total, cumulative, own))
    total, cumulative, own = sorted(parsed, key=lambda p: p[0])[len(parsed) // 2]
    ranked = sorted(cumulative.items(), key=lambda kv: kv[1], reverse=True)[:top]
    return total, [(name, cum, own[name]) for name, cum in ranked]


# ---------------------------------------------------------------------------------------------
# Where the time goes: one run per length through the pipeline's public steps
# ---------------------------------------------------------------------------------------------

STAGES_SCRIPT = '''\
"""One grader run through Grader.read/grade/write, each step timed; with "profile", under cProfile
and in one process (the forked workers' time would be invisible to the profiler)."""
import cProfile
import json
import sys
import time

src, out, prof_path, mode = sys.argv[1:5]
profiler = cProfile.Profile() if mode == "profile" else None
marks = [("start", time.perf_counter())]
if profiler:
    profiler.enable()
from grader.pipeline import Grader
from grader.runtime import Runtime
marks.append(("imports", time.perf_counter()))
grader = Grader(None, Runtime(processes=1) if profiler else Runtime())
marks.append(("rubric", time.perf_counter()))
with grader.runtime.batch():     # as Grader.run holds it
    answers = grader.read([src])
    marks.append(("read", time.perf_counter()))
    results = grader.grade(answers)
    marks.append(("grade", time.perf_counter()))
    grader.write(results, out)
    marks.append(("write", time.perf_counter()))
if profiler:
    profiler.disable()
    profiler.dump_stats(prof_path)
print(json.dumps({name: t - before for (_, before), (name, t) in zip(marks, marks[1:])}))
'''

# A grader module's own time, and that of the libraries it calls (numpy, scikit-learn, re, ...),
# is charged to the stage below. Helpers every step uses are charged to their caller.
STAGE_OF_MODULE = {
    "grader/answers.py": "read: CSV, decoding (answers)",
    "grader/features/prepare.py": "features: tokens, stems, spelling (prepare)",
    "grader/features/vectors.py": "features: TF-IDF vectors (vectors)",
    "grader/features/similarity.py": "features: similarity, exemplars",
    "grader/features/substance.py": "features: substance",
    "grader/features/concepts.py": "features: concepts",
    "grader/features/peers.py": "features: peers",
    "grader/features/context.py": "features: context (foreign words, other question)",
    "grader/features/transformer.py": "features: assembly (transformer, batch)",
    "grader/features/batch.py": "features: assembly (transformer, batch)",
    "grader/features/columns.py": "features: assembly (transformer, batch)",
    "grader/scoring/rules.py": "scoring", "grader/scoring/learned.py": "scoring", "grader/scoring/caps.py": "scoring",
    "grader/scoring/confidence.py": "scoring", "grader/scoring/__init__.py": "scoring",
    "grader/flags/answer.py": "flags: per answer", "grader/flags/duplicates.py": "flags: near-duplicates",
    "grader/feedback.py": "feedback",
    "grader/grading.py": "grading: results, sort (grading)",
    "grader/writers/gradebook.py": "write gradebook.csv",
    "grader/writers/pages.py": "write feedback pages",
    "grader/writers/report.py": "write report.html (+ charts)", "grader/writers/charts.py": "write report.html (+ charts)",
    "grader/writers/students.py": "writers: group by student",
    "grader/writers/outputs.py": "writers: output folder (stage, switch, manifest)",
    "grader/rubric.py": "rubric",
    "grader/pipeline.py": "pipeline, startup, other",
}
STAGE_OF_FUNCTION = {"write_grades_csv": "write grades.csv", "write_grades_json": "write grades.json"}
PASS_THROUGH = ("grader/text.py", "grader/runtime.py", "grader/writers/files.py", "grader/writers/__init__.py",
                "grader/writers/grades.py", "grader/features/__init__.py", "grader/flags/__init__.py")
IMPORTS = "imports"
OTHER = "pipeline, startup, other"
STAGE_ORDER = list(dict.fromkeys([IMPORTS, "rubric", *list(STAGE_OF_MODULE.values())[:-3], "write grades.csv",
                                   "write grades.json", *STAGE_OF_MODULE.values()]))


def stage_times(stats: pstats.Stats) -> dict[str, float]:
    """Every function's own time charged to a stage: a grader function's to its module's stage, a
    library function's (or a pass-through helper's) split among its callers in proportion to the
    time it spent for each, up to the nearest grader function. The stages add up to the run."""
    table = stats.stats
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 20000))

    def owner(key) -> str | None:
        path, _, func = key
        if "importlib" in path or func.startswith("<built-in method _imp."):
            return IMPORTS
        if func in STAGE_OF_FUNCTION and path.endswith("grader/writers/grades.py"):
            return STAGE_OF_FUNCTION[func]
        module = re.sub(r".*?(grader/)", r"\1", path.replace(os.sep, "/"), count=1) if "/grader/" in path else ""
        if module and module not in PASS_THROUGH and "/benchmarks/" not in path:
            return STAGE_OF_MODULE.get(module, OTHER)
        return None

    memo: dict[tuple, dict[str, float]] = {}
    active: set[tuple] = set()

    def shares(key, weight_index: int) -> dict[str, float]:
        """How the time of `key` divides among stages (weights: the caller edges' cumulative time).
        Empty when every path up from `key` loops back (recursion through library frames): the
        callers that lead somewhere share its time."""
        stage = owner(key)
        if stage is not None:
            return {stage: 1.0}
        if weight_index == 3 and key in memo:
            return memo[key]
        every = table[key][4] if key in table else {}
        if not every:
            return {OTHER: 1.0}                                 # the script itself
        callers = {caller: edge for caller, edge in every.items() if caller not in active and caller != key}
        active.add(key)
        result: dict[str, float] = defaultdict(float)
        mass = 0.0
        for caller, edge in callers.items():
            weight = edge[weight_index] or edge[3] or 1e-9 * edge[1]   # no time measured: by calls
            part = shares(caller, 3)
            if part:
                mass += weight
                for name, share in part.items():
                    result[name] += share * weight
        active.discard(key)
        result = {name: share / mass for name, share in result.items()} if mass > 0 else {}
        if weight_index == 3:
            memo[key] = result
        return result

    charged: dict[str, float] = defaultdict(float)
    for key, (_, _, own, _, _) in table.items():
        if own:
            for stage, part in (shares(key, 2) or {OTHER: 1.0}).items():     # own time: by the edges' own time
                charged[stage] += own * part
    return dict(charged)


def profile_length(csv_path: Path, work: Path, prof: Path) -> tuple[dict[str, float], dict[str, float], float]:
    """(wall seconds of the public steps without the profiler, default runtime; cProfile seconds per
    stage, one process; the profiled run's total)."""
    script = work / "stages.py"
    script.write_text(STAGES_SCRIPT)
    steps = {}
    for mode in ("plain", "profile"):
        out = work / f"stages-out-{mode}-{csv_path.stem}"
        result = subprocess.run([sys.executable, str(script), str(csv_path), str(out), str(prof), mode], cwd=ROOT,
                                capture_output=True, text=True)
        if result.returncode != 0:
            sys.exit(f"the profiled run failed:\n{result.stderr[-2000:]}")
        steps[mode] = json.loads(result.stdout.strip().splitlines()[-1])
        shutil.rmtree(out, ignore_errors=True)
    stats = pstats.Stats(str(prof))
    return steps["plain"], stage_times(stats), sum(steps["profile"].values())


def profile_tables(profiles: dict[int, tuple[dict, dict, float]], n: int) -> str:
    lengths = sorted(profiles)
    head = "| " + " | ".join(f"{length} words: s | share" for length in lengths) + " |"
    lines = [f"One grader run of {n:,} answers per length through `Grader.read`, `grade` and `write` (the public steps of "
             "`Grader.run`), with the default runtime (forked workers) and no profiler: wall seconds.", "",
             "| step " + head, "|---" + "|---:|---:" * len(lengths) + "|"]
    for step in ("imports", "rubric", "read", "grade", "write"):
        total = {length: sum(profiles[length][0].values()) for length in lengths}
        lines.append(f"| {step} | " + " | ".join(f"{profiles[length][0][step]:.2f} | {100 * profiles[length][0][step] / total[length]:.0f}%"
                                                 for length in lengths) + " |")
    lines.append("| total | " + " | ".join(f"{sum(profiles[length][0].values()):.2f} | 100%" for length in lengths) + " |")
    lines += ["", f"The same run under cProfile, in ONE process (`Runtime(processes=1)`, so the forked work is seen too: this "
              "is CPU time, not the wall time of a run on 2 cores; the profiler slows Python code more than C code). Each "
              "function's own time is charged to the grader module that called it (library calls such as numpy, "
              "scikit-learn and re included; text.py, runtime.py and the writers' file helpers are charged to their caller):",
              "", "| stage " + head, "|---" + "|---:|---:" * len(lengths) + "|"]
    stages = [s for s in STAGE_ORDER if any(profiles[length][1].get(s, 0) > 0 for length in lengths)]
    stages += sorted({s for length in lengths for s in profiles[length][1]} - set(stages))
    for stage in stages:
        cells = []
        for length in lengths:
            seconds = profiles[length][1].get(stage, 0.0)
            total = sum(profiles[length][1].values()) or 1
            cells.append(f"{seconds:.2f} | {100 * seconds / total:.1f}%")
        lines.append(f"| {stage} | " + " | ".join(cells) + " |")
    lines.append("| total (profiled) | " + " | ".join(f"{sum(profiles[length][1].values()):.2f} | 100%" for length in lengths) + " |")
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------------------------

def fmt(value: float | None, spec: str) -> str:
    return "-" if value is None else format(value, spec)


def verdict(ok: bool | None) -> str:
    return "n/a" if ok is None else ("met" if ok else "**missed**")


def ratio_target(length: int) -> float:
    return TARGET_FLOOR_RATIO_HEADLINE if length == HEADLINE_LENGTH else TARGET_FLOOR_RATIO


def target_rows(length: int, sizes: list[int], results) -> list[tuple[str, str, bool | None]]:
    big, small = max(sizes), min(sizes)
    g, f = results[(length, big)]["grader"], results[(length, big)]["floor"]
    gs, fs = g.median_seconds(), f.median_seconds()
    unfinished = f"did not finish: {g.failure}"
    rows = []
    ratio = gs / fs if gs and fs else None
    rows.append((f"<= {ratio_target(length):g}x the floor at {big:,}", unfinished if ratio is None else f"{ratio:.2f}x",
                 False if ratio is None else ratio <= ratio_target(length)))
    if length == HEADLINE_LENGTH:
        rate = big / gs if gs else None
        rows.append((f">= {TARGET_RATE:,} answers/s at {big:,}", unfinished if rate is None else f"{rate:,.0f}",
                     False if rate is None else rate >= TARGET_RATE))
    if big == 10 * small:
        small_s = results[(length, small)]["grader"].median_seconds()
        growth = gs / small_s if gs and small_s else None
        rows.append((f"{big:,} takes <= {TARGET_GROWTH:g}x the time of {small:,}", unfinished if growth is None else f"{growth:.2f}x",
                     False if growth is None else growth <= TARGET_GROWTH))
    if g.ok:
        largest, summed = g.median("rss_mib"), g.median("sum_pss_mib")
        rows.append((f"largest process <= {TARGET_LARGEST_MIB / 1024:g} GiB at {big:,}", f"{fmt(largest, ',.0f')} MiB",
                     None if largest is None else largest <= TARGET_LARGEST_MIB))
        rows.append((f"summed over processes (PSS) <= {TARGET_SUMMED_MIB / 1024:g} GiB at {big:,}", f"{fmt(summed, ',.0f')} MiB",
                     None if summed is None else summed <= TARGET_SUMMED_MIB))
    else:
        seen = g.runs[0].rss_mib if g.runs else None
        rows.append((f"largest process <= {TARGET_LARGEST_MIB / 1024:g} GiB at {big:,}",
                     f"{unfinished} (>= {fmt(seen, ',.0f')} MiB)", False if (seen or 0) > TARGET_LARGEST_MIB else None))
    return rows


def build_report(args, lengths, sizes, results, stats, outputs, startup, profiles, load) -> str:
    import numpy
    import sklearn

    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                                text=True).stdout.strip() or "?"
        dirty = bool(subprocess.run(["git", "status", "--porcelain", "--", "grader", "pyproject.toml"], cwd=ROOT,
                                    capture_output=True, text=True).stdout.strip())
    except OSError:
        commit, dirty = "?", False
    options = [f"--lengths {' '.join(map(str, lengths))}", f"--sizes {' '.join(map(str, sizes))}", f"--repeats {args.repeats}"]
    options += [] if args.seed == 1935 else [f"--seed {args.seed}"]
    options += [] if args.memory_limit == 8.0 else [f"--memory-limit {args.memory_limit:g}"]
    options += [] if args.timeout == 900.0 else [f"--timeout {args.timeout:g}"]
    options += ["--profile"] if args.profile else []
    options += [f"--profile-size {args.profile_size}"] if args.profile and args.profile_size else []
    lines = [
        "# Throughput benchmark",
        "",
        f"`python benchmarks/throughput.py {' '.join(options)}`",
        "",
        f"{datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC; commit {commit}{' + uncommitted changes in grader/' if dirty else ''}; "
        f"Python {platform.python_version()}, scikit-learn {sklearn.__version__}, numpy {numpy.__version__}; "
        f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPUs, load average {load[0]:.1f} at the start and "
        f"{load[1]:.1f} at the end. Medians of {args.repeats} runs each (grader and floor interleaved). Seconds are the "
        "wall time of the whole subprocess (interpreter start, imports, reading, grading, writing every default "
        "output). Memory: *largest* is GNU time's \"Maximum resident set size\" (the largest single process); "
        "*summed* is the peak over the run of the memory of the whole process tree (the grader and its forked "
        "workers), sampled every 50 ms: PSS (shared pages divided among the processes sharing them; the target) and "
        f"RSS (shared pages counted in each). Each run may use at most {args.memory_limit:g} GiB of address space "
        f"and {args.timeout:.0f} s.",
        "",
        "| words (target) | words (mean) | answers | grader s | floor s | grader/floor | answers/s | words/s | "
        "largest MiB | summed PSS MiB | summed RSS MiB | floor largest MiB |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for length in lengths:
        for n in sizes:
            g, f = results[(length, n)]["grader"], results[(length, n)]["floor"]
            gs, fs = g.median_seconds(), f.median_seconds()
            words = stats[(length, n)]["words"]
            if gs is None:
                lines.append(f"| {length} | {stats[(length, n)]['mean_words']} | {n:,} | did not finish: {g.failure} | "
                             f"{fmt(fs, '.2f')} | - | - | - | {fmt(g.runs[0].rss_mib if g.runs else None, ',.0f')} | - | - | "
                             f"{fmt(f.median('rss_mib'), ',.0f')} |")
                continue
            lines.append(f"| {length} | {stats[(length, n)]['mean_words']} | {n:,} | {gs:.2f} | {fmt(fs, '.2f')} | "
                         f"{fmt(gs / fs if fs else None, '.2f')}x | {n / gs:,.0f} | {words / gs:,.0f} | "
                         f"{fmt(g.median('rss_mib'), ',.0f')} | {fmt(g.median('sum_pss_mib'), ',.0f')} | "
                         f"{fmt(g.median('sum_rss_mib'), ',.0f')} | {fmt(f.median('rss_mib'), ',.0f')} |")
    big, small = max(sizes), min(sizes)
    if big != small:
        lines += ["", f"Growth from {small:,} to {big:,} answers ({big / small:g}x the answers), median seconds:", "",
                  "| words (target) | grader | floor |", "|---:|---:|---:|"]
        for length in lengths:
            gb, gsm = results[(length, big)]["grader"].median_seconds(), results[(length, small)]["grader"].median_seconds()
            fb, fsm = results[(length, big)]["floor"].median_seconds(), results[(length, small)]["floor"].median_seconds()
            lines.append(f"| {length} | {fmt(gb / gsm if gb and gsm else None, '.2f')}x | {fmt(fb / fsm if fb and fsm else None, '.2f')}x |")
    lines += ["", "Targets (issue 16: at 100,000 answers of about 100 words; the other lengths <= 4x the floor and the same "
              "memory bounds). They are checked at the largest size measured here:", "",
              "| words (target) | target | measured | |", "|---:|---|---:|---|"]
    for length in lengths:
        lines += [f"| {length} | {target} | {measured} | {verdict(ok)} |" for target, measured, ok in target_rows(length, sizes, results)]
    help_s, class_s, class_n, import_total, import_top = startup
    lines += [f"| - | `grader --help` < {TARGET_HELP_S:g} s (median of 5) | {help_s:.3f} s | {verdict(help_s < TARGET_HELP_S)} |",
              f"| - | a class of 30 students x 3 questions (~100 words) graded end to end < {TARGET_CLASS_S:g} s "
              f"(`grader grade`, every default output, median of 5) | {class_s:.2f} s | {verdict(class_s < TARGET_CLASS_S)} |",
              "",
              f"What the imports cost: `python -X importtime -c \"import grader.pipeline\"` takes {import_total:.2f} s "
              "(median of 3 runs). The top packages by cumulative time (a package's outermost import, with everything it "
              "imports; nested, so they overlap: scikit-learn's includes scipy's and numpy's) and their own time summed:", "",
              "| package | cumulative s | own s |", "|---|---:|---:|"]
    lines += [f"| {name} | {cum:.3f} | {own:.3f} |" for name, cum, own in import_top]
    lines += ["", "Inputs (synthetic, seeded; distinct sentences measured on the first 3,000 answers of the smallest size: "
              "over all answers, and within an answer of 3 sentences or more):", ""]
    for length in lengths:
        s = stats[(length, small)]
        parts = [f"{stats[(length, n)]['mean_words']} words on average at {n:,} ({stats[(length, n)]['bytes'] / 2**20:.1f} MiB CSV)"
                 for n in sizes]
        lines.append(f"- about {length} words: {'; '.join(parts)}; distinct sentences {s['distinct']:.0%} overall, "
                     f"{s['distinct_within']:.0%} within an answer.")
    lines.append("")
    for length in lengths:
        if outputs.get(length):
            n, listing = outputs[length]
            lines.append(f"Default outputs of `grader grade` at {n:,} answers of about {length} words: " + ", ".join(listing) + ".")
    lines.append("")
    if profiles:
        lines += ["## Where the time goes", "", profile_tables(profiles, args.profile_size or small)]
    return "\n".join(lines).rstrip() + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lengths", type=int, nargs="+", default=[15, 40, 100, 300],
                        help="mean words per answer of each synthetic class")
    parser.add_argument("--sizes", type=int, nargs="+", default=[10000, 100000], help="numbers of answers")
    parser.add_argument("--repeats", type=int, default=3, help="runs per measurement (medians are reported)")
    parser.add_argument("--seed", type=int, default=1935, help="seed of the synthetic answers")
    parser.add_argument("--timeout", type=float, default=900.0,
                        help="seconds before a grader run is stopped (its size's remaining runs are skipped)")
    parser.add_argument("--memory-limit", type=float, default=8.0,
                        help="address-space limit per run in GiB (0: none); a run over it fails with MemoryError")
    parser.add_argument("--profile", action="store_true",
                        help="also time the steps of one grader run per length and profile it (stage table)")
    parser.add_argument("--profile-size", type=int, default=0,
                        help="answers in the profiled run (default: the smallest size)")
    parser.add_argument("--profile-out", type=Path, default=Path(tempfile.gettempdir()) / "prof.out",
                        help="where --profile keeps the cProfile data (the last length's)")
    parser.add_argument("--out", type=Path, default=RESULTS / "throughput.md", help="Markdown file to write")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (CSV files, outputs, logs)")
    parser.add_argument("--workdir", type=Path, default=None,
                        help="where to make the temporary folder (default: the system's temp folder); file "
                             "creation speed differs a lot between file systems, and grade writes a page per student")
    args = parser.parse_args()
    ensure_time_binary()
    sizes, lengths = sorted(set(args.sizes)), sorted(set(args.lengths))

    load_start = os.getloadavg()[0]
    if args.workdir is not None:
        args.workdir.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="grader-throughput-", dir=args.workdir))
    try:
        floor_script = work / "floor.py"
        floor_script.write_text(FLOOR_SCRIPT)
        stats, results, outputs, profiles = {}, {}, {}, {}
        for length in lengths:
            for n in sizes:
                key, tag = (length, n), f"[{length} words, {n:,}]"
                csv_path = work / f"answers-{length}w-{n}.csv"
                start = time.perf_counter()
                stats[key] = write_synthetic_csv(csv_path, n, length, args.seed)
                print(f"{tag} wrote {csv_path} ({stats[key]['bytes'] / 2**20:.1f} MiB, {stats[key]['mean_words']} words "
                      f"per answer, {time.perf_counter() - start:.0f} s)", file=sys.stderr)
                if n == sizes[0]:
                    with csv_path.open(encoding="utf-8", newline="") as handle:
                        rows = csv.reader(handle)
                        next(rows)
                        stats[key]["distinct"], stats[key]["distinct_within"] = distinct_sentence_ratio(
                            row[2] for _, row in zip(range(3000), rows))
                results[key] = {"grader": Series(), "floor": Series()}
                for rep in range(args.repeats):
                    # A fresh folder per run, all removed at the end: deleting 33,000 feedback pages
                    # just before a run made creating the next run's pages 5-15x slower on this ext4
                    # (mounted with discard), which measured the benchmark's own clean-up.
                    out = work / f"out-{length}w-{n}-{rep}"
                    run = measure([*grader_command(), "grade", str(csv_path), "--out", str(out)],
                                  work / f"grader-{length}w-{n}-{rep}.log", args.timeout, args.memory_limit)
                    results[key]["grader"].runs.append(run)
                    print(f"{tag} grader run {rep + 1}: " + (f"{run.failure}, peak RSS {fmt(run.rss_mib, ',.0f')} MiB"
                          if run.failure else f"{run.seconds:.2f} s, {n / run.seconds:,.0f} answers/s, largest "
                          f"{fmt(run.rss_mib, ',.0f')} MiB, summed PSS {fmt(run.sum_pss_mib, ',.0f')} MiB "
                          f"({run.processes} processes)"), file=sys.stderr)
                    if not run.failure and n == sizes[-1] and length not in outputs:
                        outputs[length] = (n, check_outputs(out, n))
                    if not args.keep:
                        shutil.rmtree(out, ignore_errors=True)
                    floor = measure([sys.executable, str(floor_script), str(csv_path), str(work / f"floor-{n}.csv")],
                                    work / f"floor-{length}w-{n}-{rep}.log", args.timeout, args.memory_limit)
                    if floor.failure:
                        sys.exit(f"the floor failed at {n:,} answers of {length} words: {floor.failure}")
                    results[key]["floor"].runs.append(floor)
                    print(f"{tag} floor  run {rep + 1}: {floor.seconds:.2f} s, {n / floor.seconds:,.0f} answers/s, "
                          f"{fmt(floor.rss_mib, ',.0f')} MiB", file=sys.stderr)
                    if run.failure:
                        print(f"{tag} the grader did not finish: skipping its other runs at this size", file=sys.stderr)
                        break
                if not args.keep:
                    csv_path.unlink()
            if args.profile:
                size = args.profile_size or sizes[0]
                print(f"[{length} words] timing and profiling one grader run of {size:,} answers ...", file=sys.stderr)
                csv_path = work / f"profile-{length}w-{size}.csv"
                write_synthetic_csv(csv_path, size, length, args.seed)
                profiles[length] = profile_length(csv_path, work, args.profile_out)
                csv_path.unlink()
        print("timing `grader --help`, a class of 30 and the imports ...", file=sys.stderr)
        help_s = timed([*grader_command(), "--help"])
        class_s, class_n = time_small_class(work, args.seed)
        startup = (help_s, class_s, class_n, *import_costs())
        report = build_report(args, lengths, sizes, results, stats, outputs, startup, profiles,
                              (load_start, os.getloadavg()[0]))
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(report, encoding="utf-8")
        print(report)
        print(f"Wrote {args.out}" + (f"; cProfile data of the last length: {args.profile_out} "
                                     f"(python -m pstats {args.profile_out})" if args.profile else ""), file=sys.stderr)
    finally:
        if args.keep:
            print(f"Kept {work}", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
