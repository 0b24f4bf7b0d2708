"""`newsdesk index build --ray` as a user runs it: a local Ray started for the build, quiet, and
an index that answers as the in-process build's does (skipped where ray is not installed)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.cli.process import run_newsdesk, user_env

pytest.importorskip("ray", reason="the Ray build needs the ray extra: pip install 'newsdesk[ray]'")

SEED = "What did Blinken say about a multinational force?"


@pytest.mark.slow  # a local Ray build and two answers: about 26 s here
def test_build_on_a_local_ray_answers_like_the_plain_build(
    newsroom_corpus: Path, newsroom_env: dict[str, str], model_cache: Path, tmp_path: Path
) -> None:
    env = user_env(corpus=newsroom_corpus, index_dir=tmp_path / "index", cache_dir=model_cache)

    built = run_newsdesk("index", "build", "--ray", env=env)
    asked = run_newsdesk("ask", SEED, "--json", env=env)
    plain = run_newsdesk("ask", SEED, "--json", env=newsroom_env)

    assert built.returncode == 0, built.stderr
    assert f"Built {tmp_path / 'index'}: 8 articles" in built.stdout
    assert "Traceback" not in built.stderr
    assert not re.search(r"\bray\b|WARNING|ERROR", built.stderr, re.IGNORECASE), built.stderr
    assert asked.returncode == 0, asked.stderr
    answer, expected = json.loads(asked.stdout), json.loads(plain.stdout)
    assert not answer["abstained"] and answer["citations"][0]["source"] == "Bloomberg"
    assert answer["answer"] == expected["answer"]
    quotes = [(c["article_id"], c["start"], c["end"]) for c in answer["citations"]]
    assert quotes == [(c["article_id"], c["start"], c["end"]) for c in expected["citations"]]
