"""AskBatcher: concurrent asks share service calls; each caller gets its own answer or error."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Sequence
from typing import Any

import pytest

from bot.http.batching import AskBatcher
from index.errors import NewsdeskError


class RecordingBatchCall:
    """A stand-in for `service.ask_many`: echoes each question, slowly, and records batches."""

    def __init__(self, delay_s: float = 0.02) -> None:
        self.delay_s = delay_s
        self.batches: list[list[str]] = []
        self.threads: set[str] = set()

    def __call__(self, requests: Sequence[dict[str, Any]]) -> list[Any]:
        self.threads.add(threading.current_thread().name)
        self.batches.append([r["question"] for r in requests])
        time.sleep(self.delay_s)
        return [
            NewsdeskError(f"refused {r['question']}")
            if r["question"].startswith("bad")
            else f"answer to {r['question']}"
            for r in requests
        ]


def test_a_lone_request_is_not_held_back() -> None:
    call = RecordingBatchCall(delay_s=0)
    batcher = AskBatcher(call, workers=2)
    assert asyncio.run(batcher.ask(question="q1")) == "answer to q1"
    assert call.batches == [["q1"]]
    assert threading.main_thread().name not in call.threads


def test_concurrent_requests_share_calls_and_keep_their_own_answers() -> None:
    call = RecordingBatchCall()
    batcher = AskBatcher(call, workers=1, max_batch=8)

    async def run() -> list[Any]:
        return await asyncio.gather(*(batcher.ask(question=f"q{i}") for i in range(20)))

    assert asyncio.run(run()) == [f"answer to q{i}" for i in range(20)]
    assert sum(len(b) for b in call.batches) == 20
    assert len(call.batches) < 20
    assert max(len(b) for b in call.batches) <= 8


def test_an_error_reaches_only_its_own_caller() -> None:
    batcher = AskBatcher(RecordingBatchCall(), workers=1)

    async def run() -> list[Any]:
        return await asyncio.gather(
            batcher.ask(question="good"), batcher.ask(question="bad one"), return_exceptions=True
        )

    good, bad = asyncio.run(run())
    assert good == "answer to good"
    assert isinstance(bad, NewsdeskError) and "bad one" in str(bad)


def test_a_failed_call_fails_each_request_in_it() -> None:
    def broken(requests: Sequence[dict[str, Any]]) -> list[Any]:
        raise RuntimeError("model crashed")

    batcher = AskBatcher(broken)
    with pytest.raises(RuntimeError, match="model crashed"):
        asyncio.run(batcher.ask(question="q"))


def test_a_call_returning_the_wrong_count_is_an_error() -> None:
    batcher = AskBatcher(lambda requests: [])
    with pytest.raises(RuntimeError, match="got 0 results"):
        asyncio.run(batcher.ask(question="q"))
