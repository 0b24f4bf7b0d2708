"""Story clusters over planted wire copies and revisions, with the real model: build, update,
removal; and the revision rule on invented texts."""

from __future__ import annotations

import json
import random
import shutil
from pathlib import Path

from index.build import build_index, update_index
from index.clusters import (
    REVISION_CONTAINMENT,
    REVISION_FLOOR,
    SURE_REVISION_CONTAINMENT,
    THRESHOLD,
    cluster_articles,
    containment,
    shingles,
    similarity,
    words,
)
from index.embedder import Embedder
from index.layout import current_generation
from index.store import create_metadata, open_index
from tests.revision_corpus import revision_articles
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


def invented_paragraphs(seed: int, count: int) -> list[str]:
    """`count` paragraphs of invented prose that share no five words in a row with another
    seed's (a vocabulary of 400 made-up words drawn at random)."""
    chooser = random.Random(seed)
    vocabulary = [f"w{chooser.randrange(10**6)}" for _ in range(400)]
    return [" ".join(chooser.choice(vocabulary) for _ in range(60)) + "." for _ in range(count)]


def write_articles(folder: Path, articles: dict[str, tuple[str, list[str]]]) -> None:
    """Article id → (date, paragraphs), one JSON file each."""
    folder.mkdir(parents=True, exist_ok=True)
    for article_id, (date, paragraphs) in articles.items():
        record = {"id": article_id, "title": article_id, "source": "Wire", "date": date,
                  "text": "\n\n".join(paragraphs)}  # fmt: skip
        (folder / f"{article_id}.json").write_text(json.dumps(record))


def clustered_pairs(
    articles: dict[str, tuple[str, list[str]]], embedder: Embedder
) -> set[frozenset[str]]:
    """The pairs in one story, from the rule alone (an in-memory index database; each paragraph
    a chunk, with its vector from the real model)."""
    db = create_metadata(Path(":memory:"))
    db.executemany(
        "INSERT INTO articles VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [(key, key, "Wire", date, None, key, "", "\n\n".join(text))
         for key, (date, text) in articles.items()],
    )  # fmt: skip
    paragraphs = [(key, text) for key, (_, texts) in articles.items() for text in texts]
    db.executemany(
        "INSERT INTO chunks VALUES (?, ?, ?, 0, 0, '[]', 0)",
        [(n, key, n) for n, (key, _) in enumerate(paragraphs)],
    )
    vectors = embedder.encode([text for _, text in paragraphs])
    cluster_articles(db, list(articles), lambda ids: vectors[list(ids)], previous_attached=False)
    stories: dict[str, set[str]] = {}
    for article_id, story in db.execute("SELECT article_id, cluster FROM story_clusters"):
        stories.setdefault(story, set()).add(article_id)
    return {frozenset((a, b)) for group in stories.values() for a in group for b in group if a < b}


def test_a_story_re_topped_days_later_joins_its_first_version_but_not_months_later(embedder):
    body = invented_paragraphs(1, 8)
    retopped = invented_paragraphs(2, 5) + body[1:]  # a new top, the first paragraph dropped
    assert REVISION_FLOOR <= similarity("\n".join(body), "\n".join(retopped)) < THRESHOLD
    days_later = {"first": ("2022-06-01", body), "update": ("2022-06-03", retopped)}
    months_later = {"first": ("2022-06-01", body), "update": ("2022-09-03", retopped)}
    undated = {"first": ("", body), "update": ("", retopped)}
    assert clustered_pairs(days_later, embedder) == {frozenset(("first", "update"))}
    assert clustered_pairs(months_later, embedder) == set()
    assert clustered_pairs(undated, embedder) == set()


def test_two_reports_sharing_under_half_their_text_stay_apart(embedder):
    background = invented_paragraphs(3, 3)
    one = invented_paragraphs(4, 4) + background
    other = invented_paragraphs(5, 4) + background
    assert similarity("\n".join(one), "\n".join(other)) >= REVISION_FLOOR
    pairs = {"one": ("2022-06-01", one), "other": ("2022-06-02", other)}
    assert clustered_pairs(pairs, embedder) == set()


def test_the_same_background_joins_a_re_topped_report_but_not_a_report_on_another_subject(
    tmp_path: Path, embedder
):
    articles = revision_articles()
    shingled = {key: shingles(words("\n\n".join(text))) for key, (_, text) in articles.items()}
    for other in ("gown-update", "film-trailer"):  # the same text evidence for both pairs
        shared = containment(shingled["gown-first"], shingled[other])
        assert REVISION_CONTAINMENT <= shared < SURE_REVISION_CONTAINMENT, other
    assert clustered_pairs(articles, embedder) == {frozenset(("gown-first", "gown-update"))}

    corpus, index_dir = tmp_path / "corpus", tmp_path / "index"
    write_articles(corpus, {key: articles[key] for key in ("gown-first", "film-trailer")})
    build_index(corpus, index_dir, embedder)
    write_articles(corpus, {"gown-update": articles["gown-update"]})  # arrives a day later
    report = update_index(corpus, index_dir, embedder)
    assert report.added_articles == 1
    found = stories_of(index_dir)
    assert found["gown-update"] == {"gown-first", "gown-update"}
    assert found["film-trailer"] == {"film-trailer"}


def test_pairing_with_a_cache_of_two_articles_finds_the_same_stories(monkeypatch, embedder):
    """Pairing keeps only the latest articles' 5-gram sets in memory; the stories must not
    depend on how many."""
    corpus = {**newsletters(), "first": ("2022-06-01", invented_paragraphs(1, 8)),
              "update": ("2022-06-03", invented_paragraphs(2, 5) + invented_paragraphs(1, 8)[1:]),
              "copy": ("2022-06-02", invented_paragraphs(1, 8)[:-1])}  # fmt: skip
    everything = clustered_pairs(corpus, embedder)
    assert everything == {frozenset(("first", "update")), frozenset(("first", "copy")),
                          frozenset(("copy", "update"))}  # fmt: skip
    monkeypatch.setattr("index.clusters.SHINGLE_CACHE", 2)
    assert clustered_pairs(corpus, embedder) == everything


def newsletters() -> dict[str, tuple[str, list[str]]]:
    """Issues of a newsletter: the same long boilerplate, a short item of their own each."""
    boilerplate = invented_paragraphs(6, 6)
    return {
        "issue-june-1": ("2022-06-01", [*boilerplate, *invented_paragraphs(7, 2)]),
        "issue-june-8": ("2022-06-08", [*boilerplate, *invented_paragraphs(8, 2)]),
        "issue-august-3": ("2022-08-03", [*boilerplate, *invented_paragraphs(9, 2)]),
    }


def test_newsletter_issues_stay_apart_once_an_issue_from_another_time_shows_the_template(
    embedder,
):
    issues = newsletters()
    close = {key: issues[key] for key in ("issue-june-1", "issue-june-8")}
    # Two issues alone look like a revision: the boilerplate is most of either text.
    assert clustered_pairs(close, embedder) == {frozenset(close)}
    assert clustered_pairs(issues, embedder) == set()


def test_update_decides_the_neighbours_again_and_agrees_with_a_full_build(tmp_path: Path, embedder):
    issues = newsletters()
    corpus, index_dir = tmp_path / "corpus", tmp_path / "index"
    write_articles(corpus, {key: issues[key] for key in ("issue-june-1", "issue-june-8")})
    build_index(corpus, index_dir, embedder)
    assert stories_of(index_dir)["issue-june-1"] == {"issue-june-1", "issue-june-8"}

    write_articles(corpus, {"issue-august-3": issues["issue-august-3"]})
    update_index(corpus, index_dir, embedder)
    assert all(story == {key} for key, story in stories_of(index_dir).items())

    (corpus / "issue-august-3.json").unlink()  # the evidence goes, and the pair is back
    update_index(corpus, index_dir, embedder)
    assert stories_of(index_dir)["issue-june-8"] == {"issue-june-1", "issue-june-8"}
