"""`newsdesk ask --json` as a user runs it: a cited article with a link gets a `deep_url` whose
text directive is the quote's own words; the plain answer lists the article's link as it is."""

from __future__ import annotations

import json
from urllib.parse import urlsplit

from retrieval.deep_links import TextDirective
from tests.cli.process import run_newsdesk

AMMAN = "What did Arab ministers press Blinken for?"
REUTERS_URL = "https://example.com/reuters/amman-ministers"


def test_ask_json_links_the_quoted_sentence(newsroom_env: dict[str, str]) -> None:
    done = run_newsdesk("ask", AMMAN, "--source", "Reuters", "--json", env=newsroom_env)
    plain = run_newsdesk("ask", AMMAN, "--source", "Reuters", env=newsroom_env)

    assert done.returncode == 0, done.stderr
    [cited, *_] = json.loads(done.stdout)["citations"]
    assert cited["url"] == REUTERS_URL
    assert cited["deep_url"].startswith(REUTERS_URL + "#:~:text=")
    directive = TextDirective.parse(urlsplit(cited["deep_url"]).fragment.removeprefix(":~:"))
    assert directive is not None
    quote = cited["quote"].lower().split()
    assert quote[: len(directive.start.split())] == directive.start.lower().split()
    if directive.end:
        assert quote[-len(directive.end.split()) :] == directive.end.lower().split()
    assert plain.returncode == 0 and f"    {REUTERS_URL}\n" in plain.stdout
    assert "#:~:" not in plain.stdout
