"""What int8 scalar quantization (`NEWSDESK_QDRANT_QUANTIZATION=int8`) costs in recall, measured
on Qdrant's own engine: `qdrant-edge-py` (the Rust search core) holds the development index's
dense vectors with the same quantization config a build gives the collection, and the
retriever runs with its dense searches answered by that shard (BM25, fusion and the rest as
always). The client's embedded mode ignores quantization, hence edge.

For each way of searching, over the questions of a set: how much of the exact float32 dense
top-10 it finds (recall@10 against exact, and how often the top-10 is identical), dense-only
R@5 and hybrid R@5 (the answer string in the top 5 passages, as `newsdesk eval` counts it).

    python bench/qdrant_quantization.py --from-index /tmp/dev-index-v5 \\
        ../shared/data/realtimeqa-2022/questions.jsonl.gz [--limit N] [--json]

The index is only read. The shard is built in a temporary folder and its size on disk is
printed by part (original vectors, int8 copies, HNSW graph, payload).
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402
import qdrant_edge as edge  # noqa: E402
from qdrant_client import models  # noqa: E402
from qdrant_edge_parity import edge_point  # noqa: E402 (bench/ is on the path: it holds this script)

from bot.factories import make_embedder  # noqa: E402
from bot.settings import Settings  # noqa: E402
from index.backend import Hits, SearchFilters  # noqa: E402
from index.local_backend import LocalBackend  # noqa: E402
from index.qdrant_collection import CORPUS_POINT, DENSE, SPARSE  # noqa: E402
from index.qdrant_publish import GenerationPoints  # noqa: E402
from index.store import open_index  # noqa: E402
from retrieval.evaluate import answer_pattern, first_hit, load_questions  # noqa: E402
from retrieval.search import Retriever  # noqa: E402

TOP = 10
BATCH = 2048


def exact(ignore: bool = True) -> Any:
    return edge.SearchParams(exact=True, quantization=edge.QuantizationSearchParams(ignore=ignore))


def hnsw(quantization: Any, ef: int | None = None) -> Any:
    return edge.SearchParams(hnsw_ef=ef, quantization=quantization)


IGNORE = edge.QuantizationSearchParams(ignore=True)
NO_RESCORING = edge.QuantizationSearchParams(rescore=False)
RESCORED = edge.QuantizationSearchParams(rescore=True)

# An exact search scans the original vectors whatever the quantization (checked: with
# rescore=False it returns the float32 top-10 exactly), so the int8 copies are measured through
# the HNSW graph; the ef=256 rows make the graph's own loss small, leaving the int8 one.
MODES: dict[str, Any] = {
    "float32, exact (reference)": exact(),
    "float32, HNSW": hnsw(IGNORE),
    "int8, HNSW, no rescoring": hnsw(NO_RESCORING),
    "int8, HNSW, rescored (server default)": hnsw(RESCORED),
    "int8, HNSW, rescored, oversampling 2": hnsw(
        edge.QuantizationSearchParams(rescore=True, oversampling=2.0)
    ),
    "float32, HNSW ef=256": hnsw(IGNORE, 256),
    "int8, HNSW ef=256, no rescoring": hnsw(NO_RESCORING, 256),
    "int8, HNSW ef=256, rescored": hnsw(RESCORED, 256),
}


def build_shard(local: LocalBackend, folder: Path) -> Any:
    """An edge shard holding what a build writes to the collection (`index.qdrant_publish`):
    a point per chunk with the dense vector (int8 scalar quantization, as
    `dense_quantization("int8")` configures it), the BM25 sparse vector and the chunk's
    payload; a point per article (text, statements); the corpus point."""
    reader = local.reader
    quantization = edge.ScalarQuantizationConfig(
        type=edge.ScalarType.Int8, quantile=0.99, always_ram=True
    )
    config = edge.EdgeConfig(
        vectors={
            DENSE: edge.EdgeVectorParams(
                size=reader.manifest.dimension,
                distance=edge.Distance.Dot,
                quantization_config=quantization,
            )
        },
        sparse_vectors={SPARSE: edge.EdgeSparseVectorParams()},
    )
    shard = edge.EdgeShard.create(str(folder), config)
    points = GenerationPoints(reader)
    try:
        chunk_ids = points.chunk_ids.tolist()
        for start in range(0, len(chunk_ids), BATCH):
            batch = [
                edge_point(p, p.payload)
                for p in points.chunk_points(chunk_ids[start : start + BATCH])
            ]
            shard.update(edge.UpdateOperation.upsert_points(batch))
        rest = [*points.article_points(reader.articles)]
        rest.append(models.PointStruct(id=CORPUS_POINT, vector={},
                                       payload=points.corpus_payload("newsdesk")))  # fmt: skip
        for start in range(0, len(rest), BATCH):
            batch = [edge.Point(id=p.id, vector={}, payload=p.payload)
                     for p in rest[start : start + BATCH]]  # fmt: skip
            shard.update(edge.UpdateOperation.upsert_points(batch))
    finally:
        points.close()
    shard.optimize()  # builds the HNSW graph and the int8 copies
    return shard


def edge_filter(filters: SearchFilters | None) -> Any:
    if filters is None or not filters.active:
        return None
    must = []
    if filters.sources:
        wanted = sorted(filters.wanted_sources)
        must.append(edge.FieldCondition(key="source", match=edge.MatchAny(wanted)))
    if filters.since is not None or filters.until is not None:
        low = filters.since.toordinal() if filters.since is not None else 0
        high = filters.until.toordinal() if filters.until is not None else None
        must.append(edge.FieldCondition(key="day", range=edge.RangeFloat(gte=low, lte=high)))
    return edge.Filter(must=must)


class EdgeDense:
    """The local index, with its dense searches answered by the edge shard under `params`."""

    def __init__(self, local: LocalBackend, shard: Any, params: Any) -> None:
        self._local, self._shard, self.params = local, shard, params

    def __getattr__(self, name: str) -> Any:
        return getattr(self._local, name)

    def dense_search(
        self, query_vectors: np.ndarray, k: int, filters: SearchFilters | None = None
    ) -> list[Hits]:
        return [self._dense(v, k, filters) for v in np.atleast_2d(query_vectors)]

    def _dense(self, vector: np.ndarray, k: int, filters: SearchFilters | None) -> Hits:
        found = self._shard.query(
            edge.QueryRequest(
                limit=k,
                query=edge.Query.Nearest(np.asarray(vector, np.float32).tolist(), using=DENSE),
                filter=edge_filter(filters),
                params=self.params,
            )
        )
        return {int(p.id): float(p.score) for p in found}

    def search_both(
        self, query: str, query_vector: np.ndarray | None, k: int, filters: SearchFilters
    ) -> tuple[Hits, Hits]:
        dense = {} if query_vector is None else self._dense(query_vector, k, filters)
        return dense, self._local.lexical_search(query, k, filters)


def folder_bytes(folder: Path) -> dict[str, int]:
    """The shard's bytes on disk by part (a file counts under the first part its path names)."""
    parts = {
        "write-ahead log": ("wal/",),
        "int8 copies": ("quantiz",),
        "HNSW graph": ("vector_index-dense",),
        "float32 vectors": ("vector_storage-dense",),
        "sparse vectors": (f"-{SPARSE}",),
        "payload": ("payload",),
    }
    sizes = dict.fromkeys([*parts, "other"], 0)
    for path in folder.rglob("*"):
        if path.is_file():
            name = str(path.relative_to(folder)).lower()
            part = next((p for p, keys in parts.items() if any(k in name for k in keys)), "other")
            sizes[part] += path.stat().st_blocks * 512  # allocated: files are preallocated
    return sizes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("questions", type=Path)
    parser.add_argument("--from-index", type=Path, required=True)
    parser.add_argument("--limit", type=int, default=None, help="only the first N questions")
    parser.add_argument("--json", action="store_true", help="also print one JSON line")
    parser.add_argument("--keep", type=Path, help="build the shard in this (new) folder, keep it")
    args = parser.parse_args()

    local = LocalBackend(open_index(args.from_index))
    encoder = make_embedder(Settings(_env_file=None))
    questions = [q for q in itertools.islice(load_questions(args.questions), args.limit)
                 if q.answerable]  # fmt: skip
    vectors = np.asarray([encoder.encode_query(q.question) for q in questions])
    chunks = len(local.reader.lexical.chunk_ids)
    with tempfile.TemporaryDirectory(prefix="qdrant-quantization-") as scratch:
        folder = args.keep or Path(scratch) / "shard"
        started = time.perf_counter()
        shard = build_shard(local, folder)
        built = time.perf_counter() - started
        shard.flush()
        sizes = folder_bytes(folder)
        per_chunk = ", ".join(f"{part} {size / chunks:,.0f} B" for part, size in sizes.items())
        stored = sum(size for part, size in sizes.items() if part != "write-ahead log")
        per_chunk += f"; all but the log {stored / chunks:,.0f} B"
        print(f"{chunks:,} chunks into a qdrant-edge shard (int8 scalar quantization, quantile "
              f"0.99) in {built:.0f}s; on disk per chunk: {per_chunk}")  # fmt: skip
        rows = measure(local, shard, questions, vectors)
        shard.close()
    print(f"{len(questions)} answerable questions; dense top-{TOP} against exact float32, "
          f"R@5 as newsdesk eval counts it:")  # fmt: skip
    print(f"  {'search':40} {'recall@10':>9} {'same top-10':>11} {'dense R@5':>9} "
          f"{'hybrid R@5':>10} {'ms/query':>8}")  # fmt: skip
    for mode, row in rows.items():
        print(f"  {mode:40} {row['recall_at_10']:9.4f} {row['identical_top10']:11.3f} "
              f"{row['dense_r5']:9.3f} {row['hybrid_r5']:10.3f} {row['ms']:8.2f}")  # fmt: skip
    if args.json:
        print(json.dumps({"chunks": chunks, "questions": len(questions),
                          "bytes_per_chunk": {p: s / chunks for p, s in sizes.items()},
                          "modes": rows}))  # fmt: skip


def measure(
    local: LocalBackend, shard: Any, questions: Sequence[Any], vectors: np.ndarray
) -> dict[str, dict[str, float]]:
    """One row per way of searching; the first (exact float32 on edge) is the reference."""
    backends: dict[str, Any] = {m: EdgeDense(local, shard, p) for m, p in MODES.items()}
    backends["local FAISS, as served (newsdesk default)"] = local
    reference: list[list[int]] = []
    rows: dict[str, dict[str, float]] = {}
    for mode, backend in backends.items():
        retriever = Retriever(backend, lambda _q: None)  # every search is given its vector
        overlap, identical, dense_hits, hybrid_hits, seconds = [], 0, 0, 0, 0.0
        for n, (q, vector) in enumerate(zip(questions, vectors, strict=True)):
            started = time.perf_counter()
            top = list(backend.dense_search(vector, TOP)[0])
            seconds += time.perf_counter() - started
            if len(reference) <= n:
                reference.append(top)
            overlap.append(len(set(top) & set(reference[n])) / TOP)
            identical += top == reference[n]
            pattern = answer_pattern(q.answer)
            for tuning_mode in ("dense", "hybrid"):
                tuning = replace(retriever.tuning, mode=tuning_mode)
                if tuning_mode == "dense":  # the baseline, as newsdesk eval runs it
                    tuning = replace(tuning, recency_boost=0.0)
                passages = retriever.search(q.question, 10, as_of=q.as_of, tuning=tuning,
                                            query_vector=vector)  # fmt: skip
                rank = first_hit(pattern, passages)
                hit = rank is not None and rank <= 5
                if tuning_mode == "dense":
                    dense_hits += hit
                else:
                    hybrid_hits += hit
        count = max(1, len(questions))
        rows[mode] = {"recall_at_10": float(np.mean(overlap)), "identical_top10": identical / count,
                      "dense_r5": dense_hits / count, "hybrid_r5": hybrid_hits / count,
                      "ms": seconds / count * 1000}  # fmt: skip
        print(f"  … {mode}: hybrid R@5 {rows[mode]['hybrid_r5']:.3f}", file=sys.stderr, flush=True)
    return rows


if __name__ == "__main__":
    main()
