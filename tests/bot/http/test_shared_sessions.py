"""The API with its conversations in Redis: when Redis goes away under a running server, a
question is answered 503 with a reason (never a 500), and the conversation goes on once Redis
is back."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from bot.http.app import create_app
from bot.service import NewsdeskService
from tests.conftest import settings_for
from tests.redis_server import redis_server_fixture  # noqa: F401 (the redis_server fixture)

SEED = "What did Blinken say about a multinational force?"


def test_a_redis_outage_is_503_with_a_reason_and_the_conversation_survives_it(
    redis_server, built_index: Path, embedder
):
    settings = settings_for(built_index, sessions=redis_server.url)
    service = NewsdeskService(settings, embedder)
    with TestClient(create_app(settings, service=service)) as client:
        first = client.post("/ask", json={"question": SEED})
        assert first.status_code == 200
        session_id = first.json()["session_id"]
        redis_server.stop()
        for response in (
            client.post("/ask", json={"question": "Why?", "session_id": session_id}),
            client.post(f"/sessions/{session_id}/more"),
            client.delete(f"/sessions/{session_id}"),
        ):
            assert response.status_code == 503
            assert "session store" in response.json()["detail"]
        assert client.get("/health").status_code == 200  # the index is still served
        redis_server.start()
        follow_up = client.post("/ask", json={"question": "Why?", "session_id": session_id})
    assert follow_up.status_code == 200
    assert follow_up.json()["rewritten_query"] == f"Why? ({SEED})"
