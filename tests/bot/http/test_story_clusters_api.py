"""Over HTTP, a citation and a search hit name the other articles of their story."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from bot.http.app import create_app
from tests.conftest import service_over
from tests.story_corpus import STORIES, planted_articles

BARRIER = STORIES["barrier"]


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory, embedder) -> Iterator[TestClient]:
    service = service_over(tmp_path_factory.mktemp("planted"), planted_articles(), embedder)
    with TestClient(create_app(service.settings, service=service)) as test_client:
        yield test_client


def test_ask_cites_one_copy_with_the_others_in_also_in(client: TestClient) -> None:
    response = client.post(
        "/ask", json={"question": "Why did Marrow Bay approve storm gates?", "as_of": "2024-03-10"}
    )
    assert response.status_code == 200, response.text
    citations = [c for c in response.json()["citations"] if c["article_id"] in BARRIER]
    assert len({c["article_id"] for c in citations}) == 1
    also = citations[0]["also_in"]
    assert {a["article_id"] for a in also} == BARRIER - {citations[0]["article_id"]}
    assert {a["source"] for a in also} <= {
        "Reuters",
        "AP",
        "Bay Herald",
        "Daily Post",
        "Evening Star",
    }


def test_search_hits_carry_also_in(client: TestClient) -> None:
    response = client.get("/search", params={"q": "Marrow Bay tidal barrier", "k": 5})
    assert response.status_code == 200, response.text
    hits = [h for h in response.json()["results"] if h["article_id"] in BARRIER]
    assert len({h["article_id"] for h in hits}) == 1
    assert len(hits[0]["also_in"]) == len(BARRIER) - 1
