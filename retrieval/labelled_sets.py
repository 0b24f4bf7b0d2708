"""What the evaluations of the repo's labelled question sets share: reading them, asking them."""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path
from typing import Any

from retrieval.schema import Answer

Ask = Callable[[str, date | None], Answer]


def load_records(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def ask_each(
    records: Sequence[dict[str, Any]], ask: Ask, date_field: str
) -> tuple[list[tuple[dict[str, Any], Answer]], float]:
    """Each record's question asked as of its `date_field`: the answers, and the median time
    an answer took (ms)."""
    answered, latencies = [], []
    for record in records:
        as_of = date.fromisoformat(record[date_field]) if record.get(date_field) else None
        started = time.perf_counter()
        answered.append((record, ask(record["question"], as_of)))
        latencies.append((time.perf_counter() - started) * 1000)
    median = round(statistics.median(latencies), 1) if latencies else 0.0
    return answered, median


def first_sentence(text: str) -> str:
    """An answer's lead: the text before its first citation marker, where the claim sits."""
    return text.split("[1]", 1)[0].strip()
