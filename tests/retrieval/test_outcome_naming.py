"""A winner the outcome sentence only describes ("The Puerto Rican rapper took home …") is named
from the sentence before it, and the quote still starts and ends on the article's own words."""

from __future__ import annotations

from datetime import date

import pytest

from retrieval.outcome_naming import name_described_winner

ARTICLE = (
    "Spanish-language songs topped the summer lists.\n\n"
    'Bad Bunny recently added starring alongside Brad Pitt in "Bullet Train" to his resume.\n\n'
    "The Puerto Rican rapper took home artist of the year at the awards on Sunday."
)
QUOTE_AT = ARTICLE.index("The Puerto Rican rapper")


def test_a_described_winner_is_named_from_the_sentence_before():
    quote = ARTICLE[QUOTE_AT:]

    phrased = name_described_winner("Who won artist of the year?", quote, QUOTE_AT, ARTICLE)

    assert phrased.text == "Bad Bunny took home artist of the year at the awards on Sunday."
    assert ARTICLE[phrased.start :] == "took home artist of the year at the awards on Sunday."


@pytest.mark.parametrize(
    ("question", "article"),
    [
        # Not a question about who won …
        ("What did the Puerto Rican rapper say about the awards?", ARTICLE),
        ("How many awards were given on Sunday?", ARTICLE),
        # … the sentence before opens with no name …
        ("Who won artist of the year?", ARTICLE.replace("Bad Bunny recently", "He recently")),
        # … or the subject is a name already.
        ("Who won artist of the year?", ARTICLE.replace("The Puerto Rican rapper", "The Rappers")),
    ],
)
def test_otherwise_the_quote_stays_as_written(question, article):
    at = article.rfind("\n") + 1
    quote = article[at:]

    phrased = name_described_winner(question, quote, at, article)

    assert (phrased.start, phrased.text) == (at, quote)


def test_the_answer_names_the_winner_and_cites_from_the_verb(tmp_path, embedder):
    from tests.conftest import service_over

    awards = {
        "id": "awards", "title": "Summer of Spanish-language hits", "source": "Music Desk",
        "date": "2024-09-01", "text": ARTICLE,
    }  # fmt: skip
    service = service_over(tmp_path, [awards], embedder)

    answer = service.ask("Who won artist of the year at the awards?", as_of=date(2024, 9, 2))

    first = answer.citations[0]
    assert answer.answer.startswith("Bad Bunny took home artist of the year")
    assert first.quote.startswith("took home artist of the year")
    assert ARTICLE[first.start : first.end] == first.quote
