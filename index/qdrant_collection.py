"""Where a newsdesk index lives in Qdrant and how its collection is laid out: what the writer
(`index.qdrant_publish`) and the reader (`index.qdrant_backend`) must agree on, and how either
reaches a server or an embedded folder. Kept apart from both so the writer need not import the
reader, and so the layout is described once.

One collection holds everything, so one alias names the served index and switching it is one
atomic step (`index.qdrant_publish`):

- a point per chunk (id = the chunk id) with a named dense vector `dense` (dot product on the
  stored normalised vectors) and a named sparse vector `bm25` holding each term's saturated
  BM25 term frequency — the same tokens (`index.lexical.tokenize`) and the same k1, b and
  corpus average length as the local index — and a payload: article id, source (lower-cased),
  day (ordinal, -1 when undated), character offsets and sentences;
- a point per article (no vectors): title, source, date, URL, text, content hash, its
  statements (rows as `index.stored_statements` stores them), its story cluster and the set of
  its terms (what coverage counts);
- one `corpus` point: the manifest, each term's sparse index and document frequency, the
  corpus average length, skipped inputs.
"""

from __future__ import annotations

import atexit
import uuid
from typing import Any

from index.errors import QdrantStoreBusy, QdrantUnavailable

DENSE = "dense"
SPARSE = "bm25"
NAMESPACE = uuid.UUID("5b0c3f6e-8a51-4c1e-9a57-1f0e7c2a9d41")


def article_point(article_id: str) -> str:
    return str(uuid.uuid5(NAMESPACE, f"article:{article_id}"))


CORPUS_POINT = str(uuid.uuid5(NAMESPACE, "corpus"))


def alias_name(prefix: str) -> str:
    return f"{prefix}chunks"


def is_server_url(location: str) -> bool:
    return location.startswith(("http://", "https://"))


def connect(location: str, api_key: str | None = None, timeout: float = 10.0) -> Any:
    """A client for a server URL or an embedded store in a local folder; QdrantUnavailable
    (naming `location`) when it cannot be reached or opened."""
    try:
        from qdrant_client import QdrantClient
    except ImportError:
        raise QdrantUnavailable(
            location, "the qdrant-client package is missing: pip install 'newsdesk[qdrant]'"
        ) from None
    try:
        if is_server_url(location):
            client = QdrantClient(
                url=location, api_key=api_key, timeout=int(timeout), check_compatibility=False
            )
        else:
            client = QdrantClient(path=location)
        client.get_collections()
    except RuntimeError as error:
        if "already accessed by another instance" in str(error):  # the folder's lock
            raise QdrantStoreBusy(location) from None
        raise QdrantUnavailable(location, brief(error)) from None
    except Exception as error:  # connection refused, TLS, an unreadable folder
        raise QdrantUnavailable(location, brief(error)) from None
    # Closed before the interpreter tears modules down: the client's own __del__ then fails
    # noisily (an embedded store also releases its folder lock here).
    atexit.register(client.close)
    return client


def brief(error: BaseException) -> str:
    text = " ".join(str(error).split()) or type(error).__name__
    return text if len(text) <= 160 else text[:159] + "…"


def is_unreachable(error: BaseException) -> bool:
    """Whether `error` says the server could not be reached (not a bad request)."""
    from qdrant_client.http.exceptions import ResponseHandlingException

    if isinstance(error, ResponseHandlingException | ConnectionError | TimeoutError):
        return True
    try:
        import grpc
    except ImportError:  # pragma: no cover
        return False
    return isinstance(error, grpc.RpcError)
