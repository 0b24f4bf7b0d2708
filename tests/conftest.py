"""Shared fixtures: hermetic settings, no network beyond 127.0.0.1, one real index per session."""

from __future__ import annotations

import os
import shutil
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"

from bot.settings import Settings, get_settings  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
SEED_CORPUS = REPO / "corpus"
DEV_DATA = REPO.parent / "shared" / "data" / "realtimeqa-2022"
LOOPBACK = {"127.0.0.1", "::1", "localhost"}


@pytest.fixture(autouse=True)
def hermetic(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, model_cache: Path) -> Iterator[None]:
    """No test reads the user's .env or index, and any non-loopback connection fails loudly."""
    for name in list(os.environ):
        if name.startswith("NEWSDESK_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("NEWSDESK_INDEX_DIR", str(tmp_path / "index"))
    monkeypatch.setenv("NEWSDESK_CORPUS", str(tmp_path / "corpus"))
    monkeypatch.setenv("NEWSDESK_CACHE_DIR", str(model_cache))
    real_connect = socket.socket.connect

    def loopback_only(sock: socket.socket, address: object) -> object:
        host = address[0] if isinstance(address, tuple) else None
        if host is not None and host not in LOOPBACK:
            raise RuntimeError(f"test tried to reach {address!r}; only 127.0.0.1 is allowed")
        return real_connect(sock, address)

    monkeypatch.setattr(socket.socket, "connect", loopback_only)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.fixture(scope="session")
def model_cache() -> Path:
    """The tests' own model cache (the ONNX export, keyed by model fingerprint), kept between
    runs inside the checkout so it is made once, and never the user's ~/.cache."""
    return REPO / ".newsdesk" / "test-model-cache"


@pytest.fixture(scope="session")
def embedder(model_cache: Path):
    from index.embedder import Embedder

    return Embedder(Settings(_env_file=None).model_name_or_path, cache_dir=model_cache)


@pytest.fixture(scope="session")
def built_index(tmp_path_factory: pytest.TempPathFactory, embedder) -> Path:
    """An index over the shipped corpus/ built with the real model and real FAISS (read-only)."""
    from index.build import build_index

    index_dir = tmp_path_factory.mktemp("seed-index") / "index"
    build_index(SEED_CORPUS, index_dir, embedder)
    return index_dir


def settings_for(index_dir: Path, **overrides: object) -> Settings:
    return Settings(_env_file=None, **({"index_dir": index_dir, "corpus": SEED_CORPUS} | overrides))


def service_over(root: Path, articles: list[dict[str, str]], embedder):
    """A NewsdeskService over an index of `articles` (JSON records) built under `root`."""
    import json

    from bot.service import NewsdeskService
    from index.build import build_index

    corpus = root / "corpus"
    corpus.mkdir()
    for article in articles:
        (corpus / f"{article['id']}.json").write_text(json.dumps(article))
    build_index(corpus, root / "index", embedder)
    return NewsdeskService(settings_for(root / "index", corpus=corpus), embedder)


@pytest.fixture(scope="session")
def service(built_index: Path, embedder):
    """A NewsdeskService over the seed index, sharing the session's model."""
    from bot.service import NewsdeskService

    return NewsdeskService(settings_for(built_index), embedder)


@pytest.fixture
def corpus_copy(tmp_path: Path) -> Path:
    """A writable copy of the shipped corpus."""
    target = tmp_path / "corpus"
    shutil.copytree(SEED_CORPUS, target)
    return target


@pytest.fixture(scope="session")
def timeline_index(tmp_path_factory: pytest.TempPathFactory, embedder) -> Path:
    """An index of one story told over many days (tests/timeline_corpus.py), read-only."""
    from index.build import build_index
    from tests.timeline_corpus import write_timeline_corpus

    root = tmp_path_factory.mktemp("timeline")
    build_index(write_timeline_corpus(root / "corpus"), root / "index", embedder)
    return root / "index"


@pytest.fixture(scope="session")
def timeline_service(timeline_index: Path, embedder):
    """A NewsdeskService over `timeline_index`, sharing the session's model."""
    from bot.service import NewsdeskService

    return NewsdeskService(settings_for(timeline_index), embedder)
