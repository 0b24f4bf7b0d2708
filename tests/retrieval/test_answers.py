"""Answers over the seed article and a small newsroom corpus, with the real model and index."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest

from retrieval.search import SearchFilters

DATA = Path(__file__).resolve().parents[1] / "data"
REPO = Path(__file__).resolve().parents[2]


def lines(name: str) -> list[str]:
    text = (DATA / name).read_text()
    return [line for line in text.splitlines() if line.strip() and not line.startswith("#")]


@pytest.fixture(scope="module")
def newsroom(tmp_path_factory, embedder):
    """A service over the seed article plus seven articles from other outlets and formats."""
    from bot.service import NewsdeskService
    from index.build import build_index
    from tests.conftest import settings_for

    root = tmp_path_factory.mktemp("newsroom")
    corpus = root / "corpus"
    shutil.copytree(REPO / "corpus", corpus)
    shutil.copytree(DATA / "newsroom", corpus / "newsroom")
    build_index(corpus, root / "index", embedder)
    return NewsdeskService(settings_for(root / "index", corpus=corpus), embedder)


def assert_citations_are_exact(answer, service) -> None:
    assert [c.n for c in answer.citations] == list(range(1, len(answer.citations) + 1))
    for citation in answer.citations:
        text = service.article(citation.article_id)["text"]
        assert text[citation.start : citation.end] == citation.quote
        assert citation.quote in citation.passage
        assert f"[{citation.n}]" in answer.answer
        capitalised = citation.quote[:1].upper() + citation.quote[1:]  # after a dropped "But"
        assert citation.quote in answer.answer or capitalised in answer.answer


def test_blinken_multinational_force_is_quoted_from_bloomberg(newsroom):
    answer = newsroom.ask("What did Blinken say about a multinational force?")
    assert not answer.abstained
    first = answer.citations[0]
    assert "multinational force" in first.quote or "premature" in first.quote
    assert (first.source, first.date) == ("Bloomberg", "2023-11-03")
    assert first.title.startswith("US Secretary of State Antony Blinken")
    assert_citations_are_exact(answer, newsroom)


@pytest.mark.parametrize(
    ("question", "phrase"),
    [
        ("How many people were killed in the Hamas attack on Oct. 7?", "1,400"),
        ("Who did Blinken meet with in Israel?", "Netanyahu"),
        ("Which country backs Hezbollah?", "backed by Iran"),
    ],
)
def test_seed_facts_come_from_the_right_sentence(newsroom, question, phrase):
    answer = newsroom.ask(question)
    assert not answer.abstained
    assert phrase in answer.citations[0].quote
    assert_citations_are_exact(answer, newsroom)


@pytest.mark.parametrize(
    ("question", "source", "phrase"),
    [
        ("Why did the Federal Reserve keep interest rates unchanged?", "AP", "Federal Reserve"),
        ("How many bodies were recovered in Derna?", "BBC", "5,300"),
        ("Who became world chess champion?", "The Chess Chronicle", "Ding Liren"),
        ("What did Arab ministers ask Blinken for in Amman?", "Reuters", "ceasefire"),
        ("Why did oil prices fall?", "Bloomberg", "demand"),
    ],
)
def test_other_articles_outrank_the_seed_on_their_topics(newsroom, question, source, phrase):
    answer = newsroom.ask(question)
    assert not answer.abstained
    assert answer.citations[0].source == source
    assert phrase.lower() in answer.answer.lower()
    assert_citations_are_exact(answer, newsroom)


def test_three_turn_conversation_carries_context(newsroom):
    first = newsroom.ask("What did Blinken say about a multinational force?")
    second = newsroom.ask("And what about a two-state solution?", session_id=first.session_id)
    third = newsroom.ask("Who did he meet with?", session_id=first.session_id)
    assert second.session_id == third.session_id == first.session_id
    assert "Blinken" in second.rewritten_query and "two-state" in second.rewritten_query
    assert "two-state solution" in second.citations[0].quote
    assert "Blinken" in third.rewritten_query
    assert "Netanyahu" in third.answer
    alone = newsroom.ask("Who did he meet with?")
    assert alone.rewritten_query is None


def test_he_after_a_who_question_is_the_person_the_answer_named(newsroom):
    first = newsroom.ask("Who became world chess champion?")
    follow_up = newsroom.ask("Who did he beat?", session_id=first.session_id)
    assert follow_up.rewritten_query == "Who did Ding Liren beat?"
    assert "Nepomniachtchi" in follow_up.answer


def test_more_returns_the_next_passages(newsroom):
    answer = newsroom.ask("What did Blinken say?", k=2)
    more = newsroom.more(answer.session_id)
    shown = {(c.article_id, c.start) for c in answer.citations}
    assert more.citations and not shown & {(c.article_id, c.start) for c in more.citations}


def test_more_does_not_quote_again_what_was_quoted(service):
    answer = service.ask("What did Blinken say about a multinational force?")
    first = answer.citations[0]
    assert first.quote.startswith("declined")  # part of "But he said …, and declined to …"
    more = service.ask(
        "What else did he say about a multinational force?", session_id=answer.session_id
    )
    assert not any(
        c.article_id == first.article_id and c.start < first.end and first.start < c.end
        for c in more.citations
    )


def test_off_topic_questions_abstain(newsroom):
    questions = lines("off_topic_questions.txt")
    assert len(questions) >= 30
    answers = [newsroom.ask(q) for q in questions]
    abstained = [a for a in answers if a.abstained]
    assert len(abstained) / len(answers) >= 0.9, [a.query for a in answers if not a.abstained]
    for answer in abstained:
        assert answer.citations == []
        assert answer.answer.startswith("I couldn't find ")
        assert " in these articles (8 articles, 2022-06-16 – 2023-11-05)." in answer.answer
        assert answer.abstain_reason in ("no_focus_match", "weak_evidence", "after_archive")


def test_seed_questions_are_answered_from_the_seed(service):
    rows = [line.split(" | ") for line in lines("seed_questions.txt")]
    answered = 0
    for question, phrase in rows:
        answer = service.ask(question)
        if not answer.abstained and phrase in answer.answer:
            answered += 1
            assert_citations_are_exact(answer, service)
    assert answered / len(rows) >= 0.9


def test_filters_exclude_what_they_should(newsroom):
    question = "What did Blinken say about a ceasefire?"
    only_reuters = newsroom.search(question, k=5, filters=SearchFilters(sources=(" reuters",)))
    assert only_reuters and {p.source for p in only_reuters} == {"Reuters"}  # case, spaces
    before = newsroom.search(question, k=5, filters=SearchFilters(until=date(2023, 11, 3)))
    assert before and all(p.date <= "2023-11-03" for p in before)
    assert "Reuters" not in {p.source for p in before}
    window = SearchFilters(since=date(2023, 9, 1), until=date(2023, 9, 30))
    assert {p.source for p in newsroom.search("floods", k=5, filters=window)} == {"BBC"}
    nothing = SearchFilters(sources=("Nobody News",))
    assert newsroom.ask(question, filters=nothing).abstained


def test_a_question_in_an_article_is_never_the_answer(newsroom):
    answer = newsroom.ask("Which wildly popular show was green-lit for a second season?")

    assert not answer.abstained
    assert "Squid Game" in answer.answer
    assert not any(c.quote.rstrip().endswith("?") for c in answer.citations)
    assert_citations_are_exact(answer, newsroom)


def test_filters_that_match_no_article_say_so_and_what_there_is(newsroom):
    question = "What did Blinken say about a ceasefire?"

    answer = newsroom.ask(question, filters=SearchFilters(sources=("Nobody News",)))
    too_late = newsroom.ask(question, filters=SearchFilters(since=date(2030, 1, 1)))

    assert answer.abstained and not answer.citations
    assert answer.abstain_reason == too_late.abstain_reason == "no_match"
    assert answer.answer.startswith("No article is from Nobody News.")
    assert "Reuters" in answer.answer and "BBC" in answer.answer  # the sources it does hold
    assert too_late.abstained and "dated 2030-01-01 or later" in too_late.answer


def test_one_article_gives_at_most_two_passages(newsroom):
    passages = newsroom.search("Blinken Israel Gaza Hamas", k=6)
    per_article = {}
    for passage in passages:
        per_article[passage.article_id] = per_article.get(passage.article_id, 0) + 1
    assert max(per_article.values()) <= 2


def test_a_question_after_the_archive_says_where_the_articles_end(newsroom):
    answer = newsroom.ask("Who won Eurovision 2024?")
    assert answer.abstained and answer.citations == []
    assert answer.abstain_reason == "after_archive"
    assert answer.answer == (
        "I couldn't find who won Eurovision 2024 in these articles (8 articles, "
        "2022-06-16 – 2023-11-05). My articles end on 5 Nov 2023."
    )


def test_an_abstention_names_the_closest_headline_only_when_it_shares_the_focus(newsroom):
    near = newsroom.ask("What is Ding Liren's favourite Italian dish?")
    assert near.abstained and near.abstain_reason in ("no_focus_match", "weak_evidence")
    assert [h.title for h in near.closest] == [
        "Ding Liren wins world chess championship in rapid tie-break"
    ]
    assert near.answer.endswith(
        "Closest: ‘Ding Liren wins world chess championship in rapid tie-break’ "
        "(The Chess Chronicle, 30 Apr 2023)."
    )
    far = newsroom.ask("Who painted the Mona Lisa?")
    assert far.abstained and far.closest == [] and "Closest" not in far.answer


def test_an_invented_claim_about_a_quoted_person_is_refused(newsroom):
    answer = newsroom.ask("What did Blinken say about the price of Norwegian salmon?")
    assert answer.abstained and answer.citations == []
    assert answer.abstain_reason == "no_statement_by_speaker"
    assert answer.answer.startswith(
        "I found no statement by Blinken about the price of Norwegian salmon in these articles"
    )


def test_a_later_year_asked_while_the_archive_was_written_is_a_plan_not_after_it(newsroom):
    answer = newsroom.ask("Who won Eurovision 2024?", as_of=date(2023, 11, 4))
    assert answer.abstain_reason != "after_archive"
    assert "My articles end" not in answer.answer
