"""The index build with its reading, chunking and encoding run as Ray Data stages.

Optional (`pip install 'newsdesk[ray]'`): nothing else imports this module, and it imports ray
only when a build asks for it. Two stages run on the cluster: the corpus files are read and
chunked by tasks (the tokenizer loaded once per worker process), and the chunks are encoded by a
pool of actors, each loading the model once (on a GPU when the cluster has them). The results
come back to this process in corpus order and go through `index.build` like any other build:
statements, story clusters, BM25, the files and the generation switch are written here, once,
exactly as without Ray, and a failed build leaves the previous index serving.

Every node must hold the corpus at the same path and the same newsdesk and model packages; a
worker whose model differs from this process's is refused. Ray's fixed cost (starting or
joining a cluster, starting workers, loading the model in each) is several seconds: it pays
only when the cluster has many more cores, or GPUs, than this machine.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import socket
import sys
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from index.articles import (
    Article,
    check_corpus,
    check_still_there,
    corpus_files,
    unique_articles,
)
from index.build import BuildReport, build_index
from index.chunking import Chunk, ChunkerSettings, chunk_article
from index.corpus_formats import SkippedInput
from index.errors import ClusterError, NewsdeskError
from index.model_source import available_cores
from index.ray_stages import ClusterPlan, EncoderSpec, pipeline

if TYPE_CHECKING:
    from index.embedder import Embedder

logger = logging.getLogger(__name__)

OBJECT_STORE_BYTES = 512 << 20  # a local Ray's store holds batches in flight, never the corpus
CONNECT_TIMEOUT_S = 5.0  # to refuse a cluster address nothing answers at
_OFFLINE = ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")


def build_with_ray(
    corpus: Path,
    index_dir: Path,
    encoder: Embedder,
    *,
    address: str | None = None,
    cpus: int | None = None,
    **options: Any,
) -> BuildReport:
    """`index.build.build_index` (or, with `incremental=True`, an update) with reading, chunking
    and encoding on the Ray cluster at `address`, or on a local Ray of `cpus` CPUs (default:
    this machine's free cores) started for this build and stopped after it."""
    with ray_cluster(address, cpus) as plan:
        source = partial(RaySource, spec=EncoderSpec.of(encoder), plan=plan)
        return build_index(corpus, index_dir, encoder, source=source, **options)


@contextmanager
def ray_cluster(address: str | None, cpus: int | None = None) -> Iterator[ClusterPlan]:
    """Join the cluster at `address`, or start a local Ray on 127.0.0.1; disconnect after."""
    ray = _import_ray()
    on_sigterm = signal.getsignal(signal.SIGTERM)
    offline = {name: os.environ.get(name, "1") for name in _OFFLINE}
    quiet: dict[str, Any] = dict(
        logging_level=logging.ERROR, log_to_driver=False, runtime_env={"env_vars": offline}
    )
    try:
        if address:
            _check_reachable(address)
            ray.init(address=address, **quiet)
        else:
            ray.init(
                num_cpus=cpus or available_cores(),
                object_store_memory=OBJECT_STORE_BYTES,
                include_dashboard=False,
                _node_ip_address="127.0.0.1",
                **quiet,
            )
    except Exception as error:  # ConnectionError, RuntimeError, ValueError: all say why
        ray.shutdown()  # whatever a failed start left running
        if address:
            message = (
                f"Could not reach the Ray cluster at {address}: {_first_line(error)}. "
                "Check the address (--ray-address), or leave it out for a local Ray."
            )
        else:
            message = f"Could not start a local Ray: {_first_line(error)}."
        raise ClusterError(message) from error
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _stop)  # Ray's own handler prints a native stack first
    try:
        _quiet_ray_data(ray)
        resources = ray.cluster_resources()
        plan = ClusterPlan(cpus=int(resources.get("CPU", 1)), gpus=int(resources.get("GPU", 0)))
        logger.info("Ray: %d CPUs, %d GPUs; %d encoders", plan.cpus, plan.gpus, plan.encoders)
        yield plan
    finally:
        ray.shutdown()
        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGTERM, on_sigterm)


def _stop(signum: int, frame: object) -> None:
    """SIGTERM mid-build: unwind, so the build removes what it wrote and a local Ray stops."""
    sys.exit(128 + signum)


class RaySource:
    """A build's `ChunkSource` whose articles, chunks and vectors come from the Ray stages.

    The stages chunk and encode every article the previous index does not hold unchanged; the
    build then asks for exactly those. Anything it asks for that the cluster did not compute
    (an update that turned into a full build) is computed here.
    """

    def __init__(
        self, encoder: Embedder, chunker: ChunkerSettings, *, spec: EncoderSpec, plan: ClusterPlan
    ) -> None:
        self.encoder = encoder
        self.chunker = chunker
        self.spec = spec
        self.plan = plan
        self._chunks: dict[str, tuple[str, list[Chunk]]] = {}  # id → (content hash, chunks)
        self._vectors: dict[int, np.ndarray] = {}

    def articles(
        self, corpus: Path, on_skip: Callable[[SkippedInput], None], known: Mapping[str, str]
    ) -> Iterator[Article]:
        check_corpus(corpus)
        return self._articles(corpus, on_skip, known)

    def _articles(
        self, corpus: Path, on_skip: Callable[[SkippedInput], None], known: Mapping[str, str]
    ) -> Iterator[Article]:
        files = [(str(path), origin) for path, origin in corpus_files(corpus)]
        if files:
            yield from unique_articles(self._computed(files, known), on_skip)
        check_still_there(corpus)

    def chunks(self, article: Article) -> list[Chunk]:
        content_hash, chunks = self._chunks.pop(article.id, ("", []))
        if content_hash == article.content_hash:
            return chunks
        return chunk_article(
            article.id, article.title, article.text, self.encoder.count_tokens, self.chunker
        )

    def vectors(self, ids: Sequence[int], texts: Sequence[str]) -> np.ndarray:
        found = [self._vectors.pop(int(chunk_id), None) for chunk_id in ids]
        missing = [i for i, vector in enumerate(found) if vector is None]
        if missing:
            computed = self.encoder.encode([texts[i] for i in missing])
            for i, vector in zip(missing, computed, strict=True):
                found[i] = vector
        if not found:
            return np.zeros((0, self.encoder.dimension), dtype=np.float32)
        return np.stack(found).astype(np.float32, copy=False)

    def _computed(
        self, files: list[tuple[str, str]], known: Mapping[str, str]
    ) -> Iterator[Article | SkippedInput]:
        """The corpus's items in corpus order, as the stages finish them (streamed)."""
        ray = _import_ray()
        try:
            stages = pipeline(ray, files, dict(known), self.spec, self.chunker, self.plan)
            for row in stages.iter_rows():
                yield self._keep(json.loads(row["record"]), row["vectors"])
        except ray.exceptions.RayError as error:
            raise _domain_error(error) from error

    def _keep(self, record: dict[str, Any], blob: bytes) -> Article | SkippedInput:
        if "skip" in record:
            return SkippedInput(*record["skip"])
        article = Article(**record["article"])
        if "chunks" in record:
            chunks = [_chunk(fields) for fields in record["chunks"]]
            vectors = np.frombuffer(blob, dtype=np.float32).reshape(len(chunks), -1)
            self._chunks[article.id] = (article.content_hash, chunks)
            self._vectors.update((c.id, vector) for c, vector in zip(chunks, vectors, strict=True))
        return article


# -- helpers -----------------------------------------------------------------------------------


def _chunk(fields: dict[str, Any]) -> Chunk:
    sentences = tuple((int(start), int(end)) for start, end in fields["sentences"])
    return Chunk(**{**fields, "sentences": sentences})


def _check_reachable(address: str) -> None:
    """Refuse an address nothing answers at: Ray itself would retry for minutes, logging."""
    host, _, port = address.removeprefix("ray://").rpartition(":")
    if not host or not port.isdigit():  # "auto", or a name Ray resolves itself
        return
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=CONNECT_TIMEOUT_S).close()
    except OSError as error:
        reason = error.strerror or type(error).__name__
        raise ConnectionError(f"nothing answers there ({reason.lower()})") from error


def _import_ray() -> Any:
    try:
        import ray
        import ray.data  # noqa: F401
    except ImportError as error:
        raise ClusterError(
            "A distributed build needs Ray: pip install 'newsdesk[ray]' "
            f"(or 'ray[data]'), then run it again ({error})."
        ) from None
    return ray


def _quiet_ray_data(ray: Any) -> None:
    """No progress bars or per-run banners from Ray Data; the CLI draws its own."""
    context = ray.data.DataContext.get_current()
    context.enable_progress_bars = False
    context.print_on_execution_start = False
    context.execution_options.preserve_order = True
    for name in ("ray", "ray.data"):
        logging.getLogger(name).setLevel(logging.ERROR)


def _domain_error(error: BaseException) -> NewsdeskError:
    """A worker's own domain error (a model that would not load) as it was raised; anything
    else as a ClusterError naming the stage's failure in one line."""
    seen: BaseException | None = error
    while seen is not None:
        if isinstance(seen, NewsdeskError):
            return seen
        cause = getattr(seen, "cause", None)
        seen = cause if isinstance(cause, BaseException) else seen.__cause__
    return ClusterError(f"The distributed build failed on the Ray cluster: {_first_line(error)}.")


def _first_line(error: BaseException) -> str:
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    return (lines[0] if lines else type(error).__name__).rstrip(".")
