"""RSS and Atom feed files as corpus files: one article record per entry.

A feed saved from a news site (`.rss`, `.atom`, or `.xml` whose root is `<rss>`, `<feed>` or
`<rdf:RDF>`) is read with feedparser: title, link, date, outlet and text of each entry. The
text comes from the entry's content, else its summary, with the HTML stripped by trafilatura
as for `.html` files. A feed that is not well-formed (a truncated download, a file still being
written) is refused whole, so half of it is never indexed as if it were all of it.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Mapping
from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import Any
from xml.sax import SAXParseException

import feedparser
import trafilatura

from index.datelines import normalise_date

FEED_ROOTS = frozenset({"rss", "feed", "RDF"})  # RSS 2.0/0.9x, Atom, RSS 1.0 (rdf:RDF)
_SNIFF_BYTES = 8192
_PROLOG = re.compile(  # what may stand before the root element: declaration, comments, doctype
    r"\s*(?:<\?.*?\?>|<!--.*?-->|<!DOCTYPE(?:[^\[>]|\[.*?\])*>)", re.DOTALL | re.IGNORECASE
)
_ROOT = re.compile(r"\s*<(?:[\w.-]+:)?([\w.-]+)")
_HTML_TYPES = ("text/html", "application/xhtml+xml")


class FeedUnreadable(ValueError):
    """The file is not a feed, or not one that can be read whole; the message says why."""


def feed_records(data: bytes, origin: str) -> list[tuple[str, dict[str, Any]]]:
    """(origin, raw article fields) for each entry of the feed in `data`, in the feed's order.

    Raises FeedUnreadable for a file whose root is not a feed, a malformed feed or one without
    entries; nothing of such a file is returned.
    """
    root = root_element(data)
    if root not in FEED_ROOTS:
        found = f"its root element is <{root}>" if root else "no XML root element found"
        raise FeedUnreadable(f"not an RSS or Atom feed ({found})")
    try:
        parsed = feedparser.parse(data)  # bytes: never taken for a URL or a file name
    except Exception as error:  # one odd feed must not stop the walk
        raise FeedUnreadable(f"feed parsing failed: {error!r}") from None
    problem = parsed.get("bozo_exception")
    # Undefined entities (&nbsp; in RSS written by hand) are common and harmless: feedparser's
    # lenient parser reads such feeds whole. Any other XML error may have cut entries short.
    if isinstance(problem, SAXParseException) and problem.getMessage() != "undefined entity":
        where = f" at line {problem.getLineNumber()}" if problem.getLineNumber() else ""
        raise FeedUnreadable(f"malformed feed: {problem.getMessage()}{where}")
    if not parsed.entries:
        raise FeedUnreadable("feed has no entries")
    outlet = _plain(parsed.feed.get("title"), parsed.feed.get("title_detail"))
    return [
        (f"{origin}:[{number}]", _entry_fields(entry, outlet))
        for number, entry in enumerate(parsed.entries)
    ]


def root_element(data: bytes) -> str | None:
    """The local name of the document's root element (`RDF` for `<rdf:RDF>`), read from the
    start of the file only; None when the file does not start like XML."""
    head = data[:_SNIFF_BYTES]
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        text = head.decode("utf-16", errors="ignore")
    else:
        text = head.decode("utf-8", errors="ignore").lstrip("\ufeff")
    position = 0
    while prolog := _PROLOG.match(text, position):
        position = prolog.end()
    match = _ROOT.match(text, position)
    return match[1] if match else None


def _entry_fields(entry: Mapping[str, Any], outlet: str | None) -> dict[str, Any]:
    source = entry.get("source") or {}
    return {
        "title": _plain(entry.get("title"), entry.get("title_detail")),
        "url": entry.get("link"),
        "date": entry_date(entry),
        # an aggregator's entry names the outlet that published it; else the feed is the outlet
        "source": _plain(source.get("title"), None) or outlet,
        "text": _entry_text(entry),
    }


def entry_date(entry: Mapping[str, Any]) -> str | None:
    """The day the entry was published (else updated) as written in the feed, in its own time
    zone, as other readers read dates: ISO 8601 (Atom) or RFC 822 (RSS)."""
    for key in ("published", "updated", "created"):
        raw = entry.get(key)
        if not isinstance(raw, str) or not raw.strip():
            continue
        if day := normalise_date(raw.strip()):
            return day
        try:
            return parsedate_to_datetime(raw).strftime("%Y-%m-%d")
        except (TypeError, ValueError, IndexError):
            pass
        parsed = entry.get(f"{key}_parsed")  # feedparser read a rarer format (in UTC)
        if parsed is not None:
            return datetime(*parsed[:3]).strftime("%Y-%m-%d")
    return None


def _entry_text(entry: Mapping[str, Any]) -> str:
    """The fullest text the entry has: its longest content, else its summary, as plain text."""
    contents = [c for c in entry.get("content") or () if (c.get("value") or "").strip()]
    if contents:
        best = max(contents, key=lambda c: len(c.get("value") or ""))
        return _plain(best.get("value"), best, block=True) or ""
    return _plain(entry.get("summary"), entry.get("summary_detail"), block=True) or ""


def _plain(value: object, detail: Mapping[str, Any] | None, *, block: bool = False) -> str | None:
    """`value` as plain text: stripped of HTML when feedparser says it is HTML (feedparser has
    already decoded the entities of plain text); paragraphs kept for `block`."""
    if not isinstance(value, str) or not value.strip():
        return None
    if (detail or {}).get("type") not in _HTML_TYPES:
        return value.strip()
    page = f"<html><body><article>{value}</article></body></html>"
    text = trafilatura.extract(page, favor_recall=True) if block else None
    return (text or trafilatura.html2txt(page) or "").strip() or None
