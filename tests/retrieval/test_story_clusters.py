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


# Background a later report carries over word for word, at the top of both articles.
VIADUCT_BACKGROUND = [
    "The Quarrow viaduct, a concrete arch bridge finished in 1931, carries the main road from "
    "Lenmouth to the northern valleys across the river Lenn, about forty thousand vehicles on an "
    "ordinary weekday and more in the summer months.",
    "Its eleven arches were widened in 1968, when a second carriageway was laid on steel "
    "brackets fixed to the old deck, and the brackets were last replaced in 1994 after divers "
    "found corrosion where the river runs fastest against the piers.",
    "The county has spent about two million pounds a year on the structure since then, most of "
    "it on resurfacing and on the drainage channels that keep rainwater out of the joints "
    "between the deck sections.",
    "In 2019 the viaduct was closed for eleven weeks after a crack was found in the fourth "
    "pier, sending traffic on a forty minute detour through the town centre and costing local "
    "shops, by the chamber of commerce's count, about three hundred thousand pounds.",
    "Engineers then fitted sensors that measure how far each pier moves as lorries cross, and "
    "the readings are sent every hour to the county's highways office in Lenmouth.",
]
INSPECTION = [
    "This spring's inspection found that the sensors on the sixth pier have recorded a slow "
    "lean towards the east since January, small but steady, and the county has asked a second "
    "firm to check the measurements before it decides what to do.",
    "Councillor Aled Price, who chairs the highways committee, said no closure was planned and "
    "that the lean was well inside the limits set after the 2019 repairs.",
    "Hauliers' groups asked for an early warning of any closure, saying a repeat of the 2019 "
    "detour would add hours to deliveries at the busiest time of year.",
]
REOPENING = [
    "The second firm's report, published on Monday, says the lean was caused by scouring of "
    "the riverbed around the pier's footing after the winter floods, and recommends rock "
    "armour around the base within the year.",
    "The work will need one lane closed at night for six weeks from September, the county "
    "said, and buses will keep to their daytime timetables throughout.",
    "Shopkeepers in the town centre welcomed the night-time plan but asked for signs on the "
    "northern approach so that lorries do not try the old detour through the market square.",
]


def test_a_passage_repeating_another_takes_no_slot_and_names_its_article(tmp_path: Path, embedder):
    inspection = {"id": "viaduct-inspection", "source": "Lenmouth Gazette", "date": "2024-04-02",
                  "title": "Sensors show Quarrow viaduct pier leaning",
                  "text": "\n\n".join(VIADUCT_BACKGROUND + INSPECTION)}  # fmt: skip
    report = {"id": "viaduct-report", "source": "Valley Post", "date": "2024-05-20",
              "title": "Rock armour for Quarrow viaduct after floods scoured pier",
              "text": "\n\n".join(VIADUCT_BACKGROUND + REOPENING)}  # fmt: skip
    service = service_over(tmp_path, [inspection, report], embedder)
    reader = service.retriever.reader
    assert reader.story("viaduct-report") == ("viaduct-report",)  # two stories, not copies

    passages = service.search("When was the Quarrow viaduct built and widened?", k=5)
    carrying = [p for p in passages if "eleven arches were widened in 1968" in p.text]
    assert len(carrying) == 1, [p.text[:60] for p in passages]
    other = ({"viaduct-inspection", "viaduct-report"} - {carrying[0].article_id}).pop()
    assert [entry.article_id for entry in carrying[0].also_in] == [other]
    # Each article's own reporting still has its slot.
    assert any("rock armour" in p.text for p in passages)
    assert any("Aled Price" in p.text for p in passages)
