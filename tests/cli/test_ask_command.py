"""`newsdesk ask` as a user runs it: plain and --json answers, and the --source / --since /
--until filters, over the newsroom index (several outlets and dates)."""

from __future__ import annotations

import json
import re
from datetime import date

from tests.cli.process import run_newsdesk

SEED = "What did Blinken say about a multinational force?"
AMMAN = "What did Arab ministers press Blinken for?"  # Reuters, 2023-11-04; Bloomberg, 2023-11-03
HOLDINGS = "I have 8 articles (2022-06-16 – 2023-11-05) from Bloomberg, Reuters"


def ask_json(*args: str, env: dict[str, str]) -> dict:
    done = run_newsdesk("ask", *args, "--json", env=env)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_ask_prints_a_cited_answer_plain_and_as_json(newsroom_env: dict[str, str]) -> None:
    plain = run_newsdesk("ask", SEED, env=newsroom_env)
    answer = ask_json(SEED, env=newsroom_env)

    assert plain.returncode == 0, plain.stderr
    assert "multinational force" in plain.stdout and "[1]" in plain.stdout
    assert "Sources:\n[1] " in plain.stdout and "— Bloomberg, 2023-11-03" in plain.stdout
    assert not answer["abstained"] and answer["query"] == SEED
    first = answer["citations"][0]
    assert (first["n"], first["source"], first["date"]) == (1, "Bloomberg", "2023-11-03")
    assert "multinational force" in first["quote"] and first["quote"] in first["passage"]
    # the quote as the article has it, then its marker (after the outlet and day, if named)
    assert re.search(re.escape(first["quote"]) + r"(?: \([^()]*\))? ?\[1\]", answer["answer"])


def test_filters_keep_the_answer_to_that_source_and_those_dates(
    newsroom_env: dict[str, str],
) -> None:
    reuters = ask_json(AMMAN, "--source", "Reuters", env=newsroom_env)
    early = ask_json(AMMAN, "--since", "2023-11-01", "--until", "2023-11-03", env=newsroom_env)

    assert not reuters["abstained"] and reuters["citations"]
    assert {c["source"] for c in reuters["citations"]} == {"Reuters"}
    assert "ceasefire" in reuters["answer"]
    assert not early["abstained"] and early["citations"]
    for citation in early["citations"]:
        assert date(2023, 11, 1) <= date.fromisoformat(citation["date"]) <= date(2023, 11, 3)


def test_a_filter_that_matches_nothing_says_so(newsroom_env: dict[str, str]) -> None:
    nobody = run_newsdesk("ask", AMMAN, "--source", "Nobody News", env=newsroom_env)
    future = ask_json(AMMAN, "--since", "2030-01-01", env=newsroom_env)

    assert nobody.returncode == 0, nobody.stderr
    assert nobody.stdout.startswith("No article is from Nobody News.")
    assert HOLDINGS in nobody.stdout
    assert future["abstained"] and future["citations"] == []
    assert future["answer"].startswith("No article is dated 2030-01-01 or later.")


def test_as_of_prefers_that_day_but_filters_nothing(newsroom_env: dict[str, str]) -> None:
    """--as-of is a preference for reports near and before the day, not a filter: the seed
    question keeps its cited Bloomberg answer as of its own day and as of a year earlier."""
    plain = run_newsdesk("ask", SEED, "--as-of", "2023-11-03", env=newsroom_env)
    year_before = ask_json(SEED, "--as-of", "2022-11-03", env=newsroom_env)

    assert plain.returncode == 0, plain.stderr
    assert "multinational force" in plain.stdout and "— Bloomberg, 2023-11-03" in plain.stdout
    assert not year_before["abstained"]
    first = year_before["citations"][0]
    assert (first["source"], first["date"]) == ("Bloomberg", "2023-11-03")
    assert "multinational force" in first["quote"]


def test_a_bad_as_of_date_is_one_line_and_exit_status_1(newsroom_env: dict[str, str]) -> None:
    done = run_newsdesk("ask", SEED, "--as-of", "last tuesday", env=newsroom_env)

    assert done.returncode == 1  # like a bad --since: one line, status 1
    assert done.stdout == ""
    assert done.stderr.strip().splitlines() == [
        "Error: --as-of must be a date like 2023-11-03, not 'last tuesday'."
    ]
