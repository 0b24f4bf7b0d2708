"""`newsdesk index build | update | stats` as a user runs them: the installed script over a small
corpus of several outlets and formats in tmp_path."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

from tests.cli.conftest import NEWSROOM_ARTICLES
from tests.cli.process import Finished, run_newsdesk, user_env

NEW_ARTICLE = """---
title: Qatar says hostage talks with Hamas are making progress
source: Al Jazeera
date: 2023-11-06
---
DOHA — Qatar's prime minister said on Monday that talks to free hostages held in Gaza were
making progress, while warning that the fighting made every step harder.
"""


def test_build_reports_what_it_indexed(newsroom_build: tuple[Path, Finished]) -> None:
    index_dir, built = newsroom_build
    assert built.returncode == 0, built.stderr
    assert f"Built {index_dir}: {NEWSROOM_ARTICLES} articles" in built.stdout
    assert "embedded" in built.stdout and "Traceback" not in built.stderr
    assert re.search(r"\), [1-9]\d* statements in ", built.stdout)  # who said what, counted
    assert (index_dir / "current").is_symlink()


def test_stats_plain_and_json(newsroom_env: dict[str, str], newsroom_index: Path) -> None:
    plain = run_newsdesk("index", "stats", env=newsroom_env)
    as_json = run_newsdesk("index", "stats", "--json", env=newsroom_env)
    assert plain.returncode == 0 and as_json.returncode == 0, plain.stderr + as_json.stderr
    assert f"Articles    {NEWSROOM_ARTICLES}" in plain.stdout
    assert "Bloomberg (2)" in plain.stdout and "2022-06-16 – 2023-11-05" in plain.stdout
    statements = re.search(r"Statements  (\d+) by (\d+) speakers \(most: (.+?) \(", plain.stdout)
    assert statements and int(statements[1]) >= int(statements[2]) > 1
    assert statements[3] == "Antony Blinken"  # the seed article quotes him most
    stats = json.loads(as_json.stdout)
    assert stats["articles"] == NEWSROOM_ARTICLES and stats["chunks"] >= NEWSROOM_ARTICLES
    assert {name for name, _ in stats["sources"]} >= {"Bloomberg", "Reuters", "AP", "BBC"}
    assert (stats["first_date"], stats["last_date"]) == ("2022-06-16", "2023-11-05")
    assert stats["model"].startswith("all-MiniLM-L6-v2")
    assert stats["path"] == str(newsroom_index) and stats["skipped_inputs"] == []
    assert stats["statements"] == int(statements[1]) and stats["speakers"] == int(statements[2])
    assert stats["top_speakers"][0][0] == "Antony Blinken"


def test_update_after_adding_an_article_reports_it_added(
    newsroom_index: Path, newsroom_corpus: Path, model_cache: Path, tmp_path: Path
) -> None:
    index_dir, corpus = tmp_path / "index", tmp_path / "corpus"
    shutil.copytree(newsroom_index, index_dir, symlinks=True)
    shutil.copytree(newsroom_corpus, corpus)
    (corpus / "qatar-hostage-talks.md").write_text(NEW_ARTICLE)
    env = user_env(index_dir=index_dir, corpus=corpus, cache_dir=model_cache)

    updated = run_newsdesk("index", "update", env=env)
    stats = run_newsdesk("index", "stats", "--json", env=env)

    assert updated.returncode == 0, updated.stderr
    assert f"Updated {index_dir}: {NEWSROOM_ARTICLES + 1} articles" in updated.stdout
    assert "1 added, 0 changed, 0 removed" in updated.stdout
    summary = json.loads(stats.stdout)
    assert summary["articles"] == NEWSROOM_ARTICLES + 1
    assert ["Al Jazeera", 1] in summary["sources"] and summary["last_date"] == "2023-11-06"
