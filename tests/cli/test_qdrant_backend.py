"""`--backend qdrant` as a user runs it: the newsroom corpus built into an embedded Qdrant store
answers like the local index, and a Qdrant that cannot be reached is named in one line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli.process import free_port, run_newsdesk, user_env

QUESTION = "What did Arab ministers press Blinken for?"


@pytest.fixture(scope="module")
def qdrant_build(newsroom_corpus: Path, model_cache: Path, tmp_path_factory) -> dict[str, str]:
    """`newsdesk index build --backend qdrant` into an embedded store (a folder), asking for
    int8 quantization (which the embedded store records but does not search by)."""
    root = tmp_path_factory.mktemp("qdrant-cli")
    env = user_env(cache_dir=model_cache, index_dir=root / "index", qdrant_url=root / "qdrant",
                   qdrant_quantization="int8")  # fmt: skip
    built = run_newsdesk("index", "build", "--backend", "qdrant", "--corpus",
                         str(newsroom_corpus), env=env)  # fmt: skip
    assert built.returncode == 0, built.stderr
    assert f"Built Qdrant {root / 'qdrant'}" in built.stdout
    return env


def test_ask_answers_the_same_from_qdrant_as_from_the_local_index(
    qdrant_build: dict[str, str], newsroom_env: dict[str, str]
) -> None:
    on_qdrant = run_newsdesk(
        "ask", QUESTION, "--json", env=qdrant_build | {"NEWSDESK_BACKEND": "qdrant"}
    )
    on_local = run_newsdesk("ask", QUESTION, "--json", env=newsroom_env)
    assert on_qdrant.returncode == on_local.returncode == 0, on_qdrant.stderr
    mine, theirs = json.loads(on_qdrant.stdout), json.loads(on_local.stdout)
    mine.pop("session_id"), theirs.pop("session_id")
    assert mine == theirs
    assert mine["citations"] and not mine["abstained"]


def test_stats_read_the_collection(qdrant_build: dict[str, str]) -> None:
    stats = run_newsdesk("index", "stats", "--backend", "qdrant", "--json", env=qdrant_build)
    assert stats.returncode == 0, stats.stderr
    summary = json.loads(stats.stdout)
    assert summary["articles"] == 8 and summary["statements"] > 0
    assert "newsdesk-chunks" in summary["path"]


def test_the_build_gives_the_collection_the_quantization_asked_for(
    qdrant_build: dict[str, str],
) -> None:
    from qdrant_client import models

    from index.qdrant_collection import DENSE, alias_name, connect

    client = connect(qdrant_build["NEWSDESK_QDRANT_URL"])
    try:
        dense = client.get_collection(alias_name("newsdesk-")).config.params.vectors[DENSE]
    finally:
        client.close()
    assert dense.quantization_config.scalar.type == models.ScalarType.INT8


def test_a_store_another_process_holds_is_named_in_one_line(
    qdrant_build: dict[str, str],
) -> None:
    from index.qdrant_collection import connect

    folder = qdrant_build["NEWSDESK_QDRANT_URL"]
    holder = connect(folder)  # this test's process holds the folder's lock
    try:
        stats = run_newsdesk("index", "stats", "--backend", "qdrant", env=qdrant_build)
    finally:
        holder.close()
    assert stats.returncode == 1
    lines = stats.stderr.strip().splitlines()
    assert len(lines) == 1, stats.stderr
    assert f"The embedded Qdrant store {folder} is in use by another process" in lines[0]


@pytest.mark.parametrize(
    "command",
    [("ask", QUESTION), ("index", "stats"), ("index", "build"), ("serve", "--port", "0")],
    ids=["ask", "stats", "build", "serve"],
)
def test_an_unreachable_qdrant_is_named_in_one_line(
    command: tuple[str, ...], newsroom_corpus: Path, model_cache: Path, tmp_path: Path
) -> None:
    url = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    env = user_env(cache_dir=model_cache, index_dir=tmp_path / "index", corpus=newsroom_corpus,
                   backend="qdrant", qdrant_url=url)  # fmt: skip
    finished = run_newsdesk(*command, env=env)
    assert finished.returncode == 1
    lines = finished.stderr.strip().splitlines()
    assert len(lines) == 1, finished.stderr
    assert f"Qdrant at {url} is unreachable" in lines[0]
    if command[:2] == ("index", "build"):
        assert not (tmp_path / "index").exists()  # refused before reading or encoding anything
