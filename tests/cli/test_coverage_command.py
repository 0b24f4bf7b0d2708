"""`newsdesk coverage` as a user runs it, over the newsroom index (several outlets and dates)."""

from __future__ import annotations

import json

from tests.cli.process import run_newsdesk


def coverage_json(*args: str, env: dict[str, str]) -> dict:
    done = run_newsdesk("coverage", *args, "--json", env=env)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_coverage_counts_by_outlet_and_month(newsroom_env: dict[str, str]) -> None:
    found = coverage_json("Blinken", env=newsroom_env)
    reuters = coverage_json("Blinken", "--source", "Reuters", env=newsroom_env)
    plain = run_newsdesk("coverage", "Blinken", env=newsroom_env)

    outlets = dict(found["by_source"])
    assert {"Bloomberg", "Reuters"} <= outlets.keys()
    assert found["articles"] == sum(outlets.values()) == sum(n for _, n in found["by_month"])
    assert found["first_date"] <= found["last_date"]
    assert 1 <= len(found["headlines"]) <= 3
    assert {h["source"] for h in found["headlines"]} <= outlets.keys()
    assert reuters["by_source"] == [["Reuters", outlets["Reuters"]]]
    assert plain.returncode == 0, plain.stderr
    first_line = plain.stdout.splitlines()[0]
    assert first_line.startswith(f"{found['articles']} article") and "Blinken" in first_line
    assert "By outlet: " in plain.stdout and "Most relevant:" in plain.stdout


def test_an_empty_topic_is_one_line_and_exit_status_1(newsroom_env: dict[str, str]) -> None:
    done = run_newsdesk("coverage", "  ", env=newsroom_env)
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == ["Error: the topic is empty."]
