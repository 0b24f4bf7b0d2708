"""Reading a corpus folder: every format, every way a file can be unusable, stable ids."""

from __future__ import annotations

import dataclasses
import datetime as dt
import gzip
import json
import logging
import shutil
import time
from pathlib import Path

import pytest

from index.articles import TITLE_MAX_CHARS, Article, read_corpus
from index.corpus_formats import SkippedInput
from index.datelines import normalise_date, parse_dateline
from index.errors import CorpusError

REPO = Path(__file__).resolve().parents[2]
SEED = REPO / "corpus" / "000_6a8b8ce6f7321b4a.txt"
DEV_CORPUS = REPO.parent / "shared" / "data" / "realtimeqa-2022" / "corpus.jsonl.gz"

HTML = """<!DOCTYPE html>
<html><head><title>Blinken urges pauses | Example News</title>
<meta property="og:title" content="Blinken urges humanitarian pauses in Gaza">
<meta property="og:site_name" content="Example News">
<meta property="article:published_time" content="2023-11-03T10:00:00Z">
<link rel="canonical" href="https://news.example.com/2023/11/03/blinken-gaza">
</head><body><nav>Home | World | Sports</nav>
<article><h1>Blinken urges humanitarian pauses in Gaza</h1>
<p>US Secretary of State Antony Blinken said more must be done to protect Palestinian
civilians caught in the bombardment of the Gaza Strip.</p>
<p>He reiterated calls for humanitarian pauses to help the flow of aid and allow foreign
citizens to leave Gaza, speaking to reporters in Tel Aviv on Friday.</p>
</article><footer>Copyright 2023 Example News. All rights reserved.</footer></body></html>
"""


def read(root: Path) -> tuple[list[Article], list[SkippedInput]]:
    skipped: list[SkippedInput] = []
    return list(read_corpus(root, skipped.append)), skipped


def write(root: Path, files: dict[str, str | bytes]) -> Path:
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    return root


def test_the_seed_dateline_gives_date_and_source_and_leaves_the_first_sentence(tmp_path):
    shutil.copy(SEED, tmp_path / SEED.name)

    [article], skipped = read(tmp_path)

    assert skipped == []
    assert (article.date, article.source, article.url) == ("2023-11-03", "Bloomberg", None)
    assert article.text.startswith("US Secretary of State Antony Blinken said more must be done")
    assert article.title.startswith("US Secretary of State Antony Blinken")
    assert len(article.title) <= TITLE_MAX_CHARS and article.title.endswith("…")
    assert article.origin == SEED.name
    assert article.text == article.text.strip() and "date 2023" not in article.text


def test_txt_title_line_is_taken_and_removed(tmp_path):
    write(
        tmp_path, {"a.txt": "Title: Ceasefire talks resume\n2023-11-03 (Reuters) - Talks began.\n"}
    )

    [article], _ = read(tmp_path)

    assert (article.title, article.date, article.source) == (
        "Ceasefire talks resume",
        "2023-11-03",
        "Reuters",
    )
    assert article.text == "Talks began."


def test_txt_without_header_takes_its_title_from_the_first_sentence(tmp_path):
    write(tmp_path, {"a.txt": "Dr. Smith met U.S. officials. Then he left.\n\nMore text."})

    [article], _ = read(tmp_path)

    assert article.title == "Dr. Smith met U.S. officials."
    assert (article.date, article.source) == (None, None)
    assert article.text == "Dr. Smith met U.S. officials. Then he left.\n\nMore text."


@pytest.mark.parametrize(
    ("line", "date", "source", "rest"),
    [
        (" date 2023-11-03 (Bloomberg) -- US officials said", "2023-11-03", "Bloomberg", "US"),
        ("2023-11-03 (Reuters) - Talks began", "2023-11-03", "Reuters", "Talks"),
        ("WASHINGTON, Nov 3, 2023 (Reuters) - Talks", "2023-11-03", "Reuters", "Talks"),
        ("WASHINGTON, Nov 3 (Reuters) - Talks began", None, "Reuters", "Talks"),
        ("NEW YORK (AP) — Stocks fell", None, "AP", "Stocks"),
    ],
)
def test_datelines(line, date, source, rest):
    dateline = parse_dateline(line)

    assert dateline is not None
    assert (dateline.date, dateline.source) == (date, source)
    assert line[dateline.end :].startswith(rest)


@pytest.mark.parametrize("line", ["The (new) plan - explained", "US officials said (today) - no"])
def test_ordinary_first_lines_are_not_datelines(line):
    assert parse_dateline(line) is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2023-11-03", "2023-11-03"),
        ("2023-11-03T10:00:00Z", "2023-11-03"),
        (dt.date(2023, 11, 3), "2023-11-03"),
        (dt.datetime(2023, 11, 3, 10, 0), "2023-11-03"),
        ("Nov 3, 2023", "2023-11-03"),
        ("3 November 2023", "2023-11-03"),
        ("2023-02-30", None),
        ("last Tuesday", None),
        (20231103, None),
        (None, None),
    ],
)
def test_normalise_date(value, expected):
    assert normalise_date(value) == expected


def test_markdown_front_matter(tmp_path):
    write(
        tmp_path,
        {
            "a.md": "---\ntitle: Talks resume\ndate: 2023-11-03\nsource: Reuters\n"
            "url: https://example.com/a\nid: 42\n---\n\nTalks began on Friday.\n",
            "b.md": "# Just a heading\n\nBody text.\n",
            "c.md": "---\ntitle: [unclosed\n---\nBody.\n",
        },
    )

    (a, b), skipped = read(tmp_path)

    assert (a.id, a.title, a.date, a.source, a.url) == (
        "42",
        "Talks resume",
        "2023-11-03",
        "Reuters",
        "https://example.com/a",
    )
    assert a.text == "Talks began on Friday."
    assert (b.title, b.text) == ("Just a heading", "# Just a heading\n\nBody text.")
    assert [s.origin for s in skipped] == ["c.md"]
    assert "front matter" in skipped[0].reason


def test_json_object_and_list(tmp_path):
    items = [{"id": "x1", "text": "First."}, "not an object", {"title": "No text"}]
    write(
        tmp_path,
        {
            "one.json": json.dumps({"title": "T", "text": "Only one.", "date": "11/03/2023"}),
            "many.json": json.dumps(items),
        },
    )

    articles, skipped = read(tmp_path)

    assert [(a.origin, a.text) for a in articles] == [
        ("many.json:[0]", "First."),
        ("one.json", "Only one."),
    ]
    assert articles[0].id == "x1"
    assert articles[1].date is None  # ambiguous: no date rather than a guess
    assert [s.origin for s in skipped] == ["many.json:[1]", "many.json:[2]"]


@pytest.mark.parametrize("name", ["news.jsonl", "news.jsonl.gz", "news.ndjson", "news.NDJSON.gz"])
def test_jsonl_skips_bad_lines_by_number_and_keeps_the_rest(tmp_path, name):
    lines = [
        json.dumps({"id": "a", "title": "A", "text": "Alpha.", "date": "2022-06-01"}),
        '{"id": "b", "text": "Bro',
        "",
        json.dumps({"id": "c", "title": "C"}),
        json.dumps(["not", "an", "object"]),
        json.dumps({"text": "Delta.", "url": "https://example.com/d"}),
    ]
    data = "\n".join(lines).encode() + b"\n"
    write(tmp_path, {name: gzip.compress(data) if name.endswith(".gz") else data})

    articles, skipped = read(tmp_path)

    assert [(a.origin, a.text) for a in articles] == [
        (f"{name}:1", "Alpha."),
        (f"{name}:6", "Delta."),
    ]
    assert articles[0].date == "2022-06-01"
    assert [s.origin for s in skipped] == [f"{name}:2", f"{name}:4", f"{name}:5"]
    assert "malformed JSON" in skipped[0].reason


def test_unusable_files_are_skipped_and_reported(tmp_path):
    write(
        tmp_path,
        {
            "binary.txt": b"\x89PNG\r\n\x1a\n\x00\x00\x00",
            "garbled.txt": b"\xc3\x28\x02\x03 not text",
            "empty.txt": "",
            "blank.md": "  \n\n\t\n",
            "report.pdf": b"%PDF-1.7",
            "broken.json": "{",
            "broken.jsonl.gz": b"not gzip at all",
            "nothing.html": "<html><body></body></html>",
            "good.txt": "A real article.",
        },
    )

    (tmp_path / "gone.txt").symlink_to(tmp_path / "moved-away.txt")

    articles, skipped = read(tmp_path)

    assert [a.origin for a in articles] == ["good.txt"]
    reasons = {s.origin: s.reason for s in skipped}
    assert sorted(reasons) == sorted(
        ["binary.txt", "garbled.txt", "empty.txt", "blank.md", "report.pdf", "broken.json"]
        + ["broken.jsonl.gz", "nothing.html", "gone.txt"]
    )
    assert reasons["gone.txt"] == "broken symbolic link"
    assert reasons["binary.txt"] == "binary file"
    assert reasons["garbled.txt"] == "not UTF-8 text (byte 0)"
    assert reasons["empty.txt"] == reasons["blank.md"] == "empty text"
    assert ".pdf" in reasons["report.pdf"]


def test_skips_are_logged_when_nobody_takes_the_report(tmp_path, caplog):
    write(tmp_path, {"broken.json": "{", "good.txt": "A real article."})

    with caplog.at_level(logging.WARNING, logger="index.articles"):
        articles = list(read_corpus(tmp_path))
        assert "broken.json" in caplog.text
        caplog.clear()
        read(tmp_path)  # a caller with its own report: no second copy in the log

    assert [a.origin for a in articles] == ["good.txt"]
    assert "broken.json" not in caplog.text


def test_legacy_encodings_are_read_not_skipped(tmp_path, caplog):
    write(
        tmp_path,
        {
            "windows.txt": "Caf\u00e9 owners \u201cwelcomed\u201d the plan \u2014 briefly.".encode(
                "cp1252"
            ),
            "unicode.txt": "Z\u00fcrich council met on Monday.".encode("utf-16"),  # with a BOM
        },
    )

    with caplog.at_level(logging.WARNING, logger="index.corpus_formats"):
        articles, skipped = read(tmp_path)

    texts = {a.origin: a.text for a in articles}
    assert texts == {
        "unicode.txt": "Z\u00fcrich council met on Monday.",
        "windows.txt": "Caf\u00e9 owners \u201cwelcomed\u201d the plan \u2014 briefly.",
    }
    assert skipped == []
    assert "windows.txt as Windows-1252" in caplog.text


def test_crlf_bom_and_surrounding_whitespace_are_normalised(tmp_path):
    write(tmp_path, {"a.txt": "\ufeffFirst line.  \r\nSecond line.\r\n\r\n"})

    [article], _ = read(tmp_path)

    assert article.text == "First line.  \nSecond line."


def test_identical_texts_collapse_into_the_first(tmp_path):
    write(
        tmp_path,
        {
            "a.txt": "Same story.\n\nSame words.",
            "b.jsonl": json.dumps({"id": "b", "text": "Same  story.\nSame words.  "})
            + "\n"
            + json.dumps({"id": "c", "text": "Different story."}),
            "c.json": json.dumps({"id": "c", "text": "Another different story."}),
        },
    )

    articles, skipped = read(tmp_path)

    assert [a.origin for a in articles] == ["a.txt", "b.jsonl:2"]
    assert skipped[0] == SkippedInput("b.jsonl:1", f"duplicate of {articles[0].id}")
    assert skipped[1].origin == "c.json" and "id c" in skipped[1].reason


def test_walk_is_recursive_sorted_and_ignores_hidden_names(tmp_path):
    write(
        tmp_path,
        {
            "b/z.txt": "Zulu.",
            "b/a.txt": "Alpha.",
            "a.txt": "Top.",
            ".hidden.txt": "Hidden.",
            ".git/config.txt": "Git.",
            "c/.DS_Store": b"\x00\x01",
        },
    )

    articles, skipped = read(tmp_path)

    assert [a.origin for a in articles] == ["a.txt", "b/a.txt", "b/z.txt"]
    assert skipped == []


def test_ids_are_stable_and_independent_of_where_the_folder_lives(tmp_path):
    files = {
        "x/a.txt": "Alpha article.",
        "b.md": "---\nurl: https://example.com/b\n---\nBeta article.",
        "c.jsonl": json.dumps({"text": "Gamma."}) + "\n" + json.dumps({"text": "Delta."}),
        "d.json": json.dumps({"id": 7, "text": "Epsilon."}),
    }
    first = write(tmp_path / "one", files)
    second = write(tmp_path / "elsewhere" / "two", files)

    def ids(root: Path) -> list[tuple[str, str]]:
        return [(a.id, a.content_hash) for a in read(root)[0]]

    assert ids(first) == ids(first) == ids(second)
    assert len({article_id for article_id, _ in ids(first)}) == 5
    assert "7" in {article_id for article_id, _ in ids(first)}


def test_content_hash_follows_every_field():
    article = Article("a", "Text.", "Title", "Src", "2023-11-03", None, "a.txt")

    changed = [
        dataclasses.replace(article, **{field: value})
        for field, value in [("title", "T2"), ("source", None), ("date", None), ("text", "T.")]
    ]

    assert len({article.content_hash, *(c.content_hash for c in changed)}) == 5
    assert dataclasses.replace(article, origin="b.txt").content_hash == article.content_hash


def test_html_via_trafilatura(tmp_path):
    write(tmp_path, {"page.html": HTML})

    [article], skipped = read(tmp_path)

    assert skipped == []
    assert article.title == "Blinken urges humanitarian pauses in Gaza"
    assert (article.date, article.source) == ("2023-11-03", "Example News")
    assert article.url == "https://news.example.com/2023/11/03/blinken-gaza"
    assert article.text.startswith("US Secretary of State Antony Blinken said more must be done")
    assert "Home | World" not in article.text and "All rights reserved" not in article.text


def test_one_feed_file_is_a_corpus_too(tmp_path):
    lines = [json.dumps({"id": "a", "text": "Alpha."}), '{"broken', json.dumps({"text": "Beta."})]
    write(tmp_path, {"feed.jsonl.gz": gzip.compress("\n".join(lines).encode())})
    skipped: list[SkippedInput] = []

    articles = list(read_corpus(tmp_path / "feed.jsonl.gz", skipped.append))

    assert [(a.origin, a.text) for a in articles] == [("feed.jsonl.gz:1", "Alpha."),
                                                      ("feed.jsonl.gz:3", "Beta.")]  # fmt: skip
    assert [s.origin for s in skipped] == ["feed.jsonl.gz:2"]
    assert [a.id for a in articles] == [a.id for a in read(tmp_path)[0]]  # as in its folder


def test_reading_is_lazy_and_a_missing_folder_is_a_corpus_error(tmp_path):
    write(tmp_path, {"a.txt": "One.", "b.txt": "Two."})

    articles = read_corpus(tmp_path)

    assert next(articles).origin == "a.txt"
    with pytest.raises(CorpusError):
        read_corpus(tmp_path / "missing")


@pytest.mark.skipif(not DEV_CORPUS.exists(), reason="dev corpus ../shared/data not present")
def test_the_dev_corpus_reads_completely(tmp_path):
    (tmp_path / DEV_CORPUS.name).symlink_to(DEV_CORPUS)

    started = time.perf_counter()
    articles, skipped = read(tmp_path)
    elapsed = time.perf_counter() - started

    assert len(articles) == 4790
    assert skipped == []
    assert len({a.id for a in articles}) == 4790
    assert all(a.date and a.source and a.url and a.title for a in articles)
    assert elapsed < 30
