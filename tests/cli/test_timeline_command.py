"""`newsdesk timeline` as a user runs it: the installed script, environment and arguments only."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli.process import run_newsdesk, user_env
from tests.timeline_corpus import EVENTS, LATER


def test_timeline_prints_dated_lines_and_pages_on(timeline_index: Path, model_cache: Path) -> None:
    env = user_env(index_dir=timeline_index, cache_dir=model_cache)

    plain = run_newsdesk("timeline", "Kessler Bridge", env=env)
    paged = run_newsdesk("timeline", "Kessler Bridge", "--offset", "12", "--json", env=env)
    bounded = run_newsdesk(
        "timeline", "Kessler Bridge", "--since", "2024-03-05", "--until", "2024-03-08", "--json",
        env=env,
    )  # fmt: skip

    assert plain.returncode == 0, plain.stderr
    lines = plain.stdout.splitlines()
    assert lines[0] == f"4 Mar 2024 — {EVENTS['2024-03-04']} (Westmere Herald) [1]"
    assert lines[11].startswith("27 Mar 2024 — ") and lines[11].endswith("[12]")
    assert "2 more dates follow." in plain.stdout and "--offset 12" in plain.stdout
    assert "Sources:" in plain.stdout and "https://news.example.org/kb-collapse" in plain.stdout
    assert paged.returncode == 0, paged.stderr
    rest = json.loads(paged.stdout)
    assert [e["date"] for e in rest["timeline"]["events"]] == [day for day, _ in LATER[-2:]]
    assert (rest["timeline"]["offset"], rest["timeline"]["more"]) == (12, 0)
    assert [c["quote"] for c in rest["citations"]] == [sentence for _, sentence in LATER[-2:]]
    assert bounded.returncode == 0, bounded.stderr
    days = [e["date"] for e in json.loads(bounded.stdout)["timeline"]["events"]]
    assert days == ["2024-03-05", "2024-03-08"]


def test_a_bad_date_or_an_empty_topic_is_one_line(timeline_index: Path, model_cache: Path) -> None:
    env = user_env(index_dir=timeline_index, cache_dir=model_cache)
    empty = run_newsdesk("timeline", " ", env=env)
    bad_date = run_newsdesk("timeline", "Kessler Bridge", "--since", "March", env=env)
    assert (empty.returncode, empty.stderr.strip()) == (1, "Error: the topic is empty.")
    assert bad_date.returncode == 1
    assert bad_date.stderr.strip() == "Error: --since must be a date like 2023-11-03, not 'March'."


def test_chat_answers_a_timeline_question_and_more_pages_on(
    timeline_index: Path, model_cache: Path
) -> None:
    env = user_env(index_dir=timeline_index, cache_dir=model_cache)
    typed = "How did the Kessler Bridge saga unfold?\nmore\nquit\n"
    done = run_newsdesk("chat", env=env, input=typed, timeout=60)

    assert done.returncode == 0, done.stderr
    first, more, _ = done.stdout.split("> ")[1:]
    assert first.startswith(f"4 Mar 2024 — {EVENTS['2024-03-04']} (Westmere Herald) [1]")
    assert "2 more dates follow." in first
    assert more.startswith(f"28 Mar 2024 — {LATER[-2][1]} (Daily Courier) [1]")
    assert f"29 Mar 2024 — {LATER[-1][1]} (Daily Courier) [2]" in more
