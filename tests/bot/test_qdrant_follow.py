"""Servers on Qdrant follow the collection alias: a build published anywhere is served at the
next look, without a restart."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

from bot.index_follower import IndexFollower
from bot.service import NewsdeskService
from index.qdrant_collection import connect
from index.qdrant_publish import publish_current
from tests.conftest import settings_for

QUESTION = "What did Blinken say about a multinational force?"


def test_a_service_on_qdrant_serves_the_collection_a_build_switched_to(
    built_index: Path, tmp_path: Path, embedder
) -> None:
    index_dir = tmp_path / "index"
    shutil.copytree(built_index, index_dir, symlinks=True)
    store = tmp_path / "qdrant"
    client = connect(str(store))
    first = publish_current(index_dir, client, "newsdesk-", incremental=False)
    settings = settings_for(index_dir, backend="qdrant", qdrant_url=str(store))
    client.close()
    service = NewsdeskService(settings, embedder)
    follower = IndexFollower(lambda: service)
    assert service.generation.name == first
    assert not asyncio.run(follower.check())  # nothing new yet

    reader = service.retriever.reader
    second = publish_current(index_dir, reader.client, "newsdesk-", incremental=False)
    assert asyncio.run(follower.check())
    assert service.generation.name == second != first
    answer = service.ask(QUESTION)
    assert not answer.abstained and answer.citations[0].source == "Bloomberg"
    service.retriever.reader.close()
