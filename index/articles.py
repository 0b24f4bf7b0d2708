"""Read a corpus into Articles: one reader per format, streamed, de-duplicated.

A corpus is a folder, walked recursively, or one file (a feed dump such as articles.jsonl.gz).
Every file or line that cannot become an article is reported (through `on_skip`, else logged),
and the walk goes on. `Article.text` is the reference every downstream offset points into.
"""

from __future__ import annotations

import codecs
import gzip
import hashlib
import json
import logging
import os
import re
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pysbd
import trafilatura
import yaml

from index.datelines import normalise_date, parse_dateline
from index.errors import CorpusError
from index.feeds import FeedUnreadable, feed_records

logger = logging.getLogger(__name__)

TITLE_MAX_CHARS = 100
_COMPRESSED = (".jsonl.gz", ".ndjson.gz")  # gzip-compressed line formats, named by full suffix
_SENTENCES = pysbd.Segmenter(language="en", clean=False)
_CONTROL_CHARACTER = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")
_FRONT_MATTER = re.compile(r"---\n(.*?)^---[ \t]*(?:\n|\Z)", re.DOTALL | re.MULTILINE)


@dataclass(frozen=True)
class Article:
    """One news article; `text` is what chunk and citation offsets refer to."""

    id: str
    text: str
    title: str
    source: str | None
    date: str | None
    url: str | None
    origin: str

    @property
    def content_hash(self) -> str:
        """Changes whenever anything that is indexed or shown changes (incremental updates)."""
        fields = [self.id, self.title, self.source, self.date, self.url, self.text]
        return hashlib.sha256(json.dumps(fields, ensure_ascii=False).encode()).hexdigest()


@dataclass(frozen=True)
class SkippedInput:
    """A file, line or list item that did not become an article, and why."""

    origin: str
    reason: str


class _Skip(Exception):
    """A reader's way of saying: this input is not an article, for this reason."""


Record = tuple[str, dict[str, Any]]  # (origin, raw fields) as a reader found them
Reader = Callable[[Path, str], Iterator[Record | SkippedInput]]


def read_corpus(
    root: Path, on_skip: Callable[[SkippedInput], None] | None = None
) -> Iterator[Article]:
    """Articles under the folder `root`, or in the one file `root` (a feed dump such as
    `articles.jsonl.gz`), in a stable order; raises CorpusError when `root` does not exist.

    Each input that cannot become an article goes to `on_skip`, or is logged without one.
    """
    root = Path(root)
    check_corpus(root)
    return _read(root, on_skip)


def check_corpus(root: Path) -> None:
    """Raise CorpusError unless `root` is a folder or a file this process may read."""
    if not os.path.isdir(root) and not os.path.isfile(root):
        raise CorpusError(
            f"The corpus {root} does not exist; pass a folder or a file of articles with --corpus."
        )
    if not os.access(root, os.R_OK | (os.X_OK if os.path.isdir(root) else 0)):
        # os.walk would silently find nothing in a folder it may not read
        raise CorpusError(
            f"The corpus {root} cannot be read (permission denied); "
            "fix its permissions or pass another --corpus."
        )


def log_skip(item: SkippedInput) -> None:
    """How a skipped input is reported when the caller takes no report of its own."""
    logger.warning("skipped %s: %s", item.origin, item.reason)


def _read(root: Path, on_skip: Callable[[SkippedInput], None] | None) -> Iterator[Article]:
    items = (item for path, origin in corpus_files(root) for item in read_input(path, origin))
    yield from unique_articles(items, on_skip)
    check_still_there(root)


def check_still_there(root: Path) -> None:
    """Raise CorpusError if `root` went away while it was read: what was read is not the corpus."""
    if not root.exists():
        raise CorpusError(
            f"The corpus {root} disappeared while it was being read; "
            "put it back and run the build again."
        )


def corpus_files(root: Path) -> Iterator[tuple[Path, str]]:
    """The files `read_corpus` reads, in its order, each with the origin its articles carry
    (a distributed build reads them elsewhere with `read_input`, then `unique_articles`)."""
    return _walk(root)


def read_input(path: Path, origin: str) -> Iterator[Article | SkippedInput]:
    """The articles of one corpus file, and what in it could not become one, in file order;
    duplicates are left for `unique_articles`."""
    if not path.exists():
        reason = "broken symbolic link" if path.is_symlink() else "removed while reading"
        yield SkippedInput(origin, reason)
        return
    if not path.is_file():  # a FIFO would block the build until something wrote to it
        yield SkippedInput(origin, "not a regular file")
        return
    reader = _READERS.get(_suffix(path))
    if reader is None:
        yield SkippedInput(origin, f"unsupported file type {_suffix(path) or '(none)'}")
        return
    for item in reader(path, origin):
        if isinstance(item, SkippedInput):
            yield item
            continue
        try:
            yield _article(*item)
        except _Skip as why:
            yield SkippedInput(item[0], str(why))


def text_digest(text: str) -> bytes:
    """What makes two texts the same article: their words, whatever the spacing between them."""
    return hashlib.sha1(" ".join(text.split()).encode()).digest()


def unique_articles(
    items: Iterable[Article | SkippedInput],
    on_skip: Callable[[SkippedInput], None] | None,
    seen: tuple[dict[bytes, str], dict[str, str]] | None = None,
) -> Iterator[Article]:
    """The articles of `items` in order, each text and each id once (the first wins); skipped
    inputs and the duplicates go to `on_skip`, or are logged without one.

    `seen` is what came before `items` (an update that reads only the files added since):
    text digest → article id, and article id → origin; they are not changed.
    """
    text_owner: dict[bytes, str] = dict(seen[0]) if seen else {}  # text digest → first id
    id_origin: dict[str, str] = dict(seen[1]) if seen else {}
    report = on_skip or log_skip
    for item in items:
        if isinstance(item, SkippedInput):
            report(item)
            continue
        article = item
        digest = text_digest(article.text)
        if digest in text_owner:
            report(SkippedInput(article.origin, f"duplicate of {text_owner[digest]}"))
        elif article.id in id_origin:
            report(
                SkippedInput(
                    article.origin, f"id {article.id} already used by {id_origin[article.id]}"
                )
            )
        else:
            text_owner[digest] = article.id
            id_origin[article.id] = article.origin
            yield article


def _walk(root: Path) -> Iterator[tuple[Path, str]]:
    """Files under root, sorted, hidden names (".git", ".DS_Store") left out; a file alone."""
    if root.is_file():
        yield root, root.name
        return
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            if not name.startswith("."):
                path = Path(folder, name)
                yield path, path.relative_to(root).as_posix()


def _suffix(path: Path) -> str:
    name = path.name.lower()
    return next((s for s in _COMPRESSED if name.endswith(s)), path.suffix.lower())


def _article(origin: str, raw: dict[str, Any]) -> Article:
    text = raw.get("text")
    if not isinstance(text, str):
        raise _Skip("no text field" if text is None else "text is not a string")
    text = text.replace("\r\n", "\n").replace("\r", "\n").lstrip("\ufeff").strip()
    if not text:
        raise _Skip("empty text")
    url = _field(raw.get("url"))
    given_id = _field(raw.get("id"))
    article_id = given_id or hashlib.sha1((url or origin).encode()).hexdigest()[:12]
    return Article(
        id=article_id,
        text=text,
        title=_field(raw.get("title")) or _headline(text),
        source=_field(raw.get("source")),
        date=normalise_date(raw.get("date")),
        url=url,
        origin=origin,
    )


def _field(value: object) -> str | None:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        return None
    return " ".join(str(value).split()) or None


def _headline(text: str) -> str:
    """The first sentence, cut at a word boundary to headline length."""
    first_line = text.split("\n", 1)[0].lstrip("# ").strip()
    sentences = _SENTENCES.segment(first_line[: TITLE_MAX_CHARS * 4]) or [first_line]
    title = sentences[0].strip()
    if len(title) <= TITLE_MAX_CHARS:
        return title
    cut = title[: TITLE_MAX_CHARS - 1].rsplit(" ", 1)[0] or title[: TITLE_MAX_CHARS - 1]
    return cut.rstrip(" ,;:-–—") + "…"


def _decoded(path: Path, origin: str) -> str:
    """The file's text: UTF-8, UTF-16 with a byte-order mark (Windows "Unicode" exports), or
    else Windows-1252, the encoding of most legacy newsroom archives (Latin-1's printable
    characters plus curly quotes and dashes); bytes that are none of these are not text."""
    data = path.read_bytes()
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError as error:
            raise _Skip(f"broken UTF-16 text (byte {error.start})") from None
    if b"\x00" in data:
        raise _Skip("binary file")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        not_utf8 = f"not UTF-8 text (byte {error.start})"
    try:
        text = data.decode("cp1252")
    except UnicodeDecodeError:
        raise _Skip(not_utf8) from None
    if _CONTROL_CHARACTER.search(text):
        raise _Skip(not_utf8)
    logger.warning("read %s as Windows-1252: %s", origin, not_utf8)
    return text


def _whole_file(parse: Reader) -> Reader:
    """Turn a reader's _Skip and OSError into one SkippedInput for the file."""

    def reader(path: Path, origin: str) -> Iterator[Record | SkippedInput]:
        try:
            yield from parse(path, origin)
        except _Skip as why:
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
            raise _Skip("front matter is not closed by ---")
        try:
            meta = yaml.safe_load(front_matter[1]) or {}
        except yaml.YAMLError as error:
            raise _Skip(f"malformed front matter: {str(error).splitlines()[0]}") from None
        text = text[front_matter.end() :]
    if not isinstance(meta, dict):
        raise _Skip("front matter is not a mapping")
    yield origin, {**meta, "text": text}


@_whole_file
def _read_json(path: Path, origin: str) -> Iterator[Record | SkippedInput]:
    try:
        value = json.loads(_decoded(path, origin))
    except (json.JSONDecodeError, RecursionError) as error:
        raise _Skip(f"malformed JSON: {error}") from None
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
        raise _Skip("not a JSON object or list of objects")


@_whole_file
def _read_jsonl(path: Path, origin: str) -> Iterator[Record | SkippedInput]:
    opener = gzip.open if _suffix(path) in _COMPRESSED else open
    number = 0
    try:
        with opener(path, "rb") as lines:
            for number, line in enumerate(lines, start=1):
                if line.strip():
                    yield _json_line(line, f"{origin}:{number}")
    except (gzip.BadGzipFile, EOFError, zlib.error) as error:
        raise _Skip(f"corrupt gzip after line {number}: {error}") from None


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
        raise _Skip("binary file")
    try:
        document = trafilatura.bare_extraction(data, with_metadata=True, include_comments=False)
    except Exception as error:  # one odd page must not stop the walk
        raise _Skip(f"HTML extraction failed: {error!r}") from None
    if document is None or not (document.text or "").strip():
        raise _Skip("no article text found in HTML")
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
        raise _Skip(str(why)) from None
    yield from records


_READERS: dict[str, Reader] = {
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
