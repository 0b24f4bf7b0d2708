"""Coverage questions: "What do you have on X?" counts what the archive holds on X.

Real model and index over a small corpus: three articles on a Marburg outbreak from two
outlets in two months (one a wire copy of another), one on measles, one on interest rates.
"""

from __future__ import annotations

from datetime import date

import pytest

from retrieval.coverage import coverage_topic
from retrieval.search import SearchFilters
from tests.conftest import service_over

OUTBREAK = (
    "The World Health Organization said the Marburg outbreak in Kagera was contained after 42 "
    "days without a new case. Local clinics reopened on Monday and schools followed. Health "
    "workers traced 212 contacts, and none fell ill. The ministry thanked the volunteers who "
    "went from village to village with thermometers and leaflets."
)
ARTICLES = [
    {"id": "who", "title": "Marburg outbreak contained", "source": "Health Desk",
     "date": "2023-05-02", "text": OUTBREAK},
    {"id": "wire", "title": "WHO: Marburg outbreak over", "source": "Capital Wire",
     "date": "2023-05-03", "text": OUTBREAK + " A correction was appended."},
    {"id": "first", "title": "Marburg cases confirmed in Kagera", "source": "Health Desk",
     "date": "2023-03-21", "text": "Tanzania confirmed its first Marburg outbreak on Tuesday. "
     "Eight cases were reported in Kagera and five people died."},
    {"id": "measles", "title": "Measles outbreak in the north", "source": "Capital Wire",
     "date": "2023-04-10", "text": "A measles outbreak closed two schools in the north."},
    {"id": "rates", "title": "Rates stay high", "source": "Daily Ledger", "date": "2023-04-11",
     "text": "The central bank kept interest rates high for a third month."},
]  # fmt: skip


@pytest.fixture(scope="module")
def newsroom(tmp_path_factory, embedder):
    return service_over(tmp_path_factory.mktemp("coverage"), ARTICLES, embedder)


@pytest.mark.parametrize(
    ("question", "topic"),
    [
        ("What do you have on the Marburg outbreak?", "the Marburg outbreak"),
        ("what do you have about Liz Truss", "Liz Truss"),
        ("What have you got on interest rates?", "interest rates"),
        ("How much coverage of the World Cup is there?", "the World Cup"),
        ("How much coverage of the World Cup?", "the World Cup"),
        ("What coverage do you have on Gaza?", "Gaza"),
        ("What did Blinken say about a multinational force?", None),
    ],
)
def test_coverage_questions_are_recognised(question: str, topic: str | None):
    assert coverage_topic(question) == topic


def test_coverage_counts_articles_outlets_months_and_stories(newsroom):
    found = newsroom.coverage("Marburg outbreak")

    assert found.articles == 3  # not the measles outbreak, which has one of the two words
    assert found.by_source == [("Health Desk", 2), ("Capital Wire", 1)]
    assert found.by_month == [("2023-03", 1), ("2023-05", 2)]
    assert (found.first_date, found.last_date) == ("2023-03-21", "2023-05-03")
    assert found.stories == 2  # the wire copy tells the WHO story again
    assert {h.article_id for h in found.headlines} <= {"who", "wire", "first"}
    assert len({h.article_id for h in found.headlines}) == len(found.headlines) == 2


def test_coverage_keeps_to_the_filters(newsroom):
    found = newsroom.coverage("Marburg outbreak", SearchFilters(since=date(2023, 5, 1)))
    assert (found.articles, found.by_month) == (2, [("2023-05", 2)])
    only = newsroom.coverage("Marburg outbreak", SearchFilters(sources=("capital wire",)))
    assert only.by_source == [("Capital Wire", 1)]


def test_a_topic_no_article_mentions_counts_nothing(newsroom):
    found = newsroom.coverage("Norwegian salmon")
    assert (found.articles, found.stories, found.headlines) == (0, 0, [])
    answer = newsroom.ask("What do you have on Norwegian salmon?")
    assert answer.answer == "None of my articles mention Norwegian salmon."


def test_asking_what_the_archive_has_answers_with_the_coverage(newsroom):
    answer = newsroom.ask("What do you have on the Marburg outbreak?")

    assert answer.coverage is not None and answer.coverage.articles == 3
    assert not answer.abstained and answer.citations == []
    lines = answer.answer.splitlines()
    assert (
        lines[0] == "3 articles mention the Marburg outbreak (2 stories), 21 Mar 2023 – 3 May 2023."
    )
    assert lines[1] == "By outlet: Health Desk 2, Capital Wire 1."
    assert lines[2] == "By month: Mar 2023 1, May 2023 2."
    assert lines[3] == "Most relevant:" and "(Health Desk, " in answer.answer
