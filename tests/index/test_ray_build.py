"""The Ray build against the in-process build: same articles, chunks, statements and skipped
inputs, vectors within cosine 0.9999, on a real local Ray (skipped where ray is not installed)."""

from __future__ import annotations

import shutil
from functools import partial
from pathlib import Path

import pytest

from index.build import build_index
from index.errors import ClusterError
from index.layout import current_generation
from index.store import open_index
from tests.cli.process import free_port
from tests.conftest import REPO, SEED_CORPUS
from tests.index_contents import contents

pytest.importorskip("ray", reason="the Ray build needs the ray extra: pip install 'newsdesk[ray]'")

from index.ray_build import RaySource, build_with_ray, ray_cluster  # noqa: E402
from index.ray_stages import EncoderSpec  # noqa: E402

NEWSROOM = REPO / "tests" / "data" / "newsroom"
CHANGED = "---\ntitle: Oil prices\ndate: 2023-11-04\n---\nOil fell for a third day, traders said.\n"


@pytest.fixture
def newsroom_corpus(tmp_path: Path) -> Path:
    """The seed article, the newsroom's outlets and formats, a duplicate and an unreadable file."""
    corpus = tmp_path / "corpus"
    shutil.copytree(SEED_CORPUS, corpus)
    shutil.copytree(NEWSROOM, corpus, dirs_exist_ok=True)
    shutil.copy(NEWSROOM / "oil-prices.txt", corpus / "oil-prices-copy.txt")
    (corpus / "scan.pdf").write_bytes(b"%PDF-1.4")
    return corpus


def assert_same_index(ray_dir: Path, local_dir: Path, *, in_order: bool = True) -> None:
    """Same rows in every table (in the same order, unless an update wrote some of them after
    the rows it copied) and the same chunks' vectors."""
    ray_rows, ray_vectors = contents(ray_dir)
    local_rows, local_vectors = contents(local_dir)
    assert ray_rows.keys() == local_rows.keys()
    for table, rows in local_rows.items():  # articles, chunks (ids, offsets), statements, …
        assert (ray_rows[table] if in_order else sorted(ray_rows[table])) == (
            rows if in_order else sorted(rows)
        ), table
    assert list(ray_vectors) == list(local_vectors)
    cosines = [float(ray_vectors[key] @ vector) for key, vector in local_vectors.items()]
    assert min(cosines) >= 0.9999


def ray_source(embedder, plan):
    return partial(RaySource, spec=EncoderSpec.of(embedder), plan=plan)


def test_ray_build_equals_the_in_process_build(
    newsroom_corpus: Path, tmp_path: Path, embedder
) -> None:
    local_dir, ray_dir = tmp_path / "local", tmp_path / "ray"
    skipped_here, skipped_there = [], []
    local = build_index(newsroom_corpus, local_dir, embedder, on_skip=skipped_here.append)

    with ray_cluster(None, cpus=2) as plan:
        built = build_index(
            newsroom_corpus, ray_dir, embedder, source=ray_source(embedder, plan),
            on_skip=skipped_there.append,
        )  # fmt: skip

    assert_same_index(ray_dir, local_dir)
    assert skipped_there == skipped_here and len(skipped_here) == 2  # the copy, the PDF
    assert (built.articles, built.chunks, built.statements, built.clusters) == (
        local.articles, local.chunks, local.statements, local.clusters,
    )  # fmt: skip
    assert built.embedded_chunks == built.chunks


@pytest.mark.slow  # two builds on one local Ray: 15-20 s here
def test_ray_update_embeds_only_what_changed_and_equals_a_rebuild(
    newsroom_corpus: Path, tmp_path: Path, embedder
) -> None:
    local_dir, ray_dir = tmp_path / "local", tmp_path / "ray"
    with ray_cluster(None, cpus=2) as plan:
        build_index(newsroom_corpus, ray_dir, embedder, source=ray_source(embedder, plan))
        (newsroom_corpus / "oil-prices.txt").unlink()
        (newsroom_corpus / "oil-prices-copy.txt").unlink()
        (newsroom_corpus / "oil-prices.md").write_text(CHANGED)
        updated = build_index(
            newsroom_corpus, ray_dir, embedder, incremental=True,
            source=ray_source(embedder, plan),
        )  # fmt: skip
    build_index(newsroom_corpus, local_dir, embedder)

    assert_same_index(ray_dir, local_dir, in_order=False)
    assert (updated.added_articles, updated.removed_articles) == (1, 1)
    assert updated.embedded_chunks == 1 and updated.reused_chunks == updated.chunks - 1


def test_unreachable_cluster_is_one_clear_error_and_the_index_stays(
    built_index: Path, tmp_path: Path, embedder
) -> None:
    index_dir = tmp_path / "index"
    shutil.copytree(built_index, index_dir, symlinks=True)
    before = current_generation(index_dir)
    address = f"127.0.0.1:{free_port()}"

    with pytest.raises(ClusterError, match=f"Could not reach the Ray cluster at {address}"):
        build_with_ray(SEED_CORPUS, index_dir, embedder, address=address)

    assert current_generation(index_dir) == before
    assert open_index(index_dir).summary().articles == 1
