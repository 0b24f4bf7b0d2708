"""Story clusters over planted wire copies, with the real model: build, update, removal."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from index.build import build_index, update_index
from index.clusters import THRESHOLD, similarity
from index.layout import current_generation
from index.store import open_index
from tests.story_corpus import LONE, STORIES, planted_articles, write_planted


def stories_of(index_dir: Path) -> dict[str, set[str]]:
    """Article id → the ids of its story's articles, for every article in the index."""
    reader = open_index(index_dir)
    try:
        return {article_id: set(reader.story(article_id)) for article_id in reader.articles}
    finally:
        reader.close()


def test_each_planted_copy_lands_in_its_story_and_topic_neighbours_stay_apart(
    tmp_path: Path, embedder
):
    corpus = tmp_path / "corpus"
    write_planted(corpus)
    report = build_index(corpus, tmp_path / "index", embedder)

    found = stories_of(tmp_path / "index")
    for members in STORIES.values():
        for article_id in members:
            assert found[article_id] == members, article_id
    for article_id in LONE:
        assert found[article_id] == {article_id}
    assert (report.clusters, report.clustered_articles) == (2, 7)
    reader = open_index(tmp_path / "index")
    # Cited first: the earliest, and of the earliest the longest text (AP adds its dateline).
    assert reader.story("barrier-post")[0] == "barrier-ap"
    assert reader.manifest.format_version >= 4
    reader.close()


def test_the_planted_variants_sit_above_the_threshold_and_the_neighbours_far_below():
    texts = {record["id"]: record["text"] for record in planted_articles()}
    original = texts["barrier-reuters"]
    for variant in ("barrier-ap", "barrier-herald", "barrier-post", "barrier-star"):
        assert similarity(original, texts[variant]) >= THRESHOLD, variant
    assert similarity(original, texts["barrier-protest"]) < THRESHOLD / 4
    assert similarity(texts["library-reuters"], texts["library-sundays"]) < THRESHOLD / 4


def test_update_adds_a_new_copy_to_its_story_and_removal_leaves_the_rest_together(
    tmp_path: Path, embedder
):
    corpus, index_dir = tmp_path / "corpus", tmp_path / "index"
    write_planted(corpus, skip={"barrier-star"})
    build_index(corpus, index_dir, embedder)
    assert "barrier-star" not in stories_of(index_dir)["barrier-reuters"]

    write_planted(corpus)  # the copy with a correction arrives
    report = update_index(corpus, index_dir, embedder)
    assert (report.added_articles, report.embedded_chunks > 0) == (1, True)
    assert stories_of(index_dir)["barrier-star"] == STORIES["barrier"]

    (corpus / "barrier-ap.json").unlink()  # the member cited first goes
    update_index(corpus, index_dir, embedder)
    found = stories_of(index_dir)
    assert "barrier-ap" not in found
    assert found["barrier-herald"] == STORIES["barrier"] - {"barrier-ap"}
    reader = open_index(index_dir)
    assert reader.story("barrier-post")[0] == "barrier-reuters"
    reader.close()


def test_update_keeps_stored_signatures_of_unchanged_articles(tmp_path: Path, embedder):
    corpus, index_dir = tmp_path / "corpus", tmp_path / "index"
    write_planted(corpus)
    build_index(corpus, index_dir, embedder)
    (corpus / "library-sundays.json").unlink()
    report = update_index(corpus, index_dir, embedder)
    assert report.clusters == 2
    assert report.cluster_seconds < report.seconds


def test_an_index_without_clusters_serves_and_update_adds_them(tmp_path: Path, embedder):
    corpus, index_dir = tmp_path / "corpus", tmp_path / "index"
    write_planted(corpus)
    build_index(corpus, index_dir, embedder)
    generation = current_generation(index_dir)
    # Make it look like an index from before clusters (format 3): no cluster rows, old manifest.
    manifest_path = generation / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    manifest |= {"format_version": 3, "cluster_rules": 0}
    old = tmp_path / "old"
    shutil.copytree(index_dir, old, symlinks=True)
    (current_generation(old) / "manifest.json").write_text(json.dumps(manifest))
    reader = open_index(old)
    assert reader.story("barrier-ap") == ("barrier-ap",)
    assert reader.summary().clusters == 0
    reader.close()

    report = update_index(corpus, old, embedder)
    assert (report.embedded_chunks, report.clusters) == (0, 2)
    assert stories_of(old)["barrier-ap"] == STORIES["barrier"]


def test_a_shared_photo_gallery_does_not_make_two_stories_one():
    gallery = " ".join(
        f"Fans celebrate goal number {n} in the stadium on Saturday. Photographer {n}/Getty Images"
        for n in range(60)
    )
    first = "The final preview: two heavyweights meet on Sunday in a long-awaited match.\n"
    second = "An upset in the group stage stunned the favourites on Tuesday night.\n"
    assert similarity(first + gallery, second + gallery) < THRESHOLD / 4
    captions = "\n".join(
        f"Photos: The war A building burns. Hide Caption {n} of 90" for n in range(90)
    )
    assert similarity(first + captions, second + captions) < THRESHOLD / 4
