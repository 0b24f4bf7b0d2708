"""What the process tests share: a corpus of several outlets and one index over it, built by the
installed `newsdesk index build` itself once per session (read-only: copy it to change it)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.cli.process import Finished, run_newsdesk, user_env
from tests.conftest import REPO, SEED_CORPUS

NEWSROOM = REPO / "tests" / "data" / "newsroom"
NEWSROOM_ARTICLES = 8  # the seed article and the newsroom's seven (five files and a feed dump)
LAST_TEST = "test_no_traceback.py::test_no_command_printed_a_traceback"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The traceback check reads what every other process test left behind, so it runs last."""
    last = [item for item in items if item.nodeid.endswith(LAST_TEST)]
    items[:] = [item for item in items if item not in last] + last


@pytest.fixture(scope="session")
def newsroom_corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The shipped corpus plus tests/data/newsroom: Bloomberg, Reuters, AP, BBC, … (read-only)."""
    corpus = tmp_path_factory.mktemp("newsroom") / "corpus"
    shutil.copytree(SEED_CORPUS, corpus)
    shutil.copytree(NEWSROOM, corpus, dirs_exist_ok=True)
    return corpus


@pytest.fixture(scope="session")
def newsroom_build(
    newsroom_corpus: Path, model_cache: Path, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, Finished]:
    """`newsdesk index build` over the newsroom corpus, run once: the index and how it went."""
    index_dir = tmp_path_factory.mktemp("newsroom-index") / "index"
    env = user_env(cache_dir=model_cache)
    built = run_newsdesk(
        "index", "build", "--corpus", str(newsroom_corpus), "--index-dir", str(index_dir), env=env
    )
    assert built.returncode == 0, built.stderr
    return index_dir, built


@pytest.fixture(scope="session")
def newsroom_index(newsroom_build: tuple[Path, Finished]) -> Path:
    return newsroom_build[0]


@pytest.fixture
def newsroom_env(newsroom_index: Path, model_cache: Path) -> dict[str, str]:
    """A user's environment pointing at the newsroom index."""
    return user_env(index_dir=newsroom_index, cache_dir=model_cache)
