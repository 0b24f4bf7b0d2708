"""Outcome questions: recognised from their asking clause, answered from the reports after the
event rather than the previews before it, with an updated count noted against the earlier one."""

from __future__ import annotations

import re
import shutil
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest

from retrieval.count_updates import describe_change
from retrieval.outcome_preference import OutcomePreference
from retrieval.outcomes import OutcomeQuestion, earliest_day
from retrieval.search import Passage

REPO = Path(__file__).resolve().parents[2]

# --- which questions ask for an outcome ------------------------------------------------------


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("Who won Super Bowl 57?", "win"),
        ("What was the final score of the Super Bowl?", "win"),
        ("Who was elected mayor of Chicago?", "win"),
        ("Who claimed victory in Italy's September 2022 general election?", "win"),
        ("How many people died in the earthquake?", "death"),
        ("What is the death toll from the floods in Libya?", "death"),
        ("Did the Senate pass the marriage bill?", "law"),
        ("What was the verdict in the Depp trial?", "court"),
        ("Brittney Griner was sentenced to how many years in prison?", "court"),
        ("Who lost the runoff in Georgia?", "loss"),
    ],
)
def test_outcome_questions_are_recognised_with_their_kind(question, kind):
    asked = OutcomeQuestion.of(question)

    assert asked is not None
    assert kind in asked.kinds


@pytest.mark.parametrize(
    "question",
    [
        "What did Blinken say about a multinational force?",
        "Which country backs Hezbollah?",
        "Which tennis star said they won't play at this year's US Open?",
        # The outcome is the premise; what is asked is something else.
        "Actor Tony Dow died this week at 77. He was best known for his role on which TV show?",
    ],
)
def test_other_questions_ask_no_outcome(question):
    assert OutcomeQuestion.of(question) is None


def test_a_loss_is_answered_by_a_win_too():
    asked = OutcomeQuestion.of("Who lost the runoff in Georgia?")

    assert asked is not None
    assert asked.signal("Raphael Warnock beat Herschel Walker in the runoff.") == 1.0


def test_only_how_many_questions_count_something():
    died = OutcomeQuestion.of("How many people died in the earthquake in Turkey?")
    won = OutcomeQuestion.of("Who won the earthquake relief award?")

    assert died is not None and died.counts and "killed" in died.counted  # any death word
    assert won is not None and not won.counts


# --- what a sentence says about the outcome --------------------------------------------------

WIN = OutcomeQuestion(("win",))


@pytest.mark.parametrize(
    ("sentence", "signal"),
    [
        ("Patrick Mahomes and the Kansas City Chiefs are the winners of Super Bowl 57.", 1.0),
        ("The Chiefs beat the Philadelphia Eagles 38-35 on Sunday.", 1.0),
        ("Argentina has been crowned the World Cup champion after beating France.", 1.0),
        ("Giorgia Meloni has claimed victory in an election that seems set to install her.", 1.0),
        ("In May the Avalanche won the Stanley Cup.", 1.0),  # May the month, not the modal
        ("Soon, the Eagles and the Chiefs will go head-to-head in Super Bowl 57.", -1.0),
        ("Bookmakers make the Eagles narrow favourites.", -1.0),
        ("The Rams could be crowned champions on Sunday.", -1.0),
        ("If Gustavo Petro wins on June 19, he will be Colombia's first leftist leader.", -1.0),
        ("Winners of the MTV Video Music Awards will be revealed Sunday.", -1.0),
        ("Gustavo Petro will become president after winning the runoff on Sunday.", 0.5),
        ("The game takes place at SoFi Stadium in Los Angeles.", 0.0),
        # A pronoun as the winner says no one's name: not the answer to "who won".
        ("Now she has a championship to go along with a title she won in college.", 0.0),
        ("In 2016, when she won her House seat, the field was fractured.", 0.0),
        ("They finally beat the Sun in Game 4.", 0.0),
        # The present tense of chronologies and headlines, after a name.
        ("The Los Angeles Rams defeat the Cincinnati Bengals, 23-20.", 1.0),
        ("November 5 - The Houston Astros win the World Series in Game 6.", 1.0),
        ("If the Astros win on Saturday, the series is over.", -1.0),
    ],
)
def test_a_sentence_states_speculates_or_neither(sentence, signal):
    assert WIN.signal(sentence) == signal


def test_a_stated_outcome_counts_only_when_it_is_of_the_kind_asked():
    assert WIN.signal("She is the latest of many activists who lost their lives.") == 0.0
    died = OutcomeQuestion.of("How many people died in the floods?")
    assert died is not None
    assert died.signal("At least 5,300 people died in the floods.") == 1.0
    assert died.signal("The Eagles beat the Chiefs.") == 0.0


def _passage_of(text: str) -> Passage:
    """A passage of `text` split at each full stop followed by a space or a blank line."""
    starts = [0] + [m.end() for m in re.finditer(r"(?<=\.)\s+", text)]
    ends = [m.start() + 1 for m in re.finditer(r"\.(?=\s|$)", text)]
    sentences = tuple(zip(starts, ends, strict=True))
    return Passage(0, "a", "t", None, None, None, text, 0, len(text), sentences, 0.0)


def test_a_scene_and_the_result_after_it_are_read_together():
    question = OutcomePreference(OutcomeQuestion.of("Who won Super Bowl LVI?"))
    passage = _passage_of(
        "February 13 - Super Bowl LVI takes place at SoFi Stadium in Los Angeles. "
        "The Los Angeles Rams defeat the Cincinnati Bengals, 23-20. "
        "It is just the second time a team played on its home field."
    )

    spans = question.spans(passage)

    assert spans[:3] == list(passage.sentences)
    joined = [passage.text[a:b] for a, b in spans[3:]]
    assert joined == [
        "February 13 - Super Bowl LVI takes place at SoFi Stadium in Los Angeles. "
        "The Los Angeles Rams defeat the Cincinnati Bengals, 23-20."
    ]


@pytest.mark.parametrize(
    "text",
    [
        # The next sentence does not open with a named winner …
        "The final takes place in Denver. After a long night, the Avalanche won it.",
        # … the first already states an outcome …
        "The Avalanche beat the Lightning on Sunday. The Avalanche won the Stanley Cup.",
        # … or a paragraph lies between them.
        "The final takes place in Denver.\n\nThe Avalanche won the Stanley Cup.",
    ],
)
def test_other_neighbours_are_not_joined(text):
    question = OutcomePreference(OutcomeQuestion.of("Who won the Stanley Cup?"))
    passage = _passage_of(text)

    assert question.spans(passage) == list(passage.sentences)


def test_a_question_about_no_outcome_reads_single_sentences():
    passage = _passage_of("The final takes place in Denver. The Avalanche won the Stanley Cup.")

    assert OutcomePreference(None).spans(passage) == list(passage.sentences)


@pytest.mark.parametrize(
    ("sentence", "figure"),
    [
        ("The death toll rose to 11,000 on Thursday.", 11_000),
        ("A magnitude 7.8 quake killed 5,000 people.", 5_000),
        ("More than 1.2 million people died of the disease in 2019.", 1_200_000),
        ("Deaths fell 20% from the year before.", None),
        ("The hospital treated 300 patients for burns.", None),
    ],
)
def test_the_figure_of_what_is_counted(sentence, figure):
    asked = OutcomeQuestion.of("How many people died?")

    assert asked is not None
    assert asked.figure(sentence) == figure


# --- when the question's events can have happened -------------------------------------------

AS_OF = date(2022, 12, 30)


@pytest.mark.parametrize(
    ("question", "earliest"),
    [
        ("Who won the 2022 World Cup?", date(2022, 1, 1)),
        ("Who won the Georgia Senate runoff in December 2022?", date(2022, 12, 1)),
        ("Which country elected a leftist leader this week?", date(2022, 12, 23)),
        ("After the Queen's death in September, who took the throne?", date(2022, 9, 1)),
        ("What is the capital of France?", None),
    ],
)
def test_the_earliest_day_a_question_names(question, earliest):
    assert earliest_day(question, AS_OF) == earliest


def passage(published: str, text: str = "A report.") -> Passage:
    return Passage(
        1, "a", "Title", "Wire", published, None, text, 0, len(text), ((0, len(text)),), 1.0
    )


def test_the_latest_report_on_or_before_as_of_is_preferred():
    reports = [passage("2023-02-13"), passage("2023-02-06"), passage("2023-03-01")]
    preference = OutcomePreference.of("Who won Super Bowl 57?", reports, date(2023, 2, 20))
    won = "The Chiefs won Super Bowl 57."

    latest, week_older, later = (preference.score(p, won, 1.0) for p in reports)

    assert latest > week_older > later  # a report after as_of was not out yet on the day
    assert latest - week_older == pytest.approx(preference.recency_weight / 2)
    assert preference.score(reports[0], "The Eagles will win Super Bowl 57.", 1.0) < 0


def test_an_article_from_before_the_named_year_is_at_most_a_preview():
    old, new = passage("2021-10-17"), passage("2022-09-19")
    preference = OutcomePreference.of("Who won the 2022 WNBA title?", [old, new], date(2022, 11, 9))
    won = "The Sky won the WNBA title."

    assert preference.score(old, won, 1.0) == -preference.outcome_weight
    assert preference.score(new, won, 1.0) > 0


def test_an_outcome_of_another_event_earns_little():
    report = passage("2022-06-26")
    preference = OutcomePreference.of("Who won the 2022 Stanley Cup?", [report], date(2022, 7, 1))
    fresh = preference.recency_weight

    other_season = preference.score(report, "The Lightning won the Cup in 2020 and 2021.", 1.0)
    off_topic = preference.score(report, "The AFC beat the NFC in the Pro Bowl.", 0.1)
    on_topic = preference.score(report, "The Avalanche won the 2022 Stanley Cup.", 1.0)

    assert other_season == pytest.approx(fresh)
    assert fresh < off_topic < on_topic


def test_the_change_names_the_earlier_figure_and_its_day():
    latest = date(2023, 2, 10)

    up = describe_change(21_000, 5_000, "5,000", date(2023, 2, 7), latest)
    down = describe_change(21_000, 30_000, "30,000", date(2022, 12, 30), latest)

    assert up == "up from 5,000 reported on 7 Feb"
    assert down == "down from 30,000 reported on 30 Dec 2022"


# --- end to end, with the real model and index ------------------------------------------------

ARTICLES = {
    "preview.md": (
        "Super Bowl 57 preview: Eagles and Chiefs go head-to-head",
        "2023-02-10",
        "Sports Desk",
        "Soon, the Philadelphia Eagles and Kansas City Chiefs will go head-to-head in Super "
        "Bowl 57 in Glendale, Arizona. Whoever lifts the trophy, Super Bowl 57 will be won in "
        "the trenches, analysts say. Bookmakers make the Eagles narrow favourites, and Jalen "
        "Hurts could become the first Black quarterback to win two titles in a row.",
    ),
    "report.md": (
        "Chiefs rally past Eagles in Glendale",
        "2023-02-13",
        "Wire Service",
        "Patrick Mahomes and the Kansas City Chiefs are the winners of Super Bowl 57. The "
        "Chiefs beat the Philadelphia Eagles 38-35 on a late field goal by Harrison Butker, "
        "and Mahomes was named the game's most valuable player for the second time.",
    ),
    "quake-early.md": (
        "Thousands dead as earthquake strikes Turkey and Syria",
        "2023-02-07",
        "Wire Service",
        "At least 5,000 people died in the earthquake that struck southern Turkey and northern "
        "Syria on Monday, officials said on Tuesday. Rescue teams from dozens of countries "
        "searched collapsed buildings through the night in freezing weather.",
    ),
    "quake-later.md": (
        "Earthquake deaths pass 21,000 as hopes of finding survivors fade",
        "2023-02-10",
        "Daily Courier",
        "The number of people who died in the earthquake in southern Turkey and northern Syria "
        "has risen to 21,000, officials said on Friday. Aid convoys reached the worst-hit "
        "towns in Hatay province as temperatures fell below freezing.",
    ),
}


@pytest.fixture(scope="module")
def outcomes_service(tmp_path_factory, embedder):
    """A service over the seed articles plus a Super Bowl preview and report, and two reports of
    an earthquake's death toll three days apart."""
    from bot.service import NewsdeskService
    from index.build import build_index
    from tests.conftest import settings_for

    root = tmp_path_factory.mktemp("outcomes")
    corpus = root / "corpus"
    shutil.copytree(REPO / "corpus", corpus)
    for name, (title, published, source, text) in ARTICLES.items():
        front = f'---\ntitle: "{title}"\ndate: {published}\nsource: {source}\n---\n\n'
        (corpus / name).write_text(front + text + "\n")
    build_index(corpus, root / "index", embedder)
    return NewsdeskService(settings_for(root / "index", corpus=corpus), embedder)


def compose(service, question: str, as_of: date, **tuning: float):
    from retrieval.answer import compose_answer

    state = service._state
    passages = service.search(question, k=5, as_of=as_of)
    return compose_answer(
        question,
        passages,
        state.reader.lexical,
        state.summary,
        replace(service.answer_tuning, **tuning),
        as_of=as_of,
    )


def test_the_report_after_the_game_is_cited_before_the_preview(outcomes_service):
    question, after_the_game = "Who won Super Bowl 57?", date(2023, 2, 20)
    # Read for its words alone, the preview matches the question better …
    by_words = compose(
        outcomes_service, question, after_the_game, outcome_weight=0.0, recency_weight=0.0
    )
    assert by_words.citations[0].title.startswith("Super Bowl 57 preview")

    answer = outcomes_service.ask(question, as_of=after_the_game)

    # … but the answer states the outcome, from the report.
    first = answer.citations[0]
    assert (first.source, first.date) == ("Wire Service", "2023-02-13")
    assert "Kansas City Chiefs" in answer.answer.split("[1]")[0]
    assert not any(c.title.startswith("Super Bowl 57 preview") for c in answer.citations)


def test_a_rising_death_toll_is_answered_with_the_latest_figure_and_the_earlier_one(
    outcomes_service,
):
    answer = outcomes_service.ask(
        "How many people died in the earthquake in Turkey and Syria?", as_of=date(2023, 2, 12)
    )

    latest, earlier = answer.citations[:2]
    assert (latest.date, earlier.date) == ("2023-02-10", "2023-02-07")
    assert "21,000" in latest.quote and "5,000" in earlier.quote
    assert answer.answer.startswith(f"{latest.quote} [1] (up from 5,000 reported on 7 Feb [2])")
    assert answer.answer.count("5,000") == 1  # the earlier figure is noted, not quoted again
    text = outcomes_service.article(earlier.article_id)["text"]
    assert text[earlier.start : earlier.end] == earlier.quote


def test_as_of_between_the_reports_gives_the_figure_known_that_day(outcomes_service):
    answer = outcomes_service.ask(
        "How many people died in the earthquake in Turkey and Syria?", as_of=date(2023, 2, 8)
    )

    first = answer.citations[0]
    assert first.date == "2023-02-07" and "5,000" in first.quote
    assert "up from" not in answer.answer


HARBOR_CUP_PREVIEWS = [
    "Who will win the Harbor Cup final? The Gulls and the Pelicans will meet in the Harbor Cup "
    f"final on Sunday, and {detail}"
    for detail in (
        "the Gulls are favourites to win the Harbor Cup final.",
        "tickets for the Harbor Cup final sold out in an hour.",
        "the Pelicans hope to win their first Harbor Cup final.",
        "fans expect the Harbor Cup final to be close.",
        "bookmakers give the Gulls the edge in the Harbor Cup final.",
        "the Harbor Cup final could go to penalties, coaches say.",
    )
]


def test_an_outcome_reported_below_many_previews_is_still_found(tmp_path, embedder):
    from tests.conftest import service_over

    previews = [
        {"id": f"preview-{n}", "title": f"Harbor Cup final preview {n}", "source": "Sports Desk",
         "date": f"2024-05-0{n + 1}", "text": text}
        for n, text in enumerate(HARBOR_CUP_PREVIEWS)
    ]  # fmt: skip
    report = {
        "id": "report", "title": "Pelicans lift the trophy", "source": "Wire Service",
        "date": "2024-05-12",
        "text": "The Pelicans beat the Gulls 3-1 in the Harbor Cup final on Sunday. "
        "Their captain scored twice in the second half.",
    }  # fmt: skip
    service = service_over(tmp_path, [*previews, report], embedder)

    answer = service.ask("Who won the Harbor Cup final?", as_of=date(2024, 5, 20))

    assert answer.citations[0].article_id == "report"
    assert "The Pelicans beat the Gulls" in answer.answer.split("[1]")[0]


def test_a_chronology_line_is_answered_with_the_result_after_it(tmp_path, embedder):
    from tests.conftest import service_over

    review = {
        "id": "review", "title": "The year in sport", "source": "Sports Desk",
        "date": "2024-12-20",
        "text": "March 3 - The Lake Marathon takes place. Ana Ruiz wins the women's race.\n\n"
        "May 12 - The Harbor Cup final takes place at the old quay stadium. The Pelicans "
        "defeat the Gulls 3-1. It is the first final played at the quay.\n\n"
        "June 9 - The River Regatta is held in Millbrook. Crews from nine towns take part.",
    }  # fmt: skip
    preview = {
        "id": "preview", "title": "Harbor Cup final preview", "source": "Sports Desk",
        "date": "2024-05-10",
        "text": "The Harbor Cup final takes place on Sunday. Fans of both sides fill the harbour.",
    }  # fmt: skip
    service = service_over(tmp_path, [review, preview], embedder)

    answer = service.ask("Who won the Harbor Cup final?", as_of=date(2024, 12, 28))

    first = answer.citations[0]
    assert first.article_id == "review"
    assert first.quote == (
        "May 12 - The Harbor Cup final takes place at the old quay stadium. "
        "The Pelicans defeat the Gulls 3-1."
    )
    assert answer.answer.startswith(f"{first.quote} [1]")
    assert service.article("review")["text"][first.start : first.end] == first.quote
