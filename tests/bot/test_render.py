"""Rendering answers: plain text, JSON, and Telegram HTML that Telegram's parser accepts."""

from __future__ import annotations

import html
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.render import (
    TELEGRAM_LIMIT,
    answer_html,
    citation_html,
    render_json,
    render_telegram,
    render_text,
    sources_html,
    split_html,
    utf16_len,
)
from retrieval.schema import Answer, Citation
from tests.telegram_standin import StandInBotApi, parse_telegram_html

HOSTILE = 'Breaking: <script>alert("x")</script> & <b>bold</b> claims 5 < 7 > 3 &amp; &nbsp; </i>'


def citation(n: int = 1, **changes: object) -> Citation:
    fields: dict[str, object] = dict(
        n=n,
        article_id=f"a{n}",
        title="Blinken urges more protection for Gaza civilians",
        source="Bloomberg",
        date="2023-11-03",
        url="https://www.bloomberg.com/news/articles/2023-11-03/blinken",
        passage="Asked about plans, Blinken said the focus is on the fight. "
        "He declined to comment on a multinational force. Then he left.",
        quote="He declined to comment on a multinational force.",
        start=100,
        end=148,
        score=0.9,
    )
    fields.update(changes)
    return Citation(**fields)  # type: ignore[arg-type]


def answer(text: str = "He declined to comment on a multinational force. [1]", **changes):
    fields: dict[str, object] = dict(
        answer=text,
        abstained=False,
        citations=[citation()],
        query="What did Blinken say about a multinational force?",
        rewritten_query=None,
        session_id="s1",
    )
    fields.update(changes)
    return Answer(**fields)  # type: ignore[arg-type]


def test_plain_text_lists_numbered_sources_with_links() -> None:
    text = render_text(answer(), quotes=True)
    assert text.startswith("He declined to comment on a multinational force. [1]")
    assert "[1] Blinken urges more protection for Gaza civilians — Bloomberg, 2023-11-03" in text
    assert "https://www.bloomberg.com/news/articles/2023-11-03/blinken" in text
    assert "“He declined to comment on a multinational force.”" in text


def test_json_is_the_one_answer_schema() -> None:
    data = render_json(answer())
    assert set(data) == {
        "answer",
        "abstained",
        "citations",
        "query",
        "rewritten_query",
        "session_id",
        "abstain_reason",
        "closest",
        "coverage",
        "timeline",
    }
    assert set(data["citations"][0]) == {
        "n",
        "article_id",
        "title",
        "source",
        "date",
        "url",
        "passage",
        "quote",
        "start",
        "end",
        "score",
        "speaker",
        "deep_url",
        "also_in",
    }


def test_an_article_quoted_twice_is_listed_once_with_both_numbers() -> None:
    again = citation(3, article_id="a1")  # a second sentence from the article of [1]
    other = citation(2, article_id="a2", title="Another")
    twice = answer("First. [1] Second. [2] Third. [3]", citations=[citation(1), other, again])

    for shown in (render_text(twice), parse_telegram_html(render_telegram(twice)[0])):
        sources = shown.split("Sources")[1].strip(": \n").splitlines()
        listed = [line for line in sources if line.startswith("[")]
        assert listed == [
            "[1, 3] Blinken urges more protection for Gaza civilians — Bloomberg, 2023-11-03",
            "[2] Another — Bloomberg, 2023-11-03",
        ]
    with_quotes = render_text(twice, quotes=True)  # the quotes view keeps one entry per quote
    assert "[3] Blinken urges" in with_quotes and "[1, 3]" not in with_quotes


BLINKEN = "Antony Blinken"
QUOTING = " · quoting Antony Blinken"


def test_the_speaker_of_a_quote_is_named_after_its_source_everywhere() -> None:
    quoted = answer(citations=[citation(speaker=BLINKEN)])
    line = f"[1] Blinken urges more protection for Gaza civilians — Bloomberg, 2023-11-03{QUOTING}"

    for shown in (
        render_text(quoted),
        render_text(quoted, quotes=True),
        parse_telegram_html(render_telegram(quoted)[0]),
        parse_telegram_html(sources_html(quoted)),
    ):
        assert line in shown.splitlines(), shown
    in_context = parse_telegram_html(citation_html(citation(speaker=BLINKEN)))
    assert f"Bloomberg, 2023-11-03{QUOTING}" in in_context.splitlines()
    # A quote that is not an attributed statement names nobody.
    unattributed = answer()
    for shown in (
        render_text(unattributed),
        render_text(unattributed, quotes=True),
        parse_telegram_html(render_telegram(unattributed)[0]),
        parse_telegram_html(sources_html(unattributed)),
        parse_telegram_html(citation_html(citation())),
    ):
        assert "quoting" not in shown and "·" not in shown


def test_an_article_quoted_twice_names_each_speaker_once() -> None:
    cited = [
        citation(1, speaker=BLINKEN),
        citation(2, article_id="a1", speaker="Ayman Safadi"),
        citation(3, article_id="a1", speaker=BLINKEN),
        citation(4, article_id="a1"),
        citation(5, article_id="a2", title="Another", speaker=" "),
    ]
    reply = answer("One. [1] Two. [2] Three. [3] Four. [4] Five. [5]", citations=cited)
    for shown in (render_text(reply), parse_telegram_html(render_telegram(reply)[0])):
        listed = [line for line in shown.splitlines() if line.startswith("[")]
        assert listed == [
            "[1, 2, 3, 4] Blinken urges more protection for Gaza civilians — Bloomberg, "
            "2023-11-03 · quoting Antony Blinken and Ayman Safadi",
            "[5] Another — Bloomberg, 2023-11-03",
        ]
    per_quote = render_text(reply, quotes=True)  # each quote names its own speaker
    assert "2023-11-03 · quoting Ayman Safadi\n" in per_quote
    assert "[4] Blinken urges more protection for Gaza civilians — Bloomberg, 2023-11-03\n" in (
        per_quote
    )


def test_telegram_answer_has_markers_then_linked_numbered_sources() -> None:
    [message] = render_telegram(answer())
    shown = parse_telegram_html(message)
    assert shown.splitlines()[0] == "He declined to comment on a multinational force. [1]"
    assert "[1] Blinken urges more protection for Gaza civilians — Bloomberg, 2023-11-03" in shown
    assert '<a href="https://www.bloomberg.com/news/articles/2023-11-03/blinken">' in message


def test_telegram_links_the_quoted_sentence_and_the_terminal_the_article() -> None:
    url = "https://www.bloomberg.com/news/articles/2023-11-03/blinken"
    deep = url + "#:~:text=He%20declined%20to%20comment,on%20a%20multinational%20force."
    linked = answer(citations=[citation(deep_url=deep)])

    one = citation_html(citation(deep_url=deep))
    for message in (*render_telegram(linked), sources_html(linked), one):
        assert f'<a href="{deep}">' in message
    shown = render_text(linked)
    assert f"    {url}\n" in shown + "\n" and "#:~:" not in shown
    # a deep link that is not http(s) is never linked; the article's own link stands in
    unsafe = citation_html(citation(deep_url="javascript:alert(1)"))
    assert f'<a href="{url}">' in unsafe and "javascript" not in unsafe


def test_abstention_renders_plainly_without_sources() -> None:
    abstained = answer("I couldn't find that in the articles I have.", abstained=True, citations=[])
    [message] = render_telegram(abstained)
    assert parse_telegram_html(message) == "I couldn't find that in the articles I have."


def test_hostile_article_text_is_escaped_everywhere() -> None:
    hostile = citation(
        title=HOSTILE,
        source="Blo<o>mberg & Co",
        passage=f"Intro. {HOSTILE} Outro.",
        quote=HOSTILE,
        url='https://example.com/?a=1&b="2"><script>',
        speaker=HOSTILE,
    )
    reply = answer(f"{HOSTILE} [1]", citations=[hostile], query=HOSTILE)
    documents = [
        *render_telegram(reply, note="Filters: <none> & more"),
        sources_html(reply),
        citation_html(hostile),
    ]
    for document in documents:
        shown = parse_telegram_html(document)  # raises ApiError like Telegram would
        assert HOSTILE in shown and f"quoting {HOSTILE}" in shown
        assert "<script>" not in re.sub(r"&lt;script&gt;", "", document)


UNSAFE_URLS = [
    "javascript:alert(1)",
    " JaVaScRiPt:alert(1)",
    "\tjavascript:alert(1)",
    "java\tscript:alert(1)",
    "java\nscript:alert(1)",
    "javascript://example.org/%0aalert(1)",
    "data:text/html,<script>alert(1)</script>",
    "DATA:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
    "vbscript:msgbox(1)",
    " VBScript:msgbox(1)",
    "file:///etc/passwd",
    "tg://resolve?domain=evil",
    "//evil.example/",
    "/relative/path",
    "http:no-host",
    "https://[::1",
]


@pytest.mark.parametrize("url", UNSAFE_URLS)
def test_unsafe_link_schemes_are_not_linked(url: str) -> None:
    """Only http(s) URLs become links in Telegram; others are left out (the title stays text)."""
    unsafe = answer(citations=[citation(url=url)])
    documents = [*render_telegram(unsafe), sources_html(unsafe), citation_html(citation(url=url))]
    for document in documents:
        assert "<a " not in document and "href" not in document
        assert "Blinken urges more protection for Gaza civilians" in parse_telegram_html(document)
        assert "script:" not in document.lower() and "data:" not in document.lower()


@pytest.mark.parametrize(
    ("url", "href"),
    [
        ("https://example.org/a?b=1&c=2", "https://example.org/a?b=1&amp;c=2"),
        (" HTTP://EXAMPLE.ORG/x ", "HTTP://EXAMPLE.ORG/x"),
        ('https://example.org/"><b>x', "https://example.org/&quot;&gt;&lt;b&gt;x"),
    ],
)
def test_http_links_are_linked_and_attribute_escaped(url: str, href: str) -> None:
    [message] = render_telegram(answer(citations=[citation(url=url)]))
    assert f'<a href="{href}">' in message
    parse_telegram_html(message)


def test_terminal_text_has_no_control_characters() -> None:
    """An article cannot send escape sequences (colours, window titles, OSC 8 links, clipboard
    writes) to the terminal of whoever reads the answer."""
    escapes = "\x1b]0;pwned\x07\x1b[2J\x1b]52;c;ZWNobyBwd25lZA==\x07\x9b31m\x00\x7f"
    hostile = citation(
        title=f"Title {escapes}",
        source=f"Wire{escapes}",
        url=f"https://example.org/{escapes}",
        quote=f"Quote {escapes}",
        speaker=f"Antony {escapes}Blinken",
    )
    reply = answer(f"Answer {escapes} [1]", citations=[hostile])
    for text in (render_text(reply), render_text(reply, quotes=True)):
        assert not [c for c in text if ord(c) < 32 and c not in "\n\t" or 0x7F <= ord(c) <= 0x9F]
        assert "\ufffd]0;pwned" in text and "Answer" in text
        assert "· quoting Antony \ufffd]0;pwned" in text
    assert render_text(answer("Tabs\tand\nlines stay. [1]")).startswith("Tabs\tand\nlines stay.")


def test_citation_view_shows_the_quote_inside_its_passage() -> None:
    shown = citation_html(citation())
    assert "<b>He declined to comment on a multinational force.</b>" in shown
    text = parse_telegram_html(shown)
    assert "Asked about plans, Blinken said the focus is on the fight. He declined" in text


def test_long_answer_is_split_on_boundaries_into_valid_messages() -> None:
    sentences = " ".join(f"Sentence {i} says 1 < 2 & “quotes” [{i % 9 + 1}]." for i in range(300))
    citations = [citation(n, title=f"Title {n} <&>") for n in range(1, 10)]
    parts = render_telegram(answer(sentences, citations=citations))
    assert len(parts) > 1
    shown = [parse_telegram_html(part) for part in parts]
    assert all(utf16_len(part) <= TELEGRAM_LIMIT for part in parts)
    # Nothing lost or reordered: the visible text of the parts is the whole answer.
    assert re.sub(r"\s+", " ", " ".join(shown)) == re.sub(
        r"\s+", " ", parse_telegram_html(answer_html(answer(sentences, citations=citations)))
    )
    # Cuts fall after a sentence or a source line; every source line stays whole in one part.
    for n in range(1, 10):
        assert sum(f"[{n}] Title {n} <&> — Bloomberg" in text for text in shown) == 1
    assert all(part.rstrip().endswith(("].", "</a> — Bloomberg, 2023-11-03")) for part in parts)


def test_split_reopens_a_tag_that_spans_the_cut() -> None:
    markup = "<blockquote>" + "word &amp; " * 1000 + "</blockquote>"
    parts = split_html(markup, limit=1000)
    assert len(parts) > 5
    for part in parts:
        assert part.startswith("<blockquote>") and part.endswith("</blockquote>")
        parse_telegram_html(part)
        assert utf16_len(part) <= 1000


def test_split_counts_utf16_units_like_telegram() -> None:
    parts = split_html("🙂 " * 3000)  # each emoji is 2 UTF-16 units
    assert len(parts) == 3
    assert all(utf16_len(part) <= TELEGRAM_LIMIT for part in parts)


def test_split_cuts_a_word_longer_than_a_message() -> None:
    parts = split_html("<b>" + "x" * 10_000 + "</b>")
    assert "".join(parse_telegram_html(p) for p in parts) == "x" * 10_000


@pytest.mark.parametrize(
    "text", ["<script>x</script>", "a & b", "1 < 2", "<b>open", "&nbsp;", "<b>x</i>", "x" * 4097]
)
def test_stand_in_refuses_what_telegram_refuses(text: str) -> None:
    api = StandInBotApi()
    params = {"chat_id": 1, "text": text, "parse_mode": "HTML"}
    status, body = api.handle(api.token, "sendMessage", params)
    assert status == 400
    assert body["description"].startswith(
        ("Bad Request: can't parse entities", "Bad Request: message is too long")
    )


TEXT = st.lists(
    st.sampled_from([*"ab <>&;\"'\n#x1", "🙂", "é", "&amp;", "\n\n", "word ", "x" * 300]),
    max_size=120,
).map("".join)


@settings(max_examples=150, deadline=None)
@given(
    pieces=st.lists(st.tuples(st.sampled_from(["", "b", "i", "blockquote"]), TEXT), max_size=30),
    limit=st.integers(min_value=256, max_value=1200),
)
def test_any_escaped_document_splits_into_valid_parts(pieces, limit) -> None:
    markup = "\n\n".join(
        f"<{tag}>{html.escape(text)}</{tag}>" if tag else html.escape(text) for tag, text in pieces
    )
    parts = split_html(markup, limit)
    for part in parts:
        assert utf16_len(part) <= limit
        assert parse_telegram_html(part).strip()
    whole = parse_telegram_html(markup) if markup.strip() else ""
    assert re.sub(r"\s+", "", "".join(parse_telegram_html(p) for p in parts)) == re.sub(
        r"\s+", "", whole
    )
