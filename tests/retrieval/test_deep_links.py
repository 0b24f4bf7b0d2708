"""Deep links: the text fragment of every cited http(s) URL, encoded per the WICG spec, and
matching the quote itself — not an earlier sentence that starts with the same words."""

from __future__ import annotations

import re
from urllib.parse import unquote, urlsplit

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.service import NewsdeskService
from index.articles import read_corpus
from retrieval.deep_links import (
    MAX_CONTEXT_WORDS,
    TextDirective,
    deep_url,
    encode_term,
    find_text,
    text_directive,
)
from tests.conftest import SEED_CORPUS, service_over

SEED_QUESTION = "What did Blinken say about a multinational force?"
SEED_URL = "https://www.bloomberg.com/news/articles/2023-11-03/blinken"
# Terms may hold only these besides percent-encoded bytes (the spec's TextDirectiveExplicitChar).
EXPLICIT_CHARS = re.compile(r"[A-Za-z0-9!$'()*+./:;=?@_~]|%[0-9A-F]{2}")


def seed_article(url: str = SEED_URL) -> dict[str, str]:
    """The shipped seed article as a JSON record, with a link (the shipped file has none)."""
    [article] = read_corpus(SEED_CORPUS)
    return {"id": article.id, "title": article.title, "source": article.source or "",
            "date": article.date or "", "url": url, "text": article.text}  # fmt: skip


def directive_of(url: str) -> TextDirective:
    """The text directive of a deep link, read back as a browser does."""
    fragment = urlsplit(url).fragment
    assert fragment.count(":~:") == 1, url
    parsed = TextDirective.parse(fragment.split(":~:")[1])
    assert parsed is not None, url
    return parsed


def span(text: str, quote: str, occurrence: int = 1) -> tuple[int, int]:
    """(start, end) of the `occurrence`-th `quote` in `text`."""
    at = -1
    for _ in range(occurrence):
        at = text.index(quote, at + 1)
    return at, at + len(quote)


def words(text: str) -> list[str]:
    return text.lower().split()


# ---- encoding ----


def test_terms_percent_encode_commas_dashes_ampersands_quotes_and_non_ascii() -> None:
    term = "Talks, she said – in Zürich – were “a non-starter” & 'done' \"now\""

    encoded = encode_term(term)

    assert encoded == (
        "Talks%2C%20she%20said%20%E2%80%93%20in%20Z%C3%BCrich%20%E2%80%93%20were%20"
        "%E2%80%9Ca%20non%2Dstarter%E2%80%9D%20%26%20%27done%27%20%22now%22"
    )
    assert not set(",-& ") & set(encoded)  # would split, mark context or end the fragment
    assert unquote(encoded) == term


@given(st.text(min_size=1).filter(str.strip))
@settings(max_examples=200, deadline=None)
def test_any_term_survives_the_round_trip(term: str) -> None:
    directive = TextDirective(start=term, end=term, prefix=term, suffix=term)

    encoded = directive.encoded()

    assert TextDirective.parse(encoded) == directive
    for part in encoded.removeprefix("text=").split(","):
        assert EXPLICIT_CHARS.sub("", part.removeprefix("-").removesuffix("-")) == ""


def test_a_quote_with_every_awkward_character_links_to_its_own_words() -> None:
    text = "Intro.\n\nThe co-chair – Ana Muñoz – said “yes, & fast,” on Monday.\n\nEnd."
    start, end = span(text, "The co-chair – Ana Muñoz – said “yes, & fast,” on Monday.")

    url = deep_url("https://example.com/a", text, start, end)

    assert url is not None
    assert url.startswith("https://example.com/a#:~:text=The%20co%2Dchair%20%E2%80%93%20Ana")
    assert find_text(text, directive_of(url)) == (start, end)


# ---- choosing the directive ----


def test_a_short_quote_goes_whole_and_a_long_one_as_its_first_and_last_words() -> None:
    text = (
        "Officials met on Monday. The ceasefire held through the night despite sporadic "
        "shelling near the border, residents said. Talks resume today."
    )
    short = text_directive(text, *span(text, "Talks resume today."))
    quote = "The ceasefire held through the night despite sporadic shelling near the border, "
    long = text_directive(text, *span(text, quote + "residents said."))

    assert short == TextDirective("Talks resume today.")
    assert long == TextDirective("The ceasefire held through", "the border, residents said.")


def test_start_words_said_earlier_get_the_prefix_that_tells_the_quote_apart() -> None:
    text = (
        "The minister said the talks had failed. Aides said on Monday the talks had failed "
        "again, and officials said the talks had failed for good."
    )
    first, quote = span(text, "the talks had failed"), span(text, "the talks had failed", 3)

    directive = text_directive(text, *quote)

    assert directive == TextDirective("the talks had failed", prefix="officials said")
    assert find_text(text, directive) == quote
    # without the prefix a browser stops at the first "the talks had failed"; "said" alone
    # would stop it at the first too, so the prefix is the shortest that is unique
    assert find_text(text, TextDirective("the talks had failed")) == first
    assert find_text(text, TextDirective("the talks had failed", prefix="said")) == first


def test_a_quote_opening_its_paragraph_takes_its_prefix_from_the_paragraph_before() -> None:
    text = (
        "Rescue teams reached Derna on Tuesday.\n\nThe storm had passed.\n\n"
        "Officials said the search went on.\n\nThe storm had passed."
    )
    quote = span(text, "The storm had passed.", 2)

    directive = text_directive(text, *quote)

    assert directive == TextDirective("The storm had passed.", prefix="on.")
    assert find_text(text, directive) == quote


def test_end_words_said_inside_a_long_quote_are_lengthened_until_they_end_it() -> None:
    text = (
        "Prices rose in March, the report said, and in April prices rose again as costs rose "
        "in March and in April prices rose."
    )
    quote = span(text, text[:-1])

    directive = text_directive(text, *quote)

    assert directive is not None and directive.start == "Prices rose in March,"
    # "in April prices rose" and "and in April …" come earlier in it
    assert directive.end == "March and in April prices rose"
    assert find_text(text, directive) == quote


def test_a_long_quote_whose_start_and_context_repeat_goes_whole() -> None:
    text = (
        "The report said prices rose in March and fell in April across the region.\n\n"
        "The report said prices rose in March as analysts expected, a rise that surprised few."
    )
    quote = span(text, "prices rose in March as analysts expected, a rise that surprised few.")

    directive = text_directive(text, *quote)

    # as a range it would run from the first paragraph's "prices rose in March" to this end
    assert directive == TextDirective(text[quote[0] : quote[1]])
    assert find_text(text, directive) == quote


def test_the_same_words_in_the_same_place_twice_are_told_apart_by_what_follows() -> None:
    text = (
        "Officials said the deal was done on Monday.\n\n"
        "Officials said the deal was done on Tuesday."
    )
    quote = span(text, "the deal was done", 2)

    directive = text_directive(text, *quote)

    assert directive == TextDirective(
        "the deal was done", prefix="Officials said", suffix="on Tuesday."
    )
    assert find_text(text, directive) == quote


VOCABULARY = [
    "the",
    "The",
    "deal",
    "was",
    "done,",
    "said",
    "–",
    "Zürich",
    "“no”",
    "&",
    "on",
    "x" * 300,
]


@given(
    st.lists(st.sampled_from(VOCABULARY), min_size=1, max_size=60),
    st.integers(min_value=0),
    st.integers(min_value=1, max_value=8),
)
@settings(max_examples=300, deadline=None)
def test_a_short_quote_is_found_where_it_is_unless_its_whole_context_repeats(
    article: list[str], at: int, length: int
) -> None:
    at %= len(article)
    length = min(length, len(article) - at)
    text = " ".join(article)
    start = len(" ".join(article[:at])) + (1 if at else 0)
    end = start + len(" ".join(article[at : at + length]))

    directive = text_directive(text, start, end)

    assert directive is not None
    landed = find_text(text, directive)
    if landed != (start, end):
        before = article[max(0, at - MAX_CONTEXT_WORDS) : at]
        after = article[at + length : at + length + MAX_CONTEXT_WORDS]
        context = " ".join(before + article[at : at + length] + after).lower()
        assert text.lower().count(context) >= 2, (directive, landed)


# ---- URLs ----


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://example.com/a", "https://example.com/a#:~:text=Talks%20resume%20today."),
        ("HTTP://example.com/a?x=1&y=2", "HTTP://example.com/a?x=1&y=2#:~:text=Talks%20resume"),
        ("https://example.com/a#live", "https://example.com/a#live:~:text=Talks%20resume"),
        ("https://example.com/a#", "https://example.com/a#:~:text=Talks%20resume"),
        ("https://example.com/a#top:~:text=old", "https://example.com/a#top:~:text=Talks%20resume"),
        ("  https://example.com/a  ", "https://example.com/a#:~:text=Talks%20resume"),
    ],
)
def test_the_directive_joins_the_url_and_any_fragment_it_has(url: str, expected: str) -> None:
    text = "Officials met. Talks resume today."

    linked = deep_url(url, text, *span(text, "Talks resume today."))

    assert linked is not None and linked.startswith(expected)
    assert linked.count("#") == 1 and linked.count(":~:") == 1


@pytest.mark.parametrize(
    "url",
    [
        None,
        "",
        "   ",
        "ftp://example.com/a",
        "javascript:alert(1)",
        "mailto:desk@example.com",
        "/news/a",
        "https://",
        "file:///etc/passwd",
    ],  # fmt: skip
)
def test_only_http_links_get_a_deep_link(url: str | None) -> None:
    assert deep_url(url, "Talks resume today.", 0, 19) is None


def test_a_span_without_words_gets_no_deep_link() -> None:
    assert deep_url("https://example.com/a", "Talks.   Resume.", 6, 9) is None


# ---- the browser's matching, as simulated ----


def test_matching_ignores_case_and_respects_word_boundaries_and_paragraphs() -> None:
    text = "He jumped.\n\nThe fox jumped over\nthe dog."

    assert find_text(text, TextDirective("JUMPED")) == (3, 9)
    assert find_text(text, TextDirective("umped")) is None  # a term starts on a word boundary
    assert find_text(text, TextDirective("mped", prefix="u")) is None  # so does a prefix
    over = span(text, "jumped over\nthe dog.")
    assert find_text(text, TextDirective("jumped over the dog.")) == over  # a line break is a space
    assert find_text(text, TextDirective("jumped. The fox")) is None  # never across paragraphs
    # a prefix may end the paragraph before; the term must follow it at once
    assert find_text(text, TextDirective("The fox", prefix="jumped.")) == span(text, "The fox")
    assert find_text(text, TextDirective("fox", prefix="jumped.")) is None


# ---- every edge gets them ----


@pytest.fixture(scope="module")
def linked(tmp_path_factory: pytest.TempPathFactory, embedder) -> NewsdeskService:
    """The real service over the seed article with its link."""
    return service_over(tmp_path_factory.mktemp("linked"), [seed_article()], embedder)


def test_the_seed_answer_links_each_citation_to_its_quote(linked: NewsdeskService) -> None:
    answer = linked.ask(SEED_QUESTION)

    assert not answer.abstained and answer.citations
    text = seed_article()["text"]
    for citation in answer.citations:
        assert citation.url == SEED_URL and citation.deep_url is not None
        assert citation.deep_url.startswith(SEED_URL + "#:~:text=")
        directive = directive_of(citation.deep_url)
        assert words(directive.start) == words(citation.quote)[: len(words(directive.start))]
        if directive.end:
            assert words(citation.quote)[-len(words(directive.end)) :] == words(directive.end)
        assert find_text(text, directive) == (
            citation.start,
            citation.start + len(citation.quote.rstrip()),
        )


def test_a_citation_without_a_link_has_no_deep_link(service: NewsdeskService) -> None:
    answer = service.ask(SEED_QUESTION)  # the shipped seed article has no URL

    assert answer.citations and all(c.deep_url is None for c in answer.citations)
