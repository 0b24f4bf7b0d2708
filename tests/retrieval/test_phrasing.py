"""Answer sentences cut after a dangling connective and opened with a named speaker."""

from __future__ import annotations

import pytest

from retrieval.phrasing import name_speaker, phrase, skip_connective

ARTICLE = (
    "US Secretary of State Antony Blinken arrived in Amman on Saturday. "
    "Asked about the aftermath of the war, Blinken said the focus is on the fight. "
    "But he said a two-state solution was the only viable path forward."
)


@pytest.mark.parametrize(
    ("sentence", "rest"),
    [
        ("But he said a two-state solution was the only way.", "he said a two-state"),
        ("And the ministry confirmed the figures on Monday.", "the ministry confirmed"),
        ("However, officials said the talks would resume.", "officials said"),
        ("Meanwhile, prices rose for a third month in a row.", "prices rose"),
        ("Still, the central bank kept its rates unchanged.", "the central bank"),
        ("Yet the council voted against the plan on Tuesday.", "the council voted"),
    ],
)
def test_a_dangling_connective_is_skipped(sentence, rest):
    assert sentence[skip_connective(sentence) :].startswith(rest)


@pytest.mark.parametrize(
    "sentence",
    [
        "So far, 12 people have been rescued from the rubble.",
        "Yet another storm is expected to reach the coast.",
        "Andrew Smith said the bridge would reopen in May.",
        "Still unclear is whether the talks will resume soon.",
        "But not yet.",  # too little would be left to stand on its own
        "Officials said the talks would resume next week.",
    ],
)
def test_words_that_are_not_dangling_connectives_stay(sentence):
    assert skip_connective(sentence) == 0


def test_the_quote_moves_past_the_connective_and_the_answer_capitalises():
    text = "The vote was close. But the council approved the plan after midnight."
    start = text.index("But")
    phrased = phrase(text[start:], start)
    assert text[phrased.start :] == "the council approved the plan after midnight."
    assert phrased.text == "The council approved the plan after midnight."


def test_a_pronoun_subject_is_named_and_the_quote_starts_at_the_verb():
    start = ARTICLE.index("But he said")
    phrased = phrase(ARTICLE[start:], start, ARTICLE)
    assert ARTICLE[phrased.start :].startswith("said a two-state solution")
    assert phrased.text == "Antony Blinken " + ARTICLE[phrased.start :]


def test_without_a_resolved_speaker_only_the_connective_goes():
    text = "The storm reached the coast. But he was not found until Friday morning."
    start = text.index("But")
    phrased = phrase(text[start:], start, text)
    assert name_speaker(text, text.index("he was")) is None
    assert (text[phrased.start :], phrased.text) == (
        "he was not found until Friday morning.",
        "He was not found until Friday morning.",
    )


def test_without_the_article_the_pronoun_stays():
    start = ARTICLE.index("But he said")
    phrased = phrase(ARTICLE[start:], start)
    assert phrased.text.startswith("He said a two-state solution")


def test_a_sentence_without_connective_or_pronoun_is_left_as_it_is():
    start = ARTICLE.index("Asked")
    quote = ARTICLE[start : ARTICLE.index("But")].rstrip()
    assert (
        phrase(quote, start, ARTICLE) == phrase(quote, start) and phrase(quote, start).text == quote
    )
