"""GET /timeline and a timeline asked through /ask, over a real uvicorn server on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from bot.http.app import create_app
from bot.service import NewsdeskService
from tests.bot.http.live_server import serve_in_thread
from tests.conftest import settings_for
from tests.timeline_corpus import EVENTS, LATER


@pytest.fixture(scope="module")
def client(timeline_index: Path, timeline_service: NewsdeskService) -> Iterator[httpx.Client]:
    app = create_app(settings_for(timeline_index), service=timeline_service)
    with serve_in_thread(app) as base_url, httpx.Client(base_url=base_url, timeout=60) as client:
        yield client


def test_timeline_route_gives_dated_cited_lines(client: httpx.Client) -> None:
    response = client.get("/timeline", params={"q": "Kessler Bridge"})
    assert response.status_code == 200
    body = response.json()
    events = body["timeline"]["events"]
    assert len(events) == 12 and body["timeline"]["more"] == 2
    assert [e["date"] for e in events] == sorted(e["date"] for e in events)
    assert events[0] == {"n": 1, "date": "2024-03-04", "source": "Westmere Herald",
                         "sentence": EVENTS["2024-03-04"]}  # fmt: skip
    assert [c["n"] for c in body["citations"]] == [e["n"] for e in events]
    assert body["citations"][0]["deep_url"].startswith("https://news.example.org/kb-collapse#:~:")

    following = client.post(f"/sessions/{body['session_id']}/more")
    assert following.status_code == 200
    rest = following.json()["timeline"]
    assert [e["date"] for e in rest["events"]] == [day for day, _ in LATER[-2:]]
    assert (rest["offset"], rest["more"]) == (12, 0)
    paged = client.get("/timeline", params={"q": "Kessler Bridge", "offset": 12}).json()
    assert paged["timeline"] == rest


def test_timeline_route_takes_dates_and_sources(client: httpx.Client) -> None:
    bounded = client.get(
        "/timeline", params={"q": "Kessler Bridge", "since": "2024-03-05", "until": "2024-03-14"}
    ).json()
    assert [e["date"] for e in bounded["timeline"]["events"]] == [
        "2024-03-05", "2024-03-08", "2024-03-14"
    ]  # fmt: skip
    courier = client.get("/timeline", params={"q": "Kessler Bridge", "source": "Daily Courier"})
    assert {e["source"] for e in courier.json()["timeline"]["events"]} == {"Daily Courier"}


def test_a_timeline_question_to_ask_is_answered_as_one(client: httpx.Client) -> None:
    asked = client.post("/ask", json={"question": "How did the Kessler Bridge saga unfold?"})
    assert asked.status_code == 200
    body = asked.json()
    assert body["timeline"]["events"][0]["sentence"] == EVENTS["2024-03-04"]
    assert body["answer"].splitlines()[0].startswith("4 Mar 2024 — A barge struck")
    ordinary = client.post("/ask", json={"question": "Who was charged over the Kessler Bridge?"})
    assert ordinary.json()["timeline"] is None


@pytest.mark.parametrize(
    ("params", "reason"),
    [
        ({"q": " "}, "q"),
        ({"q": "Kessler Bridge", "since": "March"}, "since"),
        ({"q": "Kessler Bridge", "until": "2024-02-30"}, "until"),
        ({"q": "Kessler Bridge", "since": "2024-03-20", "until": "2024-03-01"}, "since"),
        ({"q": "Kessler Bridge", "offset": -1}, "offset"),
        ({}, "q"),
    ],
)
def test_a_bad_request_is_4xx_with_a_reason(
    client: httpx.Client, params: dict[str, object], reason: str
) -> None:
    refused = client.get("/timeline", params=params)
    assert refused.status_code == 422
    assert reason in refused.text and refused.json()["detail"]


def test_without_an_index_the_route_is_503(tmp_path: Path) -> None:
    app = create_app(settings_for(tmp_path / "no-index"))
    with serve_in_thread(app) as base_url:
        refused = httpx.get(f"{base_url}/timeline", params={"q": "Kessler Bridge"}, timeout=30)
    assert refused.status_code == 503
    assert "newsdesk index build" in refused.json()["detail"]
