"""The FAISS index: normalised vectors under stable 63-bit chunk ids (inner product = cosine).

The file holds the exact index (every vector, scanned in full). For serving a large index,
`prepare_fast_search` adds an inverted-file probe built in memory from the same vectors: an
unfiltered search then reads about an eighth of them. It only proposes candidates — their
cosines are read back exactly — and on the development set it left answer recall unchanged while
cutting the search from several milliseconds to under one. Filtered searches stay exact.

The only module that imports faiss.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import faiss
import numpy as np

# Exact search reads every stored vector. From this many questions per call on, FAISS scores them
# all with one matrix product, reading the vectors once; below it (default 20) it scans once per
# question, so a server's batch of 8 would cost 8 scans.
faiss.cvar.distance_compute_blas_threshold = 1


def set_threads(threads: int) -> None:
    """FAISS uses OpenMP; more threads than free cores makes it several times slower."""
    faiss.omp_set_num_threads(max(1, threads))


FILE_MAGIC = b"IxM2"  # how FAISS starts an IndexIDMap2 on disk
FAST_SEARCH_MIN_VECTORS = 20_000  # below this a full scan costs under a millisecond or two


class VectorIndex:
    def __init__(self, index: faiss.Index) -> None:
        self._index = index
        self._probe: faiss.Index | None = None

    @classmethod
    def empty(cls, dimension: int) -> VectorIndex:
        return cls(faiss.IndexIDMap2(faiss.IndexFlatIP(dimension)))

    @classmethod
    def load(cls, path: Path) -> VectorIndex:
        return cls(faiss.read_index(str(path)))

    @staticmethod
    def file_problem(path: Path) -> str | None:
        """Why `path` cannot be a saved VectorIndex, judged from its first bytes; None if it
        may be one (loading reads the rest)."""
        with path.open("rb") as handle:
            start = handle.read(len(FILE_MAGIC))
        return None if start == FILE_MAGIC else "not a FAISS index file"

    def save(self, path: Path) -> None:
        """Write through a Python file: FAISS's own writer only prints an error from the final
        flush (a full disk), leaving a truncated file behind a normal return."""
        with open(path, "wb") as handle:
            writer = faiss.PyCallbackIOWriter(handle.write)
            faiss.write_index(self._index, writer)
            del writer

    @property
    def dimension(self) -> int:
        return self._index.d

    def __len__(self) -> int:
        return self._index.ntotal

    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        self._index.add_with_ids(
            np.ascontiguousarray(vectors, dtype=np.float32), np.asarray(ids, dtype=np.int64)
        )

    def ids(self) -> np.ndarray:
        return faiss.vector_to_array(self._index.id_map).astype(np.int64)

    def vectors(self, ids: Iterable[int]) -> np.ndarray:
        """The stored vectors for `ids` (an update reuses them for unchanged articles)."""
        keys = np.fromiter(ids, dtype=np.int64)
        if len(keys) == 0:
            return np.empty((0, self.dimension), dtype=np.float32)
        return self._index.reconstruct_batch(keys)

    def prepare_fast_search(
        self, min_vectors: int = FAST_SEARCH_MIN_VECTORS, like: VectorIndex | None = None
    ) -> None:
        """Build the in-memory inverted-file probe when the index is large enough to need it.

        About √n lists, an eighth of them probed per search (at least 16). `like`, an index
        this one updates (the generation served before it), lends its trained lists when their
        number is within a tenth of what this one needs: training is most of the cost (2 of 3 s
        on the development index), and a few changed articles barely move the centroids.
        """
        total = len(self)
        if total < min_vectors or self._probe is not None:
            return
        lists = max(16, int(np.sqrt(total)))
        ids = self.ids()
        vectors = self.vectors(ids)
        probe = like._trained_probe(lists, self.dimension) if like is not None else None
        if probe is None:
            inverted = faiss.IndexIVFFlat(
                faiss.IndexFlatIP(self.dimension), self.dimension, lists, faiss.METRIC_INNER_PRODUCT
            )
            inverted.train(vectors)
            inverted.nprobe = max(16, lists // 8)
            probe = faiss.IndexIDMap2(inverted)
        probe.add_with_ids(vectors, ids)
        self._probe = probe

    def _trained_probe(self, lists: int, dimension: int) -> faiss.Index | None:
        """An empty copy of this index's probe (its trained lists, no vectors), if it has one
        of about `lists` lists in `dimension` dimensions."""
        if self._probe is None or self.dimension != dimension:
            return None
        inverted = faiss.extract_index_ivf(self._probe)
        if abs(inverted.nlist - lists) > lists / 10:
            return None
        probe = faiss.clone_index(self._probe)
        probe.reset()
        return probe

    def search(
        self, queries: np.ndarray, k: int, allowed_ids: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Top-k (scores, ids) per query row; `allowed_ids` restricts the search (filters)."""
        queries = np.ascontiguousarray(np.atleast_2d(queries), dtype=np.float32)
        k = min(k, len(self))
        if k <= 0:
            empty = np.empty((len(queries), 0))
            return empty.astype(np.float32), empty.astype(np.int64)
        if allowed_ids is None and self._probe is not None:
            return self._probe.search(queries, k)
        params = None
        if allowed_ids is not None:
            selector = faiss.IDSelectorBatch(np.asarray(allowed_ids, dtype=np.int64))
            params = faiss.SearchParameters(sel=selector)
        scores, ids = self._index.search(queries, k, params=params)
        return scores, ids
