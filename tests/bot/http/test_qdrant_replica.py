"""A replica on Qdrant has no local copy of the index: it serves what the alias names."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from bot.http.app import create_app
from index.qdrant_collection import connect
from index.qdrant_publish import publish_current
from tests.conftest import settings_for

QUESTION = "What did Blinken say about a multinational force?"


def test_a_replica_without_the_builders_folder_serves_the_collection(
    built_index: Path, tmp_path: Path
) -> None:
    store = tmp_path / "qdrant"
    writer = connect(str(store))
    publish_current(built_index, writer, "newsdesk-", incremental=False)
    writer.close()
    replica = tmp_path / "replica" / "index"  # never created: the index is in Qdrant
    settings = settings_for(replica, backend="qdrant", qdrant_url=str(store))
    with TestClient(create_app(settings)) as client:
        answered = client.post("/ask", json={"question": QUESTION})
        assert answered.status_code == 200, answered.text
        assert answered.json()["citations"][0]["source"] == "Bloomberg"
        assert client.get("/health").json()["generation"].startswith("newsdesk-chunks-")
    assert not replica.exists()
