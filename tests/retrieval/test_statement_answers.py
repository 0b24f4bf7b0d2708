"""What did X say, and who said it: answers from the person's own statements, named and dated.

Real model and index, over the seed article and over a small corpus where a journalist, an
analyst and the person asked about all speak of the same topic.
"""

from __future__ import annotations

from datetime import date

import pytest

from retrieval.schema import Answer
from tests.conftest import service_over
from tests.retrieval.test_answers import assert_citations_are_exact

ABOUT_POWELL = [
    {
        "id": "analyst",
        "title": "Economists weigh Powell's interest rate plan",
        "source": "Daily Ledger",
        "date": "2024-03-04",
        "text": "Federal Reserve Chair Jerome Powell is expected to keep interest rates high. "
        "Mark Zandi, chief economist at Moody's Analytics, said Powell's plan to raise "
        "interest rates again would slow hiring across the country. "
        "Markets fell on the news, and traders expect a long pause.",
    },
    {
        "id": "column",
        "title": "Opinion: The Fed and interest rates",
        "source": "Evening Post",
        "date": "2024-03-05",
        "text": "Interest rates are the story of the year. "
        "In her column, Anna Reed wrote that Powell's interest rate plan was reckless and that "
        "Powell should cut interest rates before the summer. "
        "Readers disagreed in their letters.",
    },
    {
        "id": "powell",
        "title": "Fed chair speaks in Washington",
        "source": "Capital Wire",
        "date": "2024-03-06",
        "text": "Federal Reserve Chair Jerome Powell addressed reporters in Washington on "
        "Wednesday after a two-day meeting on interest rates.\n\n"
        "“We are prepared to raise rates further if inflation does not come down,” he said. "
        "The meeting ended without a change.",
    },
    {
        "id": "outbreak",
        "title": "Marburg outbreak contained",
        "source": "Health Desk",
        "date": "2024-03-07",
        "text": "The World Health Organization said the Marburg outbreak in the region was "
        "contained after 42 days without a new case. Local clinics reopened.",
    },
]


@pytest.fixture(scope="module")
def powell(tmp_path_factory, embedder):
    return service_over(tmp_path_factory.mktemp("powell"), ABOUT_POWELL, embedder)


def lead(answer: Answer) -> str:
    return answer.answer.split("[1]", 1)[0]


def test_the_seed_question_quotes_blinken_by_name_and_date(service):
    answer = service.ask("What did Blinken say about a multinational force?")
    first = answer.citations[0]
    assert first.quote.startswith("declined to comment on the possibility of a multinational force")
    assert (first.source, first.date, first.speaker) == (
        "Bloomberg",
        "2023-11-03",
        "Antony Blinken",
    )
    assert lead(answer) == f"Antony Blinken {first.quote} (Bloomberg, 3 Nov 2023) "
    assert not answer.answer.startswith(("But", "He", "he"))
    assert_citations_are_exact(answer, service)


def test_who_said_names_the_speaker_first(service):
    answer = service.ask("Who said a two-state solution was the only viable path forward?")
    assert lead(answer).startswith("Antony Blinken said a two-state solution")
    assert answer.citations[0].speaker == "Antony Blinken"
    assert_citations_are_exact(answer, service)


def test_the_person_asked_about_is_quoted_not_those_talking_about_them(powell):
    answer = powell.ask("What did Powell say about interest rates?")
    first = answer.citations[0]
    assert first.article_id == "powell"  # not the analyst's nor the columnist's words
    assert first.quote == "We are prepared to raise rates further if inflation does not come down"
    assert first.speaker == "Jerome Powell"  # "he" in the next paragraph, resolved
    assert lead(answer).startswith(
        f"“{first.quote},” Jerome Powell said (Capital Wire, 6 Mar 2024)"
    )
    assert all(c.speaker == "Jerome Powell" for c in answer.citations)
    assert_citations_are_exact(answer, powell)


def test_others_statements_are_cited_with_their_own_speaker(powell):
    answer = powell.ask("What did Anna Reed write about interest rates?")
    assert answer.citations[0].article_id == "column"
    assert answer.citations[0].speaker == "Anna Reed"
    assert lead(answer).startswith("Anna Reed wrote that Powell's interest rate plan")


def test_no_statement_by_the_person_on_the_topic_is_an_abstention_that_says_so(powell):
    answer = powell.ask("What did Anna Reed say about the two-day meeting?")
    assert answer.abstained and answer.citations == []
    assert answer.abstain_reason == "no_statement_by_speaker"
    assert answer.answer == (
        "I found no statement by Anna Reed about the two-day meeting in these articles "
        "(4 articles, 2024-03-04 – 2024-03-07)."
    )


def test_a_statement_from_an_article_holding_little_of_the_topic_is_no_answer(powell):
    # Powell's article mentions Washington, but nothing of hiring or traders.
    answer = powell.ask("What did Powell say about hiring and traders in Washington?")
    assert answer.abstained and answer.abstain_reason == "no_statement_by_speaker"


def test_a_body_asked_about_by_its_acronym_is_found_under_its_full_name(powell):
    answer = powell.ask("What did the WHO say about the Marburg outbreak?")
    assert answer.citations[0].speaker == "World Health Organization"
    assert lead(answer).startswith("World Health Organization said the Marburg outbreak")


def test_statements_from_filtered_out_sources_are_not_quoted(powell):
    from retrieval.search import SearchFilters

    answer = powell.ask(
        "What did Powell say about interest rates?",
        filters=SearchFilters(sources=("Daily Ledger",)),
    )
    assert all(c.source == "Daily Ledger" for c in answer.citations)


ABOUT_THE_INVASION = [
    {
        "id": "press-conference",
        "title": "Alliance chief condemns the invasion",
        "source": "Capital Wire",
        "date": "2024-02-24",
        "text": "Alliance Secretary-General Ann Keller spoke in Brussels on Saturday. "
        "Keller said the invasion of the country was a violation of international law and "
        "that the invasion of the country must end at once. Ministers meet again next week.",
    },
    {
        "id": "statement",
        "title": "Allies respond to the attack",
        "source": "Daily Ledger",
        "date": "2024-02-24",
        "text": "Allies spent the day in talks about the country. "
        "Ann Keller called the invasion a “brutal act of war.” Markets fell in the morning.",
    },
]


def test_what_someone_called_a_thing_quotes_the_words_they_used(tmp_path, embedder):
    service = service_over(tmp_path, ABOUT_THE_INVASION, embedder)
    answer = service.ask("What did Ann Keller call the invasion of the country?")
    first = answer.citations[0]
    assert first.article_id == "statement"  # not the statement that repeats more of the words
    assert "“brutal act of war.”" in first.quote
    assert first.speaker == "Ann Keller"  # the hyphenated title is no part of the name
    assert_citations_are_exact(answer, service)


def test_a_round_up_whose_other_story_holds_the_topic_gives_no_statement_on_it(tmp_path, embedder):
    filler = " ".join(f"Committee member {n} spoke about the budget at length." for n in range(40))
    round_up = {
        "id": "round-up",
        "title": "The day in brief",
        "source": "Evening Post",
        "date": "2024-03-08",
        "text": "Jerome Powell said the central bank would wait for more data before it moves. "
        f"{filler}\n\nIn other news, health officials said the Marburg outbreak in the region "
        "was contained after 42 days without a new case.",
    }
    service = service_over(tmp_path, [round_up, ABOUT_POWELL[3]], embedder)

    assert service.ask("What did Powell say about the central bank?").citations[0].speaker == (
        "Jerome Powell"
    )
    answer = service.ask("What did Powell say about the Marburg outbreak?", as_of=date(2024, 3, 8))
    assert answer.abstained and answer.abstain_reason == "no_statement_by_speaker"
