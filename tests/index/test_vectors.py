"""The vector index: exact search, and the fast probe finds the same neighbours."""

from __future__ import annotations

import numpy as np

from index.vectors import VectorIndex


def random_index(count: int, dimension: int = 32) -> tuple[VectorIndex, np.ndarray, np.ndarray]:
    """Vectors around 50 topics, as text embeddings are (uniform noise has no structure)."""
    rng = np.random.default_rng(7)
    topics = rng.standard_normal((50, dimension))
    vectors = topics[rng.integers(0, 50, count)] + 0.6 * rng.standard_normal((count, dimension))
    vectors = vectors.astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    ids = rng.choice(2**62, size=count, replace=False).astype(np.int64)
    index = VectorIndex.empty(dimension)
    index.add(ids, vectors)
    return index, ids, vectors


def test_the_fast_probe_finds_the_exact_neighbours() -> None:
    index, ids, vectors = random_index(4000)
    queries = vectors[:50] + 0.05 * np.random.default_rng(1).standard_normal(vectors[:50].shape)
    _, exact = index.search(queries.astype(np.float32), 10)
    index.prepare_fast_search(min_vectors=1000)
    _, fast = index.search(queries.astype(np.float32), 10)
    assert (fast[:, 0] == ids[:50]).all()  # each query's own vector comes first
    overlap = np.mean([len(set(a) & set(b)) / 10 for a, b in zip(fast, exact, strict=True)])
    assert overlap >= 0.9


def test_filtered_search_stays_exact_and_within_the_filter() -> None:
    index, ids, vectors = random_index(4000)
    index.prepare_fast_search(min_vectors=1000)
    allowed = ids[::7]
    scores, found = index.search(vectors[3], 20, allowed)
    assert set(found[0]) <= set(allowed)
    best = np.sort(vectors[::7] @ vectors[3])[::-1][:20]
    assert np.allclose(scores[0], best, atol=1e-5)


def test_small_indexes_keep_the_full_scan() -> None:
    index, ids, vectors = random_index(500)
    index.prepare_fast_search()
    scores, found = index.search(vectors[:5], 3)
    assert (found[:, 0] == ids[:5]).all() and np.allclose(scores[:, 0], 1.0, atol=1e-5)


def test_an_updated_index_borrows_the_trained_lists_of_the_one_it_replaces() -> None:
    """A reload after an update skips training: the new vectors are found as the old ones are,
    and the previous index keeps its own probe whole."""
    before, ids, vectors = random_index(4000)
    before.prepare_fast_search(min_vectors=1000)
    after, _, _ = random_index(4000)
    rng = np.random.default_rng(3)
    new = vectors[:40] + 0.1 * rng.standard_normal(vectors[:40].shape)
    new = (new / np.linalg.norm(new, axis=1, keepdims=True)).astype(np.float32)
    new_ids = np.arange(1, 41, dtype=np.int64)
    after.add(new_ids, new)

    after.prepare_fast_search(min_vectors=1000, like=before)

    assert after._probe is not None and after._probe.ntotal == 4040
    assert before._probe is not None and before._probe.ntotal == 4000
    _, found = after.search(new, 1)
    assert (found[:, 0] == new_ids).all()
    _, exact = after.search(vectors[:50], 10, allowed_ids=np.concatenate([ids, new_ids]))
    _, fast = after.search(vectors[:50], 10)
    overlap = np.mean([len(set(a) & set(b)) / 10 for a, b in zip(fast, exact, strict=True)])
    assert overlap >= 0.9


def test_an_index_grown_far_past_the_lists_it_was_trained_with_is_trained_anew() -> None:
    small, _, _ = random_index(1500)
    small.prepare_fast_search(min_vectors=1000)
    large, _, _ = random_index(6000)
    large.prepare_fast_search(min_vectors=1000, like=small)
    assert large._probe is not None
    assert large._trained_probe(int(np.sqrt(6000)), 32) is not None  # its own √n lists
    assert small._trained_probe(int(np.sqrt(6000)), 32) is None  # 38 lists, not 77


def test_a_saved_index_opens_its_inverted_file_without_training(tmp_path) -> None:
    """From the size that needs it, the build writes the trained lists; opening maps them and
    serves unfiltered, filtered and by-id reads from them alone."""
    index, ids, vectors = random_index(4000)
    index.save(tmp_path / "vectors.faiss", min_vectors=1000)
    loaded = VectorIndex.load(tmp_path / "vectors.faiss")
    assert loaded._index is None and loaded._probe is not None and len(loaded) == 4000
    assert np.array_equal(np.sort(loaded.ids()), np.sort(ids))
    assert np.allclose(loaded.vectors(ids[:5]), vectors[:5])
    _, exact = loaded.search(vectors[:50], 10, exact=True)
    _, fast = loaded.search(vectors[:50], 10)
    assert (fast[:, 0] == ids[:50]).all()
    assert np.mean([len(set(a) & set(b)) / 10 for a, b in zip(fast, exact, strict=True)]) >= 0.9
    allowed = ids[::7]
    scores, found = loaded.search(vectors[3], 20, allowed)
    assert set(found[0]) <= set(allowed)
    assert np.allclose(scores[0], np.sort(vectors[::7] @ vectors[3])[::-1][:20], atol=1e-5)


def test_an_update_adds_to_the_stored_lists_and_retrains_only_when_they_no_longer_fit(
    tmp_path, caplog
) -> None:
    before, ids, vectors = random_index(4000)
    before.save(tmp_path / "before.faiss", min_vectors=1000)
    served = VectorIndex.load(tmp_path / "before.faiss")
    rng = np.random.default_rng(3)
    new = vectors[:40] + 0.1 * rng.standard_normal(vectors[:40].shape)
    new = (new / np.linalg.norm(new, axis=1, keepdims=True)).astype(np.float32)
    new_ids = np.arange(1, 41, dtype=np.int64)
    after = VectorIndex.empty(32)
    after.add(ids, served.vectors(ids))
    after.add(new_ids, new)
    with caplog.at_level("INFO", logger="index.vectors"):
        after.save(tmp_path / "after.faiss", like=served, min_vectors=1000)
    assert "training new search lists" not in caplog.text
    updated = VectorIndex.load(tmp_path / "after.faiss")
    centroids = updated._probe.quantizer.reconstruct_n(0, updated._probe.nlist)
    assert np.array_equal(centroids, served._probe.quantizer.reconstruct_n(0, 63))
    _, found = updated.search(new, 1)
    assert (found[:, 0] == new_ids).all()
    assert updated._list_of(ids[:100]).tolist() == served._list_of(ids[:100]).tolist()

    grown, _, _ = random_index(9000)
    with caplog.at_level("INFO", logger="index.vectors"):
        grown.save(tmp_path / "grown.faiss", like=served, min_vectors=1000)
    assert "training new search lists: 9000 vectors need about 94 lists" in caplog.text
