"""The answerability check's evidence: what a sentence must hold to answer the question asked,
and (with the development data present) how often newsdesk declines what its archive cannot
answer while still answering what it can."""

from __future__ import annotations

import gzip
import json
import os
import uuid
from datetime import date
from pathlib import Path

import pytest

from retrieval.abstention_eval import evaluate_abstention
from retrieval.answerability import YEAR, Focus, counts_asked, model
from retrieval.labelled_sets import load_records
from tests.conftest import service_over

REPO = Path(__file__).resolve().parents[2]
UNANSWERABLE = REPO / "tests" / "data" / "unanswerable" / "questions.jsonl"
QUIZ = REPO.parent / "shared" / "data" / "realtimeqa-2022" / "questions.jsonl.gz"
# An index of the development corpus (e.g. one `bench/index_build.py` made); read, never
# written. Read at import: the tests' hermetic fixture clears NEWSDESK_ variables.
DEV_INDEX = os.environ.get("NEWSDESK_DEV_INDEX", "")


@pytest.mark.parametrize(
    ("question", "sentence"),
    [
        ("How many legs does a spider have?", "He has killed more than 300 of the spiders."),
        ("How many players are on a rugby union team?", "Unlike rugby, football split in two."),
        ("How many innings are there in a baseball game?", "He homered an inning later."),
    ],
)
def test_a_number_that_counts_something_else_does_not_answer_how_many(question, sentence):
    assert not counts_asked(question, sentence)


@pytest.mark.parametrize(
    ("question", "sentence"),
    [
        ("How many people did Hamas kill on Oct. 7?", "Hamas killed some 1,400 people."),
        ("How many bodies were recovered in Derna?", "About 5,300 bodies were recovered."),
        ("How many times has Blinken visited?", "He has visited three times since."),
        ("Who painted the Mona Lisa?", "A sentence with no number at all."),
    ],
)
def test_a_count_of_the_thing_asked_about_answers_how_many(question, sentence):
    assert counts_asked(question, sentence)


def test_the_predicate_counts_beside_the_focus():
    focus = Focus({"web": 5.9, "wide": 3.9}, predicate={"invent": 6.1, "world": 2.1})
    browser = "The browser that guided people around the World Wide Web was retired."
    inventor = "Tim Berners-Lee invented the World Wide Web in 1989."
    assert focus.share_in(browser) == focus.share_in(inventor) == 1.0
    assert focus.predicate_share_in(browser) < 0.3
    assert focus.predicate_share_in(inventor) == 1.0
    assert Focus({"wordl": 8.1}).predicate_share_in("anything") == 1.0


def desk_article(n: int, text: str) -> dict[str, str]:
    return {"id": f"a{n}", "title": f"Story {n}", "source": "Desk", "date": "2022-06-1{n}",
            "text": text}  # fmt: skip


@pytest.fixture(scope="module")
def wordle_desk(tmp_path_factory, embedder):
    """Six articles: "words" in most, Wordle in one, Israel and Israeli in two."""
    texts = [
        "The senator chose her words carefully at the hearing on Tuesday.",
        "Kind words from the mayor were not enough for the striking teachers.",
        "In other words, the budget will not balance this year, officials said.",
        "Millions of people play Wordle, the daily five-letter word game, each morning.",
        "Israel said its army would open a second crossing for aid trucks.",
        "The Israeli army said the crossing would stay open for a week.",
    ]
    articles = [desk_article(n, text) for n, text in enumerate(texts)]
    return service_over(tmp_path_factory.mktemp("desk"), articles, embedder)


def test_a_commoner_word_that_starts_a_rare_name_is_no_form_of_it(wordle_desk):
    """ "words" is no mention of Wordle; "Israeli" still is one of Israel."""
    lexical = wordle_desk.retriever.reader.lexical
    wordle = Focus.of("Wordle", lexical)
    assert wordle.share_in("She chose her words carefully.") == 0.0
    assert wordle.share_in("She plays Wordle.") == 1.0
    israel = Focus.of("Israel", lexical)
    assert israel.share_in("The Israeli army said so.") == 1.0


def test_the_fitted_model_weighs_every_piece_of_evidence():
    fitted = model()
    assert len(fitted.weights) == 11 and 0 < fitted.threshold < 1


def dev_service():
    from bot.service import NewsdeskService
    from bot.settings import Settings

    return NewsdeskService.from_settings(Settings(_env_file=None, index_dir=Path(DEV_INDEX)))


needs_dev_index = pytest.mark.skipif(
    not (DEV_INDEX and Path(DEV_INDEX).is_dir() and QUIZ.is_file()),
    reason="set NEWSDESK_DEV_INDEX to an index of ../shared/data/realtimeqa-2022",
)


@pytest.mark.slow
@needs_dev_index
def test_the_development_archive_declines_what_it_cannot_answer_and_answers_what_it_can():
    """Issue #14's targets on the 4,790-article index: ≥ 0.90 of the unanswerable set abstains
    (each kind mostly), ≤ 0.05 of the answerable quiz questions do."""
    service = dev_service()
    report = evaluate_abstention(
        load_records(UNANSWERABLE),
        lambda q, as_of: service.ask(q, session_id=f"t:{uuid.uuid4().hex}", as_of=as_of),
    )
    assert report.rate >= 0.90, report.answered
    for kind, (abstained, asked) in report.by_kind.items():
        assert abstained / asked >= 0.8, (kind, report.answered)
    with gzip.open(QUIZ, "rt", encoding="utf-8") as lines:
        answerable = [r for r in map(json.loads, lines) if r.get("answer_in_results")]
    abstained = [
        r["question"]
        for r in answerable
        if service.ask(
            r["question"], session_id=f"t:{uuid.uuid4().hex}", as_of=date.fromisoformat(r["date"])
        ).abstained
    ]
    assert len(abstained) / len(answerable) <= 0.05, abstained


@pytest.mark.slow
@needs_dev_index
def test_a_question_naming_a_year_after_the_archive_says_where_it_ends_whatever_it_asks():
    """Asked after the archive, a question naming a later year is refused by rule — also
    "what did X say" ones, which statements would otherwise answer ("What does Prince Harry
    reveal in his memoir Spare, published in January 2023?")."""
    service = dev_service()
    last = date.fromisoformat(service.summary().last_date)
    later = [
        r
        for r in load_records(UNANSWERABLE)
        if any(int(year) > last.year for year in YEAR.findall(r["question"]))
    ]
    assert any(" say" in r["question"] or "reveal" in r["question"] for r in later)
    for record in later:
        answer = service.ask(record["question"], as_of=date.fromisoformat(record["date"]))
        assert answer.abstain_reason == "after_archive", record["question"]
        assert "My articles end on 30 Dec 2022." in answer.answer
