"""Read a corpus into Articles: one reader per format, streamed, de-duplicated.

A corpus is a folder, walked recursively, or one file (a feed dump such as articles.jsonl.gz).
Every file or line that cannot become an article is reported (through `on_skip`, else logged),
and the walk goes on. `Article.text` is the reference every downstream offset points into.
The readers, one per file format, are in index/corpus_formats.py.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pysbd

from index.corpus_formats import READERS, Skip, SkippedInput, suffix
from index.datelines import normalise_date
from index.errors import CorpusError

logger = logging.getLogger(__name__)

TITLE_MAX_CHARS = 100
_SENTENCES = pysbd.Segmenter(language="en", clean=False)


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
    reader = READERS.get(suffix(path))
    if reader is None:
        yield SkippedInput(origin, f"unsupported file type {suffix(path) or '(none)'}")
        return
    for item in reader(path, origin):
        if isinstance(item, SkippedInput):
            yield item
            continue
        try:
            yield _article(*item)
        except Skip as why:
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


def _article(origin: str, raw: dict[str, Any]) -> Article:
    text = raw.get("text")
    if not isinstance(text, str):
        raise Skip("no text field" if text is None else "text is not a string")
    text = text.replace("\r\n", "\n").replace("\r", "\n").lstrip("\ufeff").strip()
    if not text:
        raise Skip("empty text")
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
