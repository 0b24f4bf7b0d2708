"""Following the index: a generation another process publishes is swapped in (and answers),
one that will not load is logged once while the loaded one keeps serving, and /health names
the generation being served."""

from __future__ import annotations

import asyncio
import logging
import shutil
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from bot.http.app import create_app
from bot.index_follower import IndexFollower
from bot.service import NewsdeskService
from index.build import update_index
from index.layout import current_generation
from tests.conftest import settings_for

NEW_ARTICLE = (
    "Title: Lighthouse keeper retires after 41 years\n"
    "2024-03-08 (Harbour Gazette) - Marta Oyelaran, the last lighthouse keeper on the north "
    "cape, retired on Friday after 41 years, handing the light over to an automatic lamp.\n"
)
QUESTION = "When did the lighthouse keeper Marta Oyelaran retire?"


@pytest.fixture
def own_index(built_index: Path, corpus_copy: Path, tmp_path: Path) -> Path:
    index_dir = tmp_path / "index"
    shutil.copytree(built_index, index_dir, symlinks=True)
    return index_dir


def cited_titles(service: NewsdeskService) -> list[str]:
    return [citation.title for citation in service.ask(QUESTION).citations]


def test_a_generation_built_elsewhere_is_swapped_in(
    own_index: Path, corpus_copy: Path, embedder
) -> None:
    service = NewsdeskService(settings_for(own_index, corpus=corpus_copy), embedder)
    follower = IndexFollower(lambda: service)
    first = service.generation
    assert not asyncio.run(follower.check())  # nothing new yet
    (corpus_copy / "lighthouse.txt").write_text(NEW_ARTICLE)
    assert "Lighthouse keeper retires after 41 years" not in cited_titles(service)

    update_index(corpus_copy, own_index, embedder)

    assert asyncio.run(follower.check())
    assert service.generation == current_generation(own_index) != first
    assert "Lighthouse keeper retires after 41 years" in cited_titles(service)


def test_a_generation_that_will_not_load_is_logged_once_and_the_old_one_serves(
    own_index: Path, corpus_copy: Path, embedder, caplog: pytest.LogCaptureFixture
) -> None:
    service = NewsdeskService(settings_for(own_index, corpus=corpus_copy), embedder)
    follower = IndexFollower(lambda: service)
    serving = service.generation
    damaged = own_index / "gen-20990101T000000000000Z-badbad"
    shutil.copytree(serving, damaged)
    (damaged / "manifest.json").write_text("{ not json")
    (own_index / "next").symlink_to(damaged.name)
    (own_index / "next").replace(own_index / "current")

    with caplog.at_level(logging.ERROR, logger="bot.index_follower"):
        assert not asyncio.run(follower.check())
        assert not asyncio.run(follower.check())  # not retried: it is still the same one

    assert [r.getMessage().split(";")[0] for r in caplog.records] == [
        f"index generation {damaged.name} could not be loaded"
    ]
    assert service.generation == serving
    assert service.ask("What did Blinken say about a multinational force?").citations

    update_index(corpus_copy, own_index, embedder)  # a rebuild replaces the damaged one
    assert asyncio.run(follower.check())
    assert service.generation == current_generation(own_index)


def test_health_names_the_generation_and_follows_a_new_one(
    own_index: Path, corpus_copy: Path, embedder
) -> None:
    settings = settings_for(own_index, corpus=corpus_copy)
    service = NewsdeskService(settings, embedder)
    with TestClient(create_app(settings, service=service)) as client:
        before = client.get("/health").json()
        assert before["generation"] == current_generation(own_index).name
        assert before["built_at"]
        (corpus_copy / "lighthouse.txt").write_text(NEW_ARTICLE)
        update_index(corpus_copy, own_index, embedder)
        deadline = time.monotonic() + 20
        while client.get("/health").json()["generation"] == before["generation"]:
            assert time.monotonic() < deadline, "the new generation was not picked up"
            time.sleep(0.1)
        after = client.get("/health").json()

    assert after["generation"] == current_generation(own_index).name
    assert after["articles"] == before["articles"] + 1
