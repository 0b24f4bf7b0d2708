"""Timelines: recognising the wordings, and the timeline of a small story told over many days."""

from __future__ import annotations

from datetime import date

import pytest

from bot.service import NewsdeskService
from retrieval.search import SearchFilters
from retrieval.timeline_wording import TimelineQuestion, timeline_question
from tests.timeline_corpus import BACKGROUND, EVENTS, LATER, PREVIEW, timeline_articles

ARCHIVE_END = date(2024, 3, 29)


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("Timeline of the Uvalde shooting", TimelineQuestion("the Uvalde shooting")),
        ("timeline for Kessler Bridge?", TimelineQuestion("Kessler Bridge")),
        ("Give me a timeline of the Twitter takeover", TimelineQuestion("the Twitter takeover")),
        ("Kessler Bridge timeline", TimelineQuestion("Kessler Bridge")),
        ("How did the Twitter takeover unfold?", TimelineQuestion("the Twitter takeover")),
        ("How has the Sri Lanka crisis developed?", TimelineQuestion("the Sri Lanka crisis")),
        ("How did the Depp trial play out?", TimelineQuestion("the Depp trial")),
        ("What are the key events in the Depp trial?", TimelineQuestion("the Depp trial")),
        ("What were the turning points of the war?", TimelineQuestion("the war")),
        (
            "What happened with Kessler Bridge since March?",
            TimelineQuestion("Kessler Bridge", since=date(2024, 3, 1)),
        ),
        (
            "What happened to Roe v. Wade between May and July 2022?",
            TimelineQuestion("Roe v. Wade", date(2022, 5, 1), date(2022, 7, 31)),
        ),
        (
            "Timeline of the strike until 2022-06-30",
            TimelineQuestion("the strike", until=date(2022, 6, 30)),
        ),
        (
            "How has the war developed since February 24, 2022?",
            TimelineQuestion("the war", since=date(2022, 2, 24)),
        ),
        ("What happened with the bridge so far?", TimelineQuestion("the bridge")),
    ],
)
def test_timeline_wordings_are_recognised(question: str, expected: TimelineQuestion) -> None:
    assert timeline_question(question, ARCHIVE_END) == expected


@pytest.mark.parametrize(
    "question",
    [
        "What happened with the Kessler Bridge?",  # one event, not a stretch of time
        "What did Blinken say about a multinational force?",
        "How did Blinken react?",
        "Who won the election since it was called?",
        "What do you have on the Kessler Bridge?",
    ],
)
def test_other_questions_are_not_timelines(question: str) -> None:
    assert timeline_question(question, ARCHIVE_END) is None


def test_a_month_without_a_year_is_the_latest_one_before_the_reference_day() -> None:
    asked = timeline_question("What happened with the bridge since November?", ARCHIVE_END)
    assert asked == TimelineQuestion("the bridge", since=date(2023, 11, 1))


@pytest.fixture
def story(timeline_service: NewsdeskService) -> NewsdeskService:
    return timeline_service


def test_timeline_is_one_cited_event_per_day_in_date_order(story: NewsdeskService) -> None:
    answer = story.ask("Timeline of the Kessler Bridge")

    assert not answer.abstained and answer.timeline is not None
    days = [event.date for event in answer.timeline.events]
    assert days == sorted(days) and len(days) == len(set(days))  # newest last, one line a day
    assert "2024-03-11" not in days  # that day's article only looks ahead to the vote
    assert len(days) == 12 and answer.timeline.more == 2  # 14 days: 12 now, "more" for the rest
    quotes = {c.date: c.quote for c in answer.citations}
    for day, sentence in EVENTS.items():  # what happened, over preview and background
        assert quotes[day] == sentence
    assert PREVIEW not in quotes.values() and BACKGROUND not in quotes.values()
    assert len(set(quotes.values())) == len(quotes)  # the wire copy repeats no line
    assert "Fenwick" not in answer.answer
    articles = {a["id"]: a["text"] for a in timeline_articles()}
    for citation, event in zip(answer.citations, answer.timeline.events, strict=True):
        assert articles[citation.article_id][citation.start : citation.end] == citation.quote
        assert (event.n, event.date, event.source) == (citation.n, citation.date, citation.source)
        assert event.sentence == citation.quote.strip()
    first = answer.answer.splitlines()[0]
    assert first == f"4 Mar 2024 — {EVENTS['2024-03-04']} (Westmere Herald) [1]"


def test_more_pages_on_through_the_timeline(story: NewsdeskService) -> None:
    first = story.ask("How did the Kessler Bridge saga unfold?", session_id="paging")
    rest = story.more(first.session_id)

    assert rest.timeline is not None and rest.timeline.offset == 12 and rest.timeline.more == 0
    days = [event.date for event in rest.timeline.events]
    assert days == [day for day, _ in LATER[-2:]]
    assert [c.quote for c in rest.citations] == [sentence for _, sentence in LATER[-2:]]
    assert [c.n for c in rest.citations] == [1, 2]


def test_since_and_until_bound_the_timeline(story: NewsdeskService) -> None:
    bounded = story.timeline(
        "Kessler Bridge", filters=SearchFilters(since=date(2024, 3, 5), until=date(2024, 3, 14))
    )
    assert [e.date for e in bounded.timeline.events] == [
        "2024-03-05", "2024-03-08", "2024-03-14"
    ]  # fmt: skip
    worded = story.ask("What happened with the Kessler Bridge since March 20?")
    assert worded.timeline.events[0].date == "2024-03-20"
    assert all(e.date >= "2024-03-20" for e in worded.timeline.events)


def test_a_timeline_of_nothing_held_abstains(story: NewsdeskService) -> None:
    answer = story.timeline("the Mars colony referendum")
    assert answer.abstained and answer.timeline is None and answer.citations == []
    assert "the Mars colony referendum" in answer.answer
    outside = story.timeline("Kessler Bridge", filters=SearchFilters(since=date(2025, 1, 1)))
    assert outside.abstained and outside.abstain_reason == "no_match"
