"""Does Qdrant's engine rank as newsdesk's local index does? The same check as the parity test,
run on `qdrant-edge-py` — Qdrant's own Rust search core as a library, with its own API — rather
than the client's embedded mode (a Python re-implementation): for questions of a set, the exact
dense top-10 and the BM25 top-10 (IDF applied by newsdesk, and by the engine's `modifier: idf`),
unfiltered and within one source, compared with the local FAISS and BM25 results.

    pip install qdrant-edge-py
    python bench/qdrant_edge_parity.py --from-index /tmp/dev-index6 \\
        ../shared/data/realtimeqa-2022/questions.jsonl.gz --limit 300
"""

from __future__ import annotations

import argparse
import itertools
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402
import qdrant_edge as edge  # noqa: E402

from bot.factories import make_embedder  # noqa: E402
from bot.settings import Settings  # noqa: E402
from index.backend import SearchFilters  # noqa: E402
from index.local_backend import LocalBackend  # noqa: E402
from index.qdrant_collection import DENSE, SPARSE  # noqa: E402
from index.qdrant_publish import GenerationPoints  # noqa: E402
from index.store import open_index  # noqa: E402
from retrieval.evaluate import load_questions  # noqa: E402

TOP = 10


def shard_of(points: GenerationPoints, folder: Path, with_idf: bool, dimension: int):
    """An edge shard holding the generation's chunks (dense, sparse, source, day)."""
    sparse = edge.EdgeSparseVectorParams(modifier=edge.Modifier.Idf if with_idf else None)
    config = edge.EdgeConfig(
        vectors={DENSE: edge.EdgeVectorParams(size=dimension, distance=edge.Distance.Dot)},
        sparse_vectors={SPARSE: sparse},
    )
    shard = edge.EdgeShard.create(str(folder), config)
    chunk_ids = points.chunk_ids.tolist()
    for start in range(0, len(chunk_ids), 2048):
        batch = [
            edge_point(p, {"source": p.payload["source"], "day": p.payload["day"]})
            for p in points.chunk_points(chunk_ids[start : start + 2048])
        ]
        shard.update(edge.UpdateOperation.upsert_points(batch))
    shard.optimize()
    return shard


def edge_point(point, payload: dict) -> edge.Point:
    """A published chunk point (dense and BM25 vectors) as the edge shard takes it."""
    sparse = point.vector[SPARSE]
    return edge.Point(
        id=point.id,
        vector={DENSE: point.vector[DENSE],
                SPARSE: edge.SparseVector(indices=sparse.indices, values=sparse.values)},
        payload=payload,
    )  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("questions", type=Path)
    parser.add_argument("--from-index", type=Path, required=True)
    parser.add_argument("--limit", type=int, default=300)
    args = parser.parse_args()

    reader = open_index(args.from_index)
    local = LocalBackend(reader)
    points = GenerationPoints(reader)
    terms = local.lexical
    encoder = make_embedder(Settings(_env_file=None))
    questions = [q.question for q in itertools.islice(load_questions(args.questions), args.limit)]
    source = max(
        {a.source for a in reader.articles.values() if a.source},
        key=lambda s: sum(a.source == s for a in reader.articles.values()),
    )
    one_source = SearchFilters(sources=(source,))
    only = edge.Filter(
        must=[edge.FieldCondition(key="source", match=edge.MatchValue(source.lower()))]
    )
    with tempfile.TemporaryDirectory() as scratch:
        for with_idf in (False, True):
            started = time.perf_counter()
            shard = shard_of(
                points, Path(scratch) / f"idf-{with_idf}", with_idf, reader.manifest.dimension
            )
            loaded = time.perf_counter() - started
            same = {"dense": 0, "dense, one source": 0, "BM25": 0, "BM25, one source": 0}
            ties = dict.fromkeys(same, 0)
            for question in questions:
                vector = encoder.encode_query(question)
                for name, filters, condition in (
                    ("", SearchFilters(), None),
                    (", one source", one_source, only),
                ):
                    mine = list(local.dense_search(vector, TOP, filters)[0])
                    theirs = shard.query(
                        edge.QueryRequest(
                            limit=TOP,
                            query=edge.Query.Nearest(vector.tolist(), using=DENSE),
                            filter=condition,
                            params=edge.SearchParams(exact=True),
                        )
                    )
                    same[f"dense{name}"] += mine == [int(p.id) for p in theirs]
                    scored = local.lexical_search(question, TOP, filters)
                    mine = list(scored)
                    indices, values = _sparse_query(terms, question, not with_idf)
                    if not indices:
                        same[f"BM25{name}"] += not mine
                        continue
                    theirs = shard.query(
                        edge.QueryRequest(
                            limit=TOP,
                            filter=condition,
                            query=edge.Query.Nearest(
                                edge.SparseVector(indices, values), using=SPARSE
                            ),
                        )
                    )
                    same[f"BM25{name}"] += mine == [int(p.id) for p in theirs]
                    # the same score at every rank: where the ids differ, they are ties
                    ties[f"BM25{name}"] += _close(scored.values(), [p.score for p in theirs])
            shard.close()
            idf = "the engine (modifier: idf)" if with_idf else "newsdesk (query weights)"
            print(
                f"IDF applied by {idf}; {len(reader.lexical.chunk_ids):,} chunks loaded "
                f"in {loaded:.0f}s; {len(questions)} questions; identical top-{TOP}:"
            )
            for what, count in same.items():
                line = f"  {what:18} {count}/{len(questions)} ({count / len(questions):.3f})"
                if what.startswith("BM25"):
                    line += f"; same score at every rank: {ties[what]} (the rest tie)"
                print(line)
    points.close()


def _close(mine, theirs) -> bool:
    mine, theirs = list(mine), list(theirs)
    return len(mine) == len(theirs) and bool(np.allclose(mine, theirs, rtol=1e-5, atol=0))


def _sparse_query(terms, question: str, with_idf: bool) -> tuple[list[int], list[float]]:
    from collections import Counter

    from index.lexical import tokenize

    counts = Counter(t for t in tokenize([question])[0] if t in terms.vocabulary)
    weights = terms.idf(list(counts))
    indices = [terms.vocabulary[t] for t in counts]
    values = [
        float(np.float32(weights[t]) * counts[t]) if with_idf else float(counts[t]) for t in counts
    ]
    return indices, values


if __name__ == "__main__":
    main()
