"""The HTTP routes through `TestClient` (lifespan on) over the real service and index."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from bot.http.app import create_app
from bot.service import NewsdeskService
from bot.settings import Settings
from tests.conftest import settings_for

SEED_QUESTION = "What did Blinken say about a multinational force?"
ADMIN_TOKEN = "test-admin-token-3b9f"


@pytest.fixture(scope="module")
def client(built_index: Path, service: NewsdeskService) -> Iterator[TestClient]:
    """The session's loaded service behind the app (the lifespan still runs)."""
    with TestClient(create_app(settings_for(built_index), service=service)) as test_client:
        yield test_client


@pytest.fixture(scope="module")
def admin_client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """An app with an admin token, over an empty index dir (the auth rules need no index)."""
    empty = tmp_path_factory.mktemp("no-index")
    settings = Settings(
        _env_file=None, index_dir=empty / "index", corpus=empty, admin_token=ADMIN_TOKEN
    )
    with TestClient(create_app(settings)) as test_client:
        yield test_client


@pytest.fixture
def no_index_client(tmp_path: Path) -> Iterator[TestClient]:
    settings = Settings(_env_file=None, index_dir=tmp_path / "none", corpus=tmp_path)
    with TestClient(create_app(settings)) as c:
        yield c


def ask(client: TestClient, question: str = SEED_QUESTION, **fields: Any) -> dict[str, Any]:
    response = client.post("/ask", json={"question": question, **fields})
    assert response.status_code == 200, response.text
    return response.json()


# --- answers --------------------------------------------------------------------------------


def test_seed_question_is_answered_from_the_bloomberg_article(client: TestClient) -> None:
    answer = ask(client)
    assert not answer["abstained"]
    assert answer["session_id"]
    assert answer["query"] == SEED_QUESTION
    first = answer["citations"][0]
    assert first["n"] == 1 and "[1]" in answer["answer"]
    assert (first["source"], first["date"]) == ("Bloomberg", "2023-11-03")
    assert "multinational force" in first["quote"] or "premature" in first["quote"]
    assert first["quote"] in first["passage"]
    assert first["speaker"] == "Antony Blinken"  # whose words the quote is
    assert answer["answer"].startswith("Antony Blinken declined to comment")


def test_quotes_sit_at_their_offsets_in_the_article(client: TestClient) -> None:
    for citation in ask(client)["citations"]:
        article = client.get(f"/articles/{citation['article_id']}")
        assert article.status_code == 200
        body = article.json()
        assert body["text"][citation["start"] : citation["end"]] == citation["quote"]
        assert body["title"] == citation["title"]


def test_follow_up_continues_the_session(client: TestClient) -> None:
    first = ask(client)
    follow = ask(client, "And what about a two-state solution?", session_id=first["session_id"])
    assert follow["session_id"] == first["session_id"]
    assert follow["rewritten_query"]
    assert not follow["abstained"]
    assert "two-state" in follow["answer"].lower()


def test_more_and_reset_session(client: TestClient) -> None:
    session = ask(client)["session_id"]
    more = client.post(f"/sessions/{session}/more")
    assert more.status_code == 200, more.text
    assert more.json()["session_id"] == session
    assert client.delete(f"/sessions/{session}").status_code == 204
    assert client.delete(f"/sessions/{session}").status_code == 404
    gone = client.post(f"/sessions/{session}/more")
    assert gone.status_code == 404
    assert "expired" in gone.json()["detail"] or "No conversation" in gone.json()["detail"]


def test_off_topic_question_abstains(client: TestClient) -> None:
    answer = ask(client, "What is the best recipe for sourdough bread?")
    assert answer["abstained"] is True
    assert answer["citations"] == []


# --- search, articles, health ------------------------------------------------------------


def test_search_returns_ranked_passages(client: TestClient) -> None:
    response = client.get("/search", params={"q": "multinational force Gaza", "k": 3})
    assert response.status_code == 200
    results = response.json()["results"]
    assert 1 <= len(results) <= 3
    scores = [r["score"] for r in results]
    assert scores == sorted(scores, reverse=True)
    assert {"passage", "article_id", "title", "source", "date", "url", "start", "end"} <= set(
        results[0]
    )


def test_search_filters_narrow_the_results(client: TestClient) -> None:
    params = {"q": "Blinken", "k": 5}
    assert client.get("/search", params=params).json()["results"]
    for narrowing in ({"source": "No Such Outlet"}, {"since": "2099-01-01"}):
        response = client.get("/search", params={**params, **narrowing})
        assert response.status_code == 200
        assert response.json()["results"] == []
    both = client.get("/search", params={**params, "source": ["bloomberg", "Reuters"]})
    assert all(r["source"] == "Bloomberg" for r in both.json()["results"])


def test_coverage_counts_the_articles_that_mention_a_topic(client: TestClient) -> None:
    response = client.get("/coverage", params={"q": "multinational force"})
    assert response.status_code == 200
    found = response.json()
    assert (found["articles"], found["stories"]) == (1, 1)
    assert found["by_source"] == [["Bloomberg", 1]]
    assert found["first_date"] == found["last_date"] == "2023-11-03"
    assert found["headlines"][0]["source"] == "Bloomberg"
    asked = ask(client, "What do you have on the multinational force?")
    assert asked["coverage"]["articles"] == 1 and asked["answer"].startswith("1 article mentions")
    nothing = client.get("/coverage", params={"q": "Norwegian salmon"}).json()
    assert (nothing["articles"], nothing["headlines"]) == (0, [])
    for bad in ({"q": " "}, {"q": "Gaza", "since": "2023-12-01", "until": "2023-11-01"}):
        refused = client.get("/coverage", params=bad)
        assert refused.status_code == 422 and refused.json()["detail"]


def test_unknown_article_is_404(client: TestClient) -> None:
    response = client.get("/articles/no-such-article")
    assert response.status_code == 404
    assert "no-such-article" in response.json()["detail"]


def test_health_reports_the_index(client: TestClient) -> None:
    response = client.get("/health")
    assert response.status_code == 200
    health = response.json()
    assert health["status"] == "ok"
    assert health["articles"] >= 1 and health["chunks"] >= health["articles"]
    assert health["model"] and health["built_at"]
    assert health["uptime_s"] >= 0
    assert "path" not in health


# --- bad input and odd states ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "question"),
        ({"question": ""}, "question"),
        ({"question": "   "}, "question"),
        ({"question": "x" * 1001}, "question"),
        ({"question": "hi", "k": 0}, "k"),
        ({"question": "hi", "k": 21}, "k"),
        ({"question": "hi", "k": "many"}, "k"),
        ({"question": "hi", "since": "03/11/2023"}, "since"),
        ({"question": "hi", "until": "2023-02-30"}, "until"),
        ({"question": "hi", "as_of": 1700000000}, "as_of"),
        ({"question": "hi", "since": "2023-12-01", "until": "2023-11-01"}, "since"),
        ({"question": "hi", "source": "Bloomberg"}, "source"),
        ({"question": "hi", "source": ["  "]}, "source"),
        ({"question": "hi", "session_id": "no spaces allowed"}, "session_id"),
        ({"question": "hi", "colour": "blue"}, "colour"),
        (["question"], "body"),
    ],
)
def test_invalid_ask_is_422_with_a_reason(client: TestClient, body: Any, field: str) -> None:
    response = client.post("/ask", json=body)
    assert response.status_code == 422
    problem = response.json()
    assert isinstance(problem["detail"], str) and field in problem["detail"]
    assert problem["errors"]


@pytest.mark.parametrize(
    "params",
    [{}, {"q": ""}, {"q": "x", "k": 50}, {"q": "x", "since": "yesterday"}, {"q": "x", "zz": 1}],
)
def test_invalid_search_is_422(client: TestClient, params: dict[str, Any]) -> None:
    response = client.get("/search", params=params)
    assert response.status_code == 422
    assert isinstance(response.json()["detail"], str)


def test_malformed_bodies_are_4xx(client: TestClient) -> None:
    headers = {"content-type": "application/json"}
    assert client.post("/ask", content=b"{not json", headers=headers).status_code == 422
    not_utf8 = client.post("/ask", content=b'{"question": "\xff\xfe"}', headers=headers)
    assert not_utf8.status_code in {400, 422}
    huge = client.post("/ask", content=b" " * 70_000, headers=headers)
    assert huge.status_code == 413


def test_unknown_route_and_method(client: TestClient) -> None:
    assert client.get("/no/such/route").status_code == 404
    assert client.get("/ask").status_code == 405


def test_unexpected_error_is_logged_and_never_a_500(
    client: TestClient, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken_search(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("boom")

    service = client.app.state.newsdesk.service  # type: ignore[attr-defined]
    monkeypatch.setattr(service, "search", broken_search)
    response = client.get("/search", params={"q": "anything"})
    assert response.status_code == 503
    assert "boom" not in response.text and "Traceback" not in response.text
    assert any("boom" in (r.exc_text or "") for r in caplog.records)


def test_without_an_index_the_api_says_how_to_build_one(no_index_client: TestClient) -> None:
    for response in (
        no_index_client.post("/ask", json={"question": SEED_QUESTION}),
        no_index_client.get("/search", params={"q": "x"}),
        no_index_client.get("/health"),
    ):
        assert response.status_code == 503
        assert "newsdesk index build" in response.json()["detail"]
    assert no_index_client.get("/").status_code == 200


def test_an_index_built_after_start_up_is_picked_up(built_index: Path, tmp_path: Path) -> None:
    index_dir = tmp_path / "index"
    with TestClient(create_app(settings_for(index_dir))) as late:
        assert late.get("/health").status_code == 503
        shutil.copytree(built_index, index_dir, symlinks=True)
        late.app.state.newsdesk.reload_retry_s = 0  # type: ignore[attr-defined]
        assert late.get("/health").status_code == 200
        assert ask(late)["citations"]


def test_a_damaged_index_leaves_the_api_up_answering_503(built_index: Path, tmp_path: Path) -> None:
    index_dir = tmp_path / "index"
    shutil.copytree(built_index, index_dir, symlinks=True)
    for vectors in (index_dir / "current").glob("*.faiss"):
        vectors.write_bytes(b"not a faiss index")
    with TestClient(create_app(settings_for(index_dir))) as damaged:
        response = damaged.post("/ask", json={"question": SEED_QUESTION})
        assert response.status_code == 503
        assert response.json()["detail"]
        assert damaged.get("/").status_code == 200


# --- admin token rules ------------------------------------------------------------------------


def test_admin_routes_are_off_without_a_token(client: TestClient) -> None:
    assert client.post("/admin/reindex").status_code == 404
    assert client.get("/admin/reindex").status_code == 404
    assert "/admin/reindex" not in client.get("/openapi.json").json()["paths"]


@pytest.mark.parametrize(
    ("authorization", "status"),
    [
        (None, 401),
        ("Basic dXNlcjpwYXNz", 401),
        ("Bearer", 401),
        ("Bearer wrong-token", 403),
        (f"Bearer {ADMIN_TOKEN}x", 403),
        (f"Bearer {ADMIN_TOKEN}", 200),
    ],
)
def test_admin_token_rules(
    admin_client: TestClient, authorization: str | None, status: int
) -> None:
    headers = {"Authorization": authorization} if authorization else {}
    response = admin_client.get("/admin/reindex", headers=headers)
    assert response.status_code == status
    if status == 401:
        assert response.headers["www-authenticate"] == "Bearer"
    if status == 200:
        assert response.json()["state"] in {"idle", "succeeded", "failed", "running"}


def test_openapi_documents_the_routes_with_examples(admin_client: TestClient) -> None:
    spec = admin_client.get("/openapi.json").json()
    assert {"/ask", "/search", "/articles/{article_id}", "/health", "/admin/reindex"} <= set(
        spec["paths"]
    )
    assert spec["components"]["schemas"]["AskRequest"]["examples"]
    assert admin_client.get("/docs").status_code == 200
