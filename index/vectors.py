"""The FAISS index: normalised vectors under stable 63-bit chunk ids (inner product = cosine).

Two files. `vectors.faiss` holds the exact index (every vector, scanned in full): what a build
writes first and what small indexes serve from. From `FAST_SEARCH_MIN_VECTORS` on, the build
also writes `vectors.ivf`: an inverted file (about √n lists, trained once at build time) that
holds every vector again, under its chunk id, with a map from id to place. A served index of
that size opens only the inverted file (one read, nothing trained, no second copy in memory):

- an unfiltered search probes an eighth of the lists (at least 16) — on the development set that
  left answer recall unchanged and cut the search from several milliseconds to under one;
- a filtered search, or one asked to be exact, visits every list but scores only the chunks
  the filter admits (an `IDSelector`), so it stays exact without reading the other vectors;
- a stored vector is read back by id (for re-scoring, and for an update).

An update adds to the lists of the index it replaces instead of training new ones: its unchanged
vectors keep their lists, new ones go to the nearest. Only when the number of vectors has moved
so far that the lists no longer fit it (√n by more than a tenth) are they trained again, and the
log says so. Indexes written before the inverted file existed are served as before: a probe
trained in memory at open (`prepare_fast_search`).

The only module that imports faiss.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path

import faiss
import numpy as np

from index.list_sizing import list_count, probes
from index.vector_files import append_exact, approximate_path

logger = logging.getLogger(__name__)

# Exact search reads every stored vector. From this many questions per call on, FAISS scores them
# all with one matrix product, reading the vectors once; below it (default 20) it scans once per
# question, so a server's batch of 8 would cost 8 scans.
faiss.cvar.distance_compute_blas_threshold = 1


def set_threads(threads: int) -> None:
    """FAISS uses OpenMP; more threads than free cores makes it several times slower."""
    faiss.omp_set_num_threads(max(1, threads))


@contextmanager
def _one_thread() -> Iterator[None]:
    """One OpenMP thread for this calling thread (the setting is per thread) while inside.

    A search of one question runs on one thread anyway (FAISS splits the work by question);
    the others only wait at the end of each parallel region, spinning, and on a busy machine
    that waiting took the core the search needed: 41 against 9 ms a search at a million
    chunks."""
    before = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(1)
    try:
        yield
    finally:
        faiss.omp_set_num_threads(before)


FAST_SEARCH_MIN_VECTORS = 20_000  # below this a full scan costs under a millisecond or two


class VectorIndex:
    def __init__(self, index: faiss.Index | None, probe: faiss.Index | None = None) -> None:
        self._index = index  # exact IndexIDMap2(IndexFlatIP); None when served from `_probe`
        self._probe = probe  # IndexIDMap2(IVF) built at open, or an IndexIVFFlat read from disk
        self._stored = probe is not None and index is None

    @classmethod
    def empty(cls, dimension: int) -> VectorIndex:
        return cls(faiss.IndexIDMap2(faiss.IndexFlatIP(dimension)))

    @classmethod
    def load(cls, path: Path) -> VectorIndex:
        """The inverted file beside `path` when there is one, else `path`.

        The lists are read into memory, not mapped: FAISS maps them as `OnDiskInvertedLists`,
        whose searches took four times as long (3.3 against 0.8 ms on 62,000 chunks), and
        after a thousand questions nearly every list has been read anyway."""
        stored = approximate_path(path)
        if stored.is_file():
            inverted = faiss.read_index(str(stored))
            inverted.nprobe = probes(inverted.nlist)  # files written before MAX_PROBES hold more
            return cls(None, inverted)
        return cls(faiss.read_index(str(path)))

    def save(
        self,
        path: Path,
        like: VectorIndex | None = None,
        min_vectors: int | None = None,
    ) -> None:
        """Write the exact index to `path` and, from `FAST_SEARCH_MIN_VECTORS` on, the inverted
        file beside it (adding to the lists of `like`, the index this one updates, when they
        still fit). Written through a Python file: FAISS's own writer only prints an error
        from the final flush (a full disk), leaving a truncated file behind a normal return."""
        if self._index is None:
            raise ValueError("an index served from its inverted file is read-only")
        _write(self._index, path)
        if len(self) >= (FAST_SEARCH_MIN_VECTORS if min_vectors is None else min_vectors):
            _write(self._inverted_file(like), approximate_path(path))

    def save_appended(
        self, path: Path, previous_path: Path, ids: np.ndarray, vectors: np.ndarray
    ) -> None:
        """Write this index (the generation an update replaces, saved at `previous_path`) with
        `vectors` added under `ids`, without reading its vectors back one by one: the exact
        file is read whole and added to, and the stored lists take the new vectors in their
        nearest lists. Where there are no stored lists, or they no longer fit the new total,
        the files are written as `save` writes them (training new lists, and saying so).

        This index takes the new vectors too: it must not be served again."""
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        ids = np.asarray(ids, dtype=np.int64)
        total = len(self) + len(ids)
        inverted = self._lists() if self._stored else None
        if (
            inverted is None
            or total < FAST_SEARCH_MIN_VECTORS
            or abs(inverted.nlist - list_count(total)) > list_count(total) / 10
        ):
            exact = VectorIndex(faiss.read_index(str(previous_path)))
            exact.add(ids, vectors)
            exact.save(path, like=self)
            return
        if not append_exact(previous_path, path, ids, vectors):  # another layout: through FAISS
            exact = VectorIndex(faiss.read_index(str(previous_path)))
            exact.add(ids, vectors)
            _write(exact._index, path)
            del exact
        self._probe.add_with_ids(
            np.ascontiguousarray(vectors, dtype=np.float32), np.asarray(ids, dtype=np.int64)
        )
        _write(self._probe, approximate_path(path))

    def _inverted_file(self, like: VectorIndex | None) -> faiss.IndexIVFFlat:
        ids = self.ids()
        vectors = self.vectors(ids)
        lists = list_count(len(ids))
        stored = like is not None and like._stored
        inverted = like._empty_lists_like(lists, self.dimension) if stored else None
        if inverted is None:
            if stored:
                logger.info(
                    "training new search lists: %d vectors need about %d lists, the index they "
                    "update has %d",
                    len(ids),
                    lists,
                    like._lists().nlist,
                )
            inverted = faiss.IndexIVFFlat(
                faiss.IndexFlatIP(self.dimension), self.dimension, lists, faiss.METRIC_INNER_PRODUCT
            )
            inverted.train(vectors)
            inverted.add_with_ids(vectors, ids)
        else:
            assigned = like._list_of(ids)
            known = assigned >= 0
            if not known.all():
                _, nearest = inverted.quantizer.search(vectors[~known], 1)
                assigned[~known] = nearest[:, 0]
            inverted.add_core(
                len(ids),
                faiss.swig_ptr(np.ascontiguousarray(vectors)),
                faiss.swig_ptr(np.ascontiguousarray(ids)),
                faiss.swig_ptr(np.ascontiguousarray(assigned)),
            )
        inverted.nprobe = probes(inverted.nlist)
        inverted.set_direct_map_type(faiss.DirectMap.Hashtable)
        return inverted

    def _lists(self) -> faiss.IndexIVF | None:
        return None if self._probe is None else faiss.extract_index_ivf(self._probe)

    def _empty_lists_like(self, lists: int, dimension: int) -> faiss.IndexIVFFlat | None:
        """A new, empty inverted file with this one's trained centroids, if it has about
        `lists` lists in `dimension` dimensions."""
        inverted = self._lists()
        if inverted is None or self.dimension != dimension:
            return None
        if abs(inverted.nlist - lists) > lists / 10:
            return None
        centroids = inverted.quantizer.reconstruct_n(0, inverted.nlist)
        quantizer = faiss.IndexFlatIP(dimension)
        quantizer.add(centroids)
        fresh = faiss.IndexIVFFlat(quantizer, dimension, inverted.nlist, faiss.METRIC_INNER_PRODUCT)
        fresh.is_trained = True
        fresh.own_fields = True
        quantizer.this.disown()
        return fresh

    def _list_of(self, ids: np.ndarray) -> np.ndarray:
        """The list each id is stored in (-1 for ids this index lacks)."""
        inverted = self._lists()
        held, places = self._stored_ids(inverted)
        order = np.argsort(held, kind="stable")
        held, places = held[order], places[order]
        position = np.clip(np.searchsorted(held, ids), 0, max(len(held) - 1, 0))
        found = (held[position] == ids) if len(held) else np.zeros(len(ids), bool)
        return np.where(found, places[position], -1).astype(np.int64)

    @staticmethod
    def _stored_ids(inverted: faiss.IndexIVF) -> tuple[np.ndarray, np.ndarray]:
        """Every id in the inverted file, with the list holding it."""
        lists = inverted.invlists
        ids, places = [], []
        for number in range(inverted.nlist):
            size = lists.list_size(number)
            if size:
                held = faiss.rev_swig_ptr(lists.get_ids(number), size).copy()
                ids.append(held)
                places.append(np.full(size, number, dtype=np.int64))
        if not ids:
            return np.empty(0, np.int64), np.empty(0, np.int64)
        return np.concatenate(ids).astype(np.int64), np.concatenate(places)

    @property
    def dimension(self) -> int:
        return (self._index if self._index is not None else self._probe).d

    def __len__(self) -> int:
        return (self._index if self._index is not None else self._probe).ntotal

    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        if self._index is None:
            raise ValueError("an index served from its inverted file is read-only")
        self._index.add_with_ids(
            np.ascontiguousarray(vectors, dtype=np.float32), np.asarray(ids, dtype=np.int64)
        )

    def ids(self) -> np.ndarray:
        if self._index is None:
            return self._stored_ids(self._lists())[0]
        return faiss.vector_to_array(self._index.id_map).astype(np.int64)

    def vectors(self, ids: Iterable[int]) -> np.ndarray:
        """The stored vectors for `ids` (an update reuses them for unchanged articles)."""
        keys = np.fromiter(ids, dtype=np.int64)
        if len(keys) == 0:
            return np.empty((0, self.dimension), dtype=np.float32)
        source = self._index if self._index is not None else self._probe
        return source.reconstruct_batch(keys)

    def prepare_fast_search(
        self, min_vectors: int = FAST_SEARCH_MIN_VECTORS, like: VectorIndex | None = None
    ) -> None:
        """For an index saved without its inverted file (written before there was one): build
        the probe in memory when the index is large enough to need it.

        `like`, an index this one updates (the generation served before it), lends its trained
        lists when their number is within a tenth of what this one needs: training is most of
        the cost (2 of 3 s on the development index).
        """
        total = len(self)
        if total < min_vectors or self._probe is not None:
            return
        lists = list_count(total)
        ids = self.ids()
        vectors = self.vectors(ids)
        probe = like._trained_probe(lists, self.dimension) if like is not None else None
        if probe is None:
            inverted = faiss.IndexIVFFlat(
                faiss.IndexFlatIP(self.dimension), self.dimension, lists, faiss.METRIC_INNER_PRODUCT
            )
            inverted.train(vectors)
            inverted.nprobe = probes(lists)
            probe = faiss.IndexIDMap2(inverted)
        probe.add_with_ids(vectors, ids)
        self._probe = probe

    def _trained_probe(self, lists: int, dimension: int) -> faiss.Index | None:
        """An empty copy of this index's probe (its trained lists, no vectors), if it has one
        of about `lists` lists in `dimension` dimensions."""
        if self._probe is None or self.dimension != dimension:
            return None
        if self._stored:
            fresh = self._empty_lists_like(lists, dimension)
            if fresh is None:
                return None
            fresh.nprobe = probes(fresh.nlist)
            return faiss.IndexIDMap2(fresh)
        inverted = faiss.extract_index_ivf(self._probe)
        if abs(inverted.nlist - lists) > lists / 10:
            return None
        probe = faiss.clone_index(self._probe)
        probe.reset()
        return probe

    def search(
        self,
        queries: np.ndarray,
        k: int,
        allowed_ids: np.ndarray | None = None,
        *,
        exact: bool = False,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Top-k (scores, ids) per query row; `allowed_ids` restricts the search (filters);
        `exact` scans every vector even where an approximate structure exists (to measure it)."""
        queries = np.ascontiguousarray(np.atleast_2d(queries), dtype=np.float32)
        k = min(k, len(self))
        if k <= 0:
            empty = np.empty((len(queries), 0))
            return empty.astype(np.float32), empty.astype(np.int64)
        with _one_thread() if len(queries) == 1 else nullcontext():
            return self._search(queries, k, allowed_ids, exact)

    def _search(
        self, queries: np.ndarray, k: int, allowed_ids: np.ndarray | None, exact: bool
    ) -> tuple[np.ndarray, np.ndarray]:
        if allowed_ids is None and self._probe is not None and not exact:
            return self._probe.search(queries, k)
        selector = None
        if allowed_ids is not None:
            selector = faiss.IDSelectorBatch(np.asarray(allowed_ids, dtype=np.int64))
        if self._index is None:  # every list, only the admitted vectors: exact
            params = faiss.SearchParametersIVF(sel=selector, nprobe=self._probe.nlist)
            return self._probe.search(queries, k, params=params)
        params = faiss.SearchParameters(sel=selector) if selector is not None else None
        return self._index.search(queries, k, params=params)


def _write(index: faiss.Index, path: Path) -> None:
    with open(path, "wb") as handle:
        writer = faiss.PyCallbackIOWriter(handle.write)
        faiss.write_index(index, writer)
        del writer
