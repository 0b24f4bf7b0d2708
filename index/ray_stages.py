"""The Ray Data pipeline of a distributed build, and what its stages run on the workers.

Separate from `index.ray_build`, which joins the cluster and hands the results to the build:
this is the part Ray ships to worker processes (the stage functions, the encoding actor and the
spec they load the model from) and the plan of how many of each the cluster gets.
"""

from __future__ import annotations

import json
import warnings
from dataclasses import asdict, dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from index.articles import read_input
from index.chunking import ChunkerSettings, chunk_article, embedding_text
from index.corpus_formats import SkippedInput
from index.errors import ModelLoadError

if TYPE_CHECKING:
    from index.embedder import Embedder

FILES_PER_READ = 8  # corpus files per reading task
ARTICLES_PER_ENCODE = 64  # articles per encoding call (a few hundred chunks)
GPU_BATCH = 128  # texts per model call on a GPU (32 on CPUs)


@dataclass(frozen=True)
class EncoderSpec:
    """What a worker needs to load the same model as this process (and check that it did)."""

    model: str
    backend: str
    cache_dir: str
    model_id: str
    batch_size: int

    @classmethod
    def of(cls, embedder: Embedder) -> EncoderSpec:
        return cls(
            model=embedder.model,
            backend=embedder.backend,
            cache_dir=str(embedder.cache_dir),
            model_id=embedder.model_id,
            batch_size=embedder.batch_size,
        )


@dataclass(frozen=True)
class ClusterPlan:
    """How the stages use the cluster: one encoder per GPU, else one per CPU but one."""

    cpus: int
    gpus: int

    @property
    def encoders(self) -> int:
        return self.gpus if self.gpus else max(1, self.cpus - 1)

    @property
    def encoder_threads(self) -> int:
        return 1 if self.gpus else max(1, self.cpus // self.encoders)


def pipeline(
    ray: Any,
    files: list[tuple[str, str]],
    known: dict[str, str],
    spec: EncoderSpec,
    chunker: ChunkerSettings,
    plan: ClusterPlan,
) -> Any:
    """The Ray Data pipeline: files → (read, chunk) tasks → (encode) actors, in corpus order."""
    items = [{"path": path, "origin": origin} for path, origin in files]
    blocks = max(1, min(len(items), plan.cpus * 4))
    dataset = ray.data.from_items(items, override_num_blocks=blocks)
    dataset = dataset.map_batches(
        _read_and_chunk,
        batch_size=FILES_PER_READ,
        batch_format="pyarrow",
        fn_kwargs={
            "spec": spec,
            "chunker": chunker,
            "known": ray.put(known),
            "threads": plan.encoder_threads,  # Ray may fuse both stages: then one model serves
        },
        num_cpus=1,
    )
    gpu = plan.gpus > 0
    with warnings.catch_warnings():
        # Ray 2.60 deprecates passing max_restarts this way but names no replacement; without
        # it a failed encoder is restarted without end (and Ray warns that it may not restart).
        warnings.simplefilter("ignore", DeprecationWarning)
        return dataset.map_batches(
            _Encode,
            batch_size=ARTICLES_PER_ENCODE,
            batch_format="pyarrow",
            fn_constructor_kwargs={"spec": spec, "gpu": gpu, "threads": plan.encoder_threads},
            compute=ray.data.ActorPoolStrategy(size=plan.encoders),
            num_cpus=1,
            num_gpus=1 if gpu else 0,
            max_restarts=0,  # a failed encoder fails the build; the previous index serves on
        )


# -- on the workers ----------------------------------------------------------------------------


def _read_and_chunk(
    batch: Any, *, spec: EncoderSpec, chunker: ChunkerSettings, known: Any, threads: int
) -> Any:
    """Stage 1: each file's articles (and what in it is skipped), chunked unless the previous
    index holds the article unchanged; one JSON record per item."""
    import pyarrow as pa

    known = _resolved(known)
    records = []
    for path, origin in zip(batch["path"].to_pylist(), batch["origin"].to_pylist(), strict=True):
        for item in read_input(Path(path), origin):
            if isinstance(item, SkippedInput):
                records.append(json.dumps({"skip": [item.origin, item.reason]}))
                continue
            record: dict[str, Any] = {"article": asdict(item)}
            if known.get(item.id) != item.content_hash:
                count = _worker_embedder(spec, "cpu", threads).count_tokens
                chunks = chunk_article(item.id, item.title, item.text, count, chunker)
                record["chunks"] = [asdict(chunk) for chunk in chunks]
            records.append(json.dumps(record, ensure_ascii=False))
    return pa.table({"record": pa.array(records, pa.string())})


class _Encode:
    """Stage 2: the chunks' vectors, by a model loaded once per actor."""

    def __init__(self, spec: EncoderSpec, gpu: bool, threads: int) -> None:
        self.embedder = _worker_embedder(spec, "cuda" if gpu else "cpu", threads)

    def __call__(self, batch: Any) -> Any:
        import pyarrow as pa

        records = batch["record"].to_pylist()
        texts: list[str] = []
        counts: list[int] = []
        for raw in records:
            record = json.loads(raw)
            chunks = record.get("chunks", [])
            article = record.get("article", {})
            texts += [
                embedding_text(article["title"], article["text"][c["start"] : c["end"]])
                for c in chunks
            ]
            counts.append(len(chunks))
        vectors = self.embedder.encode(texts)
        blobs, start = [], 0
        for count in counts:
            blobs.append(vectors[start : start + count].astype(np.float32).tobytes())
            start += count
        return pa.table({"record": pa.array(records, pa.string()), "vectors": pa.array(blobs)})


@cache
def _worker_embedder(spec: EncoderSpec, device: str, threads: int) -> Embedder:
    """The model, loaded once per worker process, refused unless it is this build's model."""
    from index.embedder import Embedder

    embedder = Embedder(
        spec.model,
        backend=spec.backend,  # type: ignore[arg-type]
        threads=threads,
        cache_dir=Path(spec.cache_dir),
        batch_size=GPU_BATCH if device != "cpu" else spec.batch_size,
        device=device,
    )
    if embedder.model_id != spec.model_id:
        raise ModelLoadError(
            f"A Ray worker has the model {embedder.model_id}, not {spec.model_id}; "
            "install the same newsdesk and model on every node."
        )
    embedder.count_tokens(["load"])  # load now, not inside the first batch
    return embedder


def _resolved(known: Any) -> dict[str, str]:
    import ray

    return ray.get(known) if isinstance(known, ray.ObjectRef) else known
