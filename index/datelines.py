"""Dates and news datelines: turn what articles carry into "YYYY-MM-DD" or None."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

_MONTHS = {
    m: i
    for i, names in enumerate(
        (
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        ),
        start=1,
    )
    for m in names
}

_ISO_PREFIX = re.compile(r"\s*(\d{4})[-/](\d{1,2})[-/](\d{1,2})(?![\d])")
_TEXT_DATE = re.compile(
    r"\s*(?:(\d{1,2})\s+([A-Za-z]+)\.?,?\s+(\d{4})|([A-Za-z]+)\.?\s+(\d{1,2}),?\s+(\d{4}))\s*$"
)

# ` date 2023-11-03 (Bloomberg) -- `, `2023-11-03 (Reuters) - `, `WASHINGTON, Nov 3 (Reuters) - `,
# `LONDON (AP) — `: an optional date or place, the source in parentheses, then a dash.
_CITY = r"[A-Z][A-Z.'\-]+(?:[ \t][A-Z][A-Z.'\-]*)*"  # WASHINGTON, NEW YORK
_REGION = r"[A-Z][A-Za-z.']*(?:[ \t][A-Z][A-Za-z.']*)*"  # D.C., New South Wales
_MONTH_DAY = r"(?P<month>[A-Z][a-z]{2,8})\.?[ \t]+(?P<day>\d{1,2})(?:,[ \t]*(?P<year>\d{4}))?"
_DATELINE = re.compile(
    rf"""[ \t]*(?:date[ \t]+)?
    (?:(?P<iso>\d{{4}}-\d{{2}}-\d{{2}})
      |(?P<place>{_CITY}(?:,[ \t]*{_REGION})?)(?:,[ \t]*{_MONTH_DAY})?
    )[ \t]+
    \((?P<source>[^()\n]{{1,40}})\)[ \t]*(?:--|-|—|–)[ \t]*""",
    re.VERBOSE,
)


@dataclass(frozen=True)
class Dateline:
    """What a dateline says; `end` is where the article's own first sentence starts."""

    date: str | None
    source: str
    end: int


def _iso(year: int, month: int, day: int) -> str | None:
    try:
        return dt.date(year, month, day).isoformat()
    except ValueError:
        return None


def normalise_date(value: object) -> str | None:
    """ "2023-11-03T10:00:00Z", date objects, "Nov 3, 2023" → "2023-11-03"; anything else → None."""
    if isinstance(value, dt.datetime | dt.date):
        return value.strftime("%Y-%m-%d")
    if not isinstance(value, str):
        return None
    if match := _ISO_PREFIX.match(value):
        return _iso(*(int(part) for part in match.groups()))
    if match := _TEXT_DATE.match(value):
        day, month, year = match.group(1, 2, 3) if match.group(1) else match.group(5, 4, 6)
        number = _MONTHS.get(month.lower())
        return _iso(int(year), number, int(day)) if number else None
    return None


def parse_dateline(text: str) -> Dateline | None:
    """A dateline at the very start of `text`, or None. Only the prefix is consumed."""
    match = _DATELINE.match(text)
    if match is None:
        return None
    date = normalise_date(match["iso"]) if match["iso"] else None
    if match["month"] and match["year"] and (month := _MONTHS.get(match["month"].lower())):
        date = _iso(int(match["year"]), month, int(match["day"]))
    return Dateline(date=date, source=match["source"].strip(), end=match.end())
