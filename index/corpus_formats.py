"""One reader per corpus file format: a file's bytes become raw article records, or skips.

Text, Markdown with front matter, JSON, JSON Lines (gzip-compressed too), HTML and feeds
(index/feeds.py) each have their own reader, chosen by the file's suffix in `READERS`. It is
separate from index/articles.py, which walks the corpus and turns these records into Articles,
so that what a format looks like on disk (encodings, front matter, corrupt gzip) lives in one place.
"""

from __future__ import annotations

import codecs
import gzip
import json
import logging
import re
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import trafilatura
import yaml

from index.datelines import parse_dateline
from index.feeds import FeedUnreadable, feed_records

logger = logging.getLogger(__name__)

_COMPRESSED = (".jsonl.gz", ".ndjson.gz")  # gzip-compressed line formats, named by full suffix
_CONTROL_CHARACTER = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")
_FRONT_MATTER = re.compile(r"---\n(.*?)^---[ \t]*(?:\n|\Z)", re.DOTALL | re.MULTILINE)


@dataclass(frozen=True)
class SkippedInput:
    """A file, line or list item that did not become an article, and why."""

    origin: str
    reason: str


class Skip(Exception):
    """A reader's way of saying: this input is not an article, for this reason."""


Record = tuple[str, dict[str, Any]]  # (origin, raw fields) as a reader found them
Reader = Callable[[Path, str], Iterator[Record | SkippedInput]]


def suffix(path: Path) -> str:
    """The suffix `READERS` knows the file's format by, lower-cased (`.jsonl.gz` whole)."""
    name = path.name.lower()
    return next((s for s in _COMPRESSED if name.endswith(s)), path.suffix.lower())


def _decoded(path: Path, origin: str) -> str:
    """The file's text: UTF-8, UTF-16 with a byte-order mark (Windows "Unicode" exports), or
    else Windows-1252, the encoding of most legacy newsroom archives (Latin-1's printable
    characters plus curly quotes and dashes); bytes that are none of these are not text."""
    data = path.read_bytes()
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError as error:
            raise Skip(f"broken UTF-16 text (byte {error.start})") from None
    if b"\x00" in data:
        raise Skip("binary file")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        not_utf8 = f"not UTF-8 text (byte {error.start})"
    try:
        text = data.decode("cp1252")
    except UnicodeDecodeError:
        raise Skip(not_utf8) from None
    if _CONTROL_CHARACTER.search(text):
        raise Skip(not_utf8)
    logger.warning("read %s as Windows-1252: %s", origin, not_utf8)
    return text


def _whole_file(parse: Reader) -> Reader:
    """Turn a reader's Skip and OSError into one SkippedInput for the file."""

    def reader(path: Path, origin: str) -> Iterator[Record | SkippedInput]:
        try:
            yield from parse(path, origin)
        except Skip as why:
            yield SkippedInput(origin, str(why))
        except OSError as error:
            yield SkippedInput(origin, f"unreadable: {error}")

    return reader


@_whole_file
def _read_txt(path: Path, origin: str) -> Iterator[Record]:
    text = _decoded(path, origin).lstrip()
    raw: dict[str, Any] = {}
    if text[:6].lower() == "title:":
        title, _, text = text.partition("\n")
        raw["title"] = title[6:]
        text = text.lstrip()
    if dateline := parse_dateline(text):
        raw.update(date=dateline.date, source=dateline.source)
        text = text[dateline.end :]
    yield origin, {**raw, "text": text}


@_whole_file
def _read_md(path: Path, origin: str) -> Iterator[Record]:
    text = _decoded(path, origin).replace("\r\n", "\n")
    meta: object = {}
    if text.startswith("---\n"):
        front_matter = _FRONT_MATTER.match(text)
        if front_matter is None:
            raise Skip("front matter is not closed by ---")
        try:
            meta = yaml.safe_load(front_matter[1]) or {}
        except yaml.YAMLError as error:
            raise Skip(f"malformed front matter: {str(error).splitlines()[0]}") from None
        text = text[front_matter.end() :]
    if not isinstance(meta, dict):
        raise Skip("front matter is not a mapping")
    yield origin, {**meta, "text": text}


@_whole_file
def _read_json(path: Path, origin: str) -> Iterator[Record | SkippedInput]:
    try:
        value = json.loads(_decoded(path, origin))
    except (json.JSONDecodeError, RecursionError) as error:
        raise Skip(f"malformed JSON: {error}") from None
    if isinstance(value, dict):
        yield origin, value
    elif isinstance(value, list):
        for i, item in enumerate(value):
            item_origin = f"{origin}:[{i}]"
            if isinstance(item, dict):
                yield item_origin, item
            else:
                yield SkippedInput(item_origin, "not a JSON object")
    else:
        raise Skip("not a JSON object or list of objects")


@_whole_file
def _read_jsonl(path: Path, origin: str) -> Iterator[Record | SkippedInput]:
    opener = gzip.open if suffix(path) in _COMPRESSED else open
    number = 0
    try:
        with opener(path, "rb") as lines:
            for number, line in enumerate(lines, start=1):
                if line.strip():
                    yield _json_line(line, f"{origin}:{number}")
    except (gzip.BadGzipFile, EOFError, zlib.error) as error:
        raise Skip(f"corrupt gzip after line {number}: {error}") from None


def _json_line(line: bytes, origin: str) -> Record | SkippedInput:
    try:
        value = json.loads(line.decode("utf-8-sig"))
    except UnicodeDecodeError:
        return SkippedInput(origin, "not UTF-8 text")
    except (json.JSONDecodeError, RecursionError) as error:
        return SkippedInput(origin, f"malformed JSON: {error}")
    return (origin, value) if isinstance(value, dict) else SkippedInput(origin, "not a JSON object")


@_whole_file
def _read_html(path: Path, origin: str) -> Iterator[Record]:
    data = path.read_bytes()
    if b"\x00" in data:
        raise Skip("binary file")
    try:
        document = trafilatura.bare_extraction(data, with_metadata=True, include_comments=False)
    except Exception as error:  # one odd page must not stop the walk
        raise Skip(f"HTML extraction failed: {error!r}") from None
    if document is None or not (document.text or "").strip():
        raise Skip("no article text found in HTML")
    text, title = document.text, document.title
    if title and text.startswith(title + "\n"):  # the headline is not part of the body
        text = text[len(title) + 1 :]
    raw = {"title": title, "date": document.date, "url": document.url, "text": text}
    yield origin, {**raw, "source": document.sitename or document.hostname}


@_whole_file
def _read_feed(path: Path, origin: str) -> Iterator[Record]:
    """RSS and Atom files (index/feeds.py): one record per entry, or the file skipped whole."""
    try:
        records = feed_records(path.read_bytes(), origin)
    except FeedUnreadable as why:
        raise Skip(str(why)) from None
    yield from records


READERS: dict[str, Reader] = {
    ".txt": _read_txt,
    ".md": _read_md,
    ".markdown": _read_md,
    ".json": _read_json,
    ".jsonl": _read_jsonl,
    ".jsonl.gz": _read_jsonl,
    ".ndjson": _read_jsonl,
    ".ndjson.gz": _read_jsonl,
    ".html": _read_html,
    ".htm": _read_html,
    ".rss": _read_feed,
    ".atom": _read_feed,
    ".xml": _read_feed,  # only when its root is a feed; any other XML is skipped with its root
}
