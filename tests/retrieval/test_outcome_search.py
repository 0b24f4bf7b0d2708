"""The second search of an outcome question: the report of the result, asked for in the words
reports use, among the weeks before the question's day, joins the first search's passages."""

from __future__ import annotations

from datetime import date

from retrieval.outcome_search import merged, report_filters, result_query
from retrieval.outcomes import OutcomeQuestion
from retrieval.search import Passage, SearchFilters


def test_the_result_query_adds_the_words_a_result_is_reported_in():
    won = OutcomeQuestion.of("Who won the 2022 World Series?")
    died = OutcomeQuestion.of("How many people died in the earthquake?")
    assert won is not None and died is not None

    assert result_query("Who won the 2022 World Series?", won).startswith(
        "Who won the 2022 World Series? won beat defeated"
    )
    assert "killed" in result_query("How many people died in the earthquake?", died)


def test_the_reports_searched_are_those_of_the_weeks_before_the_day_asked():
    asked = date(2022, 11, 8)

    plain = report_filters(SearchFilters(), asked)
    narrower = report_filters(SearchFilters(sources=("CNN",), since=date(2022, 11, 1)), asked)
    none_left = report_filters(SearchFilters(until=date(2022, 1, 1)), asked)

    assert plain == SearchFilters(since=date(2022, 10, 9), until=asked)
    assert narrower == SearchFilters(sources=("CNN",), since=date(2022, 11, 1), until=asked)
    assert none_left is None


def _passage(chunk_id: int) -> Passage:
    return Passage(chunk_id, f"a{chunk_id}", "t", None, None, None, "x", 0, 1, ((0, 1),), 0.0)


def test_merged_passages_keep_their_rank_in_the_search_that_found_them():
    first = [_passage(n) for n in (1, 2, 3)]
    second = [_passage(n) for n in (7, 2, 8)]

    passages, ranks = merged(first, second)

    assert [p.chunk_id for p in passages] == [1, 2, 3, 7, 8]
    assert ranks == [0, 1, 2, 0, 2]


# Fourteen different previews of the final, each full of the question's words.
HARBOR_CUP_PREVIEWS = [
    "Tickets for the Harbor Cup final sold out in an hour; the Harbor Cup final kicks off Sunday.",
    "Harbor Cup final: the Gulls' coach names an unchanged side for Sunday's Harbor Cup final.",
    "The Pelicans' captain is fit again and will lead them out in the Harbor Cup final.",
    "Rain is forecast for the Harbor Cup final, and groundsmen covered the Harbor Cup pitch.",
    "The mayor will present the trophy after the Harbor Cup final at the old quay stadium.",
    "Bookmakers cannot split the sides before the Harbor Cup final between Gulls and Pelicans.",
    "A record crowd is expected at the quay for the Harbor Cup final this weekend.",
    "The ferry company extended its timetable so fans can reach the Harbor Cup final.",
    "Both clubs trained behind closed doors all week ahead of the Harbor Cup final.",
    "Local schools close early on Friday as the town gets ready for the Harbor Cup final.",
    "The referee for the Harbor Cup final was appointed on Monday by the league.",
    "Former players picked their favourites for the Harbor Cup final in a radio poll.",
    "The Harbor Cup final fan zone opens at noon with music and food stalls.",
    "Bakeries are selling cup-shaped loaves in honour of the Harbor Cup final.",
]


def test_a_result_ranked_below_more_previews_than_are_read_is_found(tmp_path, embedder):
    from tests.conftest import service_over

    previews = [
        {"id": f"preview-{n}", "title": f"Harbor Cup final preview {n}", "source": "Sports Desk",
         "date": f"2024-05-{n + 1:02d}", "text": text}
        for n, text in enumerate(HARBOR_CUP_PREVIEWS)
    ]  # fmt: skip
    report = {
        "id": "report", "title": "Pelicans lift the trophy", "source": "Wire Service",
        "date": "2024-05-16",
        "text": "The Pelicans beat the Gulls 3-1 in the final to lift the Harbor Cup on Sunday. "
        "Their captain scored twice.",
    }  # fmt: skip
    service = service_over(tmp_path, [*previews, report], embedder)
    question, asked = "Who won the Harbor Cup final?", date(2024, 5, 20)
    # More previews than an outcome question reads rank above the report …
    first_search = service.search(question, k=10, as_of=asked)
    assert "report" not in {p.article_id for p in first_search}

    answer = service.ask(question, as_of=asked)

    # … but the second search finds it, and the answer states the result.
    assert answer.citations[0].article_id == "report"
    assert answer.answer.startswith("The Pelicans beat the Gulls 3-1 in the final")
