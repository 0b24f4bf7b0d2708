"""Dates as answers write them: "3 Nov 2023", the way a reader says them, not ISO; and the
ISO dates articles carry read back as days."""

from __future__ import annotations

from datetime import date

MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def human_date(iso: str | None) -> str:
    """ "2023-11-03" → "3 Nov 2023"; "" for no date."""
    if not iso:
        return ""
    day = date.fromisoformat(iso)
    return f"{day.day} {MONTHS[day.month - 1]} {day.year}"


def parse_date(text: str | None) -> date | None:
    """The day an ISO date names; None for no date or one that does not parse."""
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None
