"""`newsdesk index build` and `index stats` over planted wire copies, as a user runs them."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli.process import run_newsdesk, user_env
from tests.story_corpus import write_planted

AP_TITLE = "Storm gates to guard Marrow Bay harbour after board vote"


def test_stats_report_the_story_clusters(tmp_path: Path, model_cache: Path) -> None:
    corpus, index_dir = tmp_path / "corpus", tmp_path / "index"
    write_planted(corpus)
    env = user_env(index_dir=index_dir, corpus=corpus, cache_dir=model_cache)
    built = run_newsdesk("index", "build", env=env)
    assert built.returncode == 0, built.stderr
    assert "; 2 stories told by several articles." in " ".join(built.stdout.split())

    plain = run_newsdesk("index", "stats", env=env)
    assert plain.returncode == 0, plain.stderr
    shown = " ".join(plain.stdout.split())  # the console wraps long lines
    # Each story is named by the article cited for it: the earliest, then the longest text.
    assert f"Clusters 2 stories told by several articles (7 articles); largest: {AP_TITLE} (5)" in (
        shown
    )
    stats = json.loads(run_newsdesk("index", "stats", "--json", env=env).stdout)
    assert (stats["clusters"], stats["clustered_articles"]) == (2, 7)
    assert stats["largest_clusters"] == [[AP_TITLE, 5], ["Fenwick libraries drop overdue fines", 2]]
