"""Each flag: answers that must raise it and answers that must not."""

import pytest
from conftest import grade_texts

from grader.answers import Answer
from grader.grading import grade

GOOD = {
    "q1": "Stalin's Five-Year Plans demanded rapid industrialization, so factories and mines got production quotas. "
          "When Stakhanov mined 102 tons of coal in one shift the party made him a model, and workers were pushed to "
          "overfulfil their norms through socialist competition and rewarded with bonuses.",
    "q2": "The press turned Stakhanovites into heroes and used them as propaganda for socialism, with better flats and "
          "bonuses for the record breakers. But other workers resented them because norms were raised for everyone, "
          "and those who fell behind faced pressure and even punishment.",
    "q3": "Over the long run the constant pressure to beat ever higher targets led to burnout and disillusionment. "
          "Quality suffered because quantity mattered more, so the planned economy stayed inefficient, and later "
          "leaders such as Gorbachev tried reforms to fix low productivity.",
    "q1b": "The plans needed more output per worker, and Stakhanov's record was used to show that norms could be "
           "beaten many times over, so managers raised quotas and urged every worker to copy him.",
    "q2b": "Labour was shown as heroic and patriotic in newspapers, yet many ordinary workers felt angry because the "
           "Stakhanovites got privileges while their own quotas went up.",
}


def flags_of(rubric, *items):
    return [r.flag_codes for r in grade_texts(rubric, *[(qid.rstrip("b"), text) for qid, text in items])]


@pytest.mark.parametrize("qid, text", list(GOOD.items()))
def test_genuine_good_answers_raise_no_flag(rubric, qid, text):
    assert flags_of(rubric, (qid, text)) == [[]]


@pytest.mark.parametrize("flag, qid, text", [
    ("keyword_list", "q1", "quotas, Five-Year Plans, productivity, industrialization, competition, rewards"),
    ("keyword_list", "q3", "- burnout\n- disillusionment\n- inefficiency\n- reform\n- stagnation"),
    ("keyword_stuffing", "q2", "Propaganda heroes resentment pressure punishment propaganda of the heroes and the "
                               "resentment of pressure and punishment as propaganda heroes privileges resentment."),
    ("restates_question", "q2", "Evaluate the impact of Stakhanovism on Soviet society and its portrayal of labor during the 1930s."),
    ("restates_question", "q1", "Stakhanovism reflected the goals of Stalin's Five-Year Plans in terms of labor productivity."),
    ("off_topic", "q3", "My favourite football team won the league this season because their striker scored in every single match."),
    ("repetitive", "q1", "Workers had to meet quotas. " * 8),
    ("copies_model_answer", "q3", "The long-term effects of Stakhanovism on labor practices in the Soviet Union included a culture of "
                                  "excessive pressure to perform that persisted beyond the 1930s. While initially successful in boosting "
                                  "production, this approach led to systemic issues such as worker burnout, disillusionment, and "
                                  "inefficiencies from setting unattainable goals."),
    ("gibberish", "q2", "xkcd qwrtz bnmmm pfffft zzzkx vrrrm qwpzx"),
    ("gibberish", "q1", "#### $$$ %%% @@@ !!! ^^^ &&& *** ((( )))"),
    ("not_english", "q2", "Le stakhanovisme a transformé la société soviétique: les ouvriers modèles étaient célébrés par la presse."),
    ("contradiction", "q3", "There was no burnout and no disillusionment at all, the economy had no inefficiency, and there were never any reforms."),
])
def test_flag_is_raised(rubric, flag, qid, text):
    [codes] = flags_of(rubric, (qid, text))
    assert flag in codes, codes


def test_near_duplicate_names_the_other_student(rubric):
    copied = GOOD["q2"].replace("even punishment", "punishment")
    answers = [Answer("ana", "q2", GOOD["q2"], "a"), Answer("ben", "q2", copied, "b"), Answer("cat", "q2", GOOD["q2b"], "c")]
    results = {r.student_id: r for r in grade(rubric, answers)}
    assert [f.reason for f in results["ben"].flags if f.code == "near_duplicate"][0].endswith("student ana")
    assert "near_duplicate" in results["ana"].flag_codes
    assert "near_duplicate" not in results["cat"].flag_codes
    assert results["ben"].needs_review and results["ben"].score is not None


def test_flagged_answers_are_capped_and_queued_for_review(rubric):
    [result] = grade(rubric, [Answer("s", "q1", "Five-Year Plans, quotas, Stakhanov, 102 tons, competition, bonuses, industrialization", "x")])
    assert result.score <= 0.25 * result.max_score
    assert result.needs_review
    assert result.feedback[-1].startswith("Write full sentences")
    assert not any("similar to" in sentence for sentence in result.feedback)


def test_confidence_is_lower_for_flagged_and_high_for_clear_answers(rubric):
    clear, flagged = grade(rubric, [
        Answer("a", "q1", GOOD["q1"], "x"), Answer("b", "q1", "quotas, plans, productivity, Stakhanov, competition", "y")])
    assert clear.confidence > flagged.confidence
    assert not clear.needs_review and flagged.needs_review


# Off-topic paragraphs seeded with key terms: fluent text about something else that brings in the
# question's subject only as a comparison. Graded in a class, as they would be: peers' vocabulary
# is what makes the rest of the paragraph foreign.
SEEDED_OFF_TOPIC = [
    ("q1", "My uncle runs a bakery and every morning he counts how many loaves each baker makes. The best baker "
           "gets a bonus on Friday and we all clap for him. It is a lot like Stakhanovism and the Five-Year Plans "
           "with their quotas."),
    ("q3", "Modern delivery apps rate couriers every week and deactivate the slowest ones automatically, so drivers "
           "rush through traffic and crash. Unions in several European cities went on strike over the algorithm. "
           "This is just like Stakhanovism, with burnout and quotas."),
]


def in_class(rubric, *items):
    """Flags of `items` graded together with the GOOD answers (a small class)."""
    class_answers = [(qid.rstrip("b"), text) for qid, text in GOOD.items()]
    return [r.flag_codes for r in grade_texts(rubric, *class_answers, *items)[len(class_answers):]]


@pytest.mark.parametrize("qid, text", SEEDED_OFF_TOPIC)
def test_off_topic_paragraph_seeded_with_key_terms_is_flagged(rubric, qid, text):
    [codes] = in_class(rubric, (qid, text))
    assert "off_topic" in codes


def test_examples_of_the_subject_are_not_comparisons_that_flag(rubric):
    text = ("Newspapers praised record breakers like Stakhanov as heroes, and posters showed smiling workers, but many "
            "ordinary workers resented them because their own norms were raised.")
    assert in_class(rubric, ("q2", text)) == [[]]


def test_an_answer_to_another_question_is_flagged_wrong_question(rubric):
    [codes] = in_class(rubric, ("q1", GOOD["q3"]))
    assert "wrong_question" in codes
    assert flags_of(rubric, ("q3", GOOD["q3"])) == [[]]


def test_a_failed_remedy_or_a_negated_subject_is_not_a_contradiction(rubric):
    text = ("Over time the pressure to exceed targets did not stop: managers couldn't fix low productivity, and "
            "workers who weren't Stakhanovites grew bitter and burnt out.")
    assert "contradiction" not in flags_of(rubric, ("q3", text))[0]


def test_subject_comparison_finds_comparisons_with_the_questions_proper_nouns(rubric):
    from grader.flags import subject_comparison
    from grader.rubric import Question

    pattern = subject_comparison(rubric.question("q1"))
    for text in ["It's kind of like Stakhanovism.", "This is similar to the Five-Year Plans.",
                 "Like the Five-Year Plans, the New Deal wanted jobs.", "which was just like Stakhanovites"]:
        assert pattern.search(text), text
    for text in ["Workers were treated like slackers.", "It looked like new.", "cities like Manchester grew"]:
        assert not pattern.search(text), text
    assert subject_comparison(Question("x", "What is a pointer?", ("An address in memory.",))) is None


PADDED = ("In conclusion, there are many different things to say about this question and it is important to look at "
          "both sides. History shows that the past always shapes the future in many ways, and historians have debated "
          "it for a long time. Stakhanovism was one of the things that happened, and overall it is very important to "
          "remember the good side and the bad side of it. We can learn a lot from it.")


def test_padding_is_flagged_but_a_long_answer_with_a_conclusion_is_not(rubric):
    assert "padding" in flags_of(rubric, ("q3", PADDED))[0]
    concluded = (GOOD["q3"] + " Overall, it is important to see both sides: output rose at first, but in conclusion "
                 "the pressure did lasting damage to morale and to the quality of Soviet goods.")
    assert flags_of(rubric, ("q3", concluded)) == [[]]


def test_a_passage_copied_from_the_course_reading_counts_as_copying(rubric):
    passage = " ".join(rubric.sources[1].split(". ")[4:7])   # three sentences of the bundled essay on Freeze
    [codes] = flags_of(rubric, ("q2", passage))
    assert "copies_model_answer" in codes


@pytest.mark.parametrize("text, label", [
    ("Workers who weren't Stakhanovites often hated them, because their own norms went up.", "resentment among workers"),
    ("The happy workers on the propaganda posters were not what most people lived.", "propaganda"),
    ("Not all workers resented the Stakhanovites, but many did.", "resentment among workers"),
])
def test_who_someone_is_or_a_partial_negation_does_not_deny_the_concept(rubric, text, label):
    [result] = grade_texts(rubric, ("q2", text))
    assert {c.label: c.status for c in result.concepts}[label] != "negated"


def test_a_denial_is_still_a_denial(rubric):
    [result] = grade_texts(rubric, ("q2", "There was no propaganda, and the Stakhanovites were not rewarded at all."))
    assert {c.label: c.status for c in result.concepts}["propaganda"] == "negated"


def test_terse_sentences_that_repeat_terms_are_no_keyword_list_nor_stuffing():
    from grader.rubric import rubric_from_dict
    rubric = rubric_from_dict({"questions": [{
        "id": "g1", "prompt": "How do rivers and glaciers shape valleys differently?",
        "model_answers": ["A river cuts a narrow V-shaped valley by eroding its bed. A glacier scrapes a wide "
                          "U-shaped valley, eroding the floor and the sides."]}]})
    terse = "Rivers carve V-shaped valleys and glaciers carve U-shaped valleys."
    contrast = ("A river erodes its bed and cuts a narrow V-shaped valley, a glacier erodes the floor and the sides "
                "and scrapes out a wide U-shaped valley.")
    listed = "river glacier valley V-shaped U-shaped eroding bed floor sides narrow wide"
    assert flags_of(rubric, ("g1", terse), ("g1", contrast)) == [[], []]
    assert "keyword_list" in flags_of(rubric, ("g1", listed))[0]


def test_a_short_correct_answer_close_to_a_long_model_answer_is_no_copy():
    from grader.rubric import rubric_from_dict
    model = ("Plants need light to make their food by photosynthesis. In the chloroplasts, chlorophyll absorbs light "
             "energy, which is used to turn carbon dioxide from the air and water from the soil into glucose, and "
             "oxygen is released as a waste product of the reaction.")
    rubric = rubric_from_dict({"questions": [{"id": "p1", "prompt": "Why do plants need light?", "model_answers": [model]}]})
    own = ("Plants need light for photosynthesis: chlorophyll in the chloroplasts absorbs light energy and uses it to "
           "turn carbon dioxide and water into glucose, releasing oxygen.")
    assert "copies_model_answer" not in flags_of(rubric, ("p1", own))[0]


def test_an_answer_saying_it_does_not_know_gets_zero_even_alone(tmp_path):
    # Graded alone with an imported rubric (no class to compare with), the general model's
    # intercept alone gave such answers marks.
    from grader.importer import import_questions
    questions = tmp_path / "questions.csv"
    questions.write_text("question_id,prompt,model_answer\n"
                         "g1,Which gas do plants take in for photosynthesis?,carbon dioxide\n", encoding="utf-8")
    rubric = import_questions(questions).rubric
    for text in ("idk", "I don't know", "no clue", "??", "Not sure."):
        result = grade(rubric, [Answer("s1", "g1", text, "test")])[0]
        assert result.score == 0.0 and result.flag_codes == ["no_answer"], text
        assert result.feedback[-1] == "No answer was given; even a partial answer can earn some marks."
    for text in ("carbon dioxide", "none", "I know it is carbon dioxide"):
        assert "no_answer" not in grade(rubric, [Answer("s1", "g1", text, "test")])[0].flag_codes, text
