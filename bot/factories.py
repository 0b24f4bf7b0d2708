"""What settings turn into, for the service and for the commands that need one part alone (an
index build needs the encoder, `index status` the backend, a start-up check the session store):
each made here the one way, so the service and the CLI agree."""

from __future__ import annotations

from typing import Any

from bot.settings import Settings
from index.backend import IndexBackend
from index.embedder import Embedder
from index.encoder_choice import choose_encoder
from index.local_backend import LocalBackend
from index.qdrant_backend import QdrantBackend
from index.qdrant_collection import connect
from retrieval.sessions import RedisSessionStore, open_sessions


def open_backend(
    settings: Settings, model_id: str | None = None, previous: IndexBackend | None = None
) -> IndexBackend:
    """The index `settings` name: the local generation, or the Qdrant collection behind the
    alias (an embedded store is opened once per process, so a reload reuses its client)."""
    if settings.backend != "qdrant":
        return LocalBackend.open(settings.index_dir, model_id)
    key = settings.qdrant_api_key.get_secret_value() if settings.qdrant_api_key else None
    if isinstance(previous, QdrantBackend):
        return QdrantBackend(previous.client, settings.qdrant_location, settings.qdrant_prefix,
                             model_id)  # fmt: skip
    return QdrantBackend.open(settings.qdrant_location, key, settings.qdrant_prefix, model_id)


def qdrant_client_for(settings: Settings) -> Any:
    """A connected Qdrant client when `settings` choose the Qdrant backend, else None."""
    if settings.backend != "qdrant":
        return None
    key = settings.qdrant_api_key.get_secret_value() if settings.qdrant_api_key else None
    return connect(settings.qdrant_location, key)


def check_sessions(settings: Settings) -> None:
    """Raise SessionsUnavailable now, as one line, when the shared session store (Redis) does
    not answer, rather than at the first question after the model has loaded."""
    store = open_sessions(settings.sessions, settings.session_ttl_s, settings.max_sessions)
    if isinstance(store, RedisSessionStore):
        try:
            store.check()
        finally:
            store.close()


def make_embedder(settings: Settings) -> Embedder:
    """The encoder for building the index and for questions: the same one, so a question's vector
    lives in the same numbers as the passages'."""
    choice = choose_encoder(settings.encoder)
    return Embedder(
        settings.model_name_or_path,
        backend=choice.backend,
        threads=settings.threads,
        cache_dir=settings.cache_dir,
        device=choice.device,
    )
