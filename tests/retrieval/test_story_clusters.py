"""Results and answers over planted wire copies spend one slot per story and name the others."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from bot.render import render_json, render_text
from tests.conftest import service_over
from tests.story_corpus import STORIES, planted_articles

BARRIER = STORIES["barrier"]
AS_OF = date(2024, 3, 10)


@pytest.fixture(scope="module")
def planted(tmp_path_factory: pytest.TempPathFactory, embedder):
    return service_over(tmp_path_factory.mktemp("planted"), planted_articles(), embedder)


def test_search_gives_a_story_one_article_and_lists_its_copies(planted):
    passages = planted.search("Marrow Bay tidal barrier storm gates cost", k=5, as_of=AS_OF)
    from_story = [p for p in passages if p.article_id in BARRIER]
    assert len({p.article_id for p in from_story}) == 1
    cited = from_story[0]
    # The copies' passages rank alike, so the story is cited from its earliest article (of
    # those, the longest: AP's copy adds a dateline), though a later copy ranks first alone.
    assert cited.article_id == "barrier-ap"
    others = [other.article_id for other in cited.also_in]
    assert set(others) == BARRIER - {cited.article_id}
    dates = [other.date for other in cited.also_in]
    assert dates == sorted(dates)  # earliest first
    assert "barrier-protest" in {p.article_id for p in passages}  # same topic, its own slot


def test_an_answer_cites_one_copy_and_says_who_else_reported_it(planted):
    answer = planted.ask("How much will the Marrow Bay tidal barrier cost?", as_of=AS_OF)
    assert not answer.abstained
    cited = [c for c in answer.citations if c.article_id in BARRIER]
    assert len({c.article_id for c in cited}) == 1
    also = render_json(answer)["citations"][0]["also_in"]
    assert {entry["article_id"] for entry in also} == BARRIER - {cited[0].article_id}
    assert set(also[0]) == {"source", "date", "url", "article_id"}
    assert "also reported by" in render_text(answer)


def test_a_statement_answer_quotes_a_story_once(planted):
    answer = planted.ask("What did Ilse Brandvold say about the barrier?", as_of=AS_OF)
    assert not answer.abstained
    stories = ["barrier" if c.article_id in BARRIER else c.article_id for c in answer.citations]
    assert len(stories) == len(set(stories))
    assert any(c.also_in for c in answer.citations if c.article_id in BARRIER)


def test_articles_sharing_only_a_topic_are_cited_separately(planted, tmp_path: Path):
    passages = planted.search("Fenwick library Tomasz Okafor", k=5, as_of=date(2024, 6, 10))
    ids = {p.article_id for p in passages}
    assert "library-sundays" in ids
    assert len(ids & STORIES["library"]) == 1
