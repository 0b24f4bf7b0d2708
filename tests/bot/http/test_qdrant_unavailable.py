"""A Qdrant cluster that goes away under a running server: 503 naming it and why, then answers
again once it is back, without a restart (real uvicorn on 127.0.0.1; the index in an embedded
Qdrant store, the outage a client pointed at a port nothing listens on)."""

from __future__ import annotations

from pathlib import Path

import httpx
from qdrant_client import QdrantClient

from bot.http.app import create_app
from bot.service import NewsdeskService
from index.qdrant_collection import connect
from index.qdrant_publish import publish_current
from tests.bot.http.live_server import serve_in_thread
from tests.cli.process import free_port
from tests.conftest import settings_for

QUESTION = "What did Blinken say about a multinational force?"


def test_qdrant_going_away_answers_503_then_recovers(
    built_index: Path, tmp_path: Path, embedder
) -> None:
    store = tmp_path / "qdrant"
    client = connect(str(store))
    publish_current(built_index, client, "newsdesk-", incremental=False)
    client.close()
    settings = settings_for(built_index, backend="qdrant", qdrant_url=str(store))
    service = NewsdeskService(settings, embedder)
    reader = service.retriever.reader
    app = create_app(settings, service=service)
    with serve_in_thread(app) as base_url, httpx.Client(base_url=base_url, timeout=60) as http:
        assert http.post("/ask", json={"question": QUESTION}).status_code == 200

        working, location = reader.client, reader._location
        gone = f"http://127.0.0.1:{free_port()}"
        reader.client, reader._location = (
            QdrantClient(url=gone, timeout=2, check_compatibility=False),
            gone,
        )
        refused = http.post("/ask", json={"question": QUESTION})
        assert refused.status_code == 503
        assert f"Qdrant at {gone} is unreachable" in refused.json()["detail"]

        reader.client.close()
        reader.client, reader._location = working, location
        answered = http.post("/ask", json={"question": QUESTION})
        assert answered.status_code == 200, answered.text
        assert answered.json()["citations"][0]["source"] == "Bloomberg"
    reader.close()
