"""Dates as answers write them: "3 Nov 2023", the way a reader says them, not ISO."""

from __future__ import annotations

from datetime import date

MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def human_date(iso: str | None) -> str:
    """ "2023-11-03" → "3 Nov 2023"; "" for no date."""
    if not iso:
        return ""
    day = date.fromisoformat(iso)
    return f"{day.day} {MONTHS[day.month - 1]} {day.year}"
