"""`newsdesk chat` driven through its stdin, as a user types: a question, a follow-up that is
rewritten from the conversation, /sources, more, quit."""

from __future__ import annotations

from tests.cli.process import run_newsdesk

TYPED = """What did Blinken say about a multinational force?
And what about a two-state solution?
/sources
more
quit
"""


def test_chat_follows_up_shows_sources_gives_more_and_quits(newsroom_env: dict[str, str]) -> None:
    done = run_newsdesk("chat", env=newsroom_env, input=TYPED, timeout=60)

    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert out.startswith("newsdesk — 8 articles (2022-06-16 – 2023-11-05).")
    replies = out.split("> ")[1:]  # one prompt per line read, and one for the `quit`
    assert len(replies) == 5, out
    first, follow_up, sources, more, after_quit = replies
    assert "multinational force" in first and "Bloomberg, 2023-11-03" in first
    rewrite = follow_up.splitlines()[0]
    assert rewrite.startswith("(searching for: ") and "Blinken" in rewrite, rewrite
    assert "two-state solution" in follow_up and "[1]" in follow_up
    assert "“" in sources and "two-state solution" in sources  # the cited sentences, quoted
    assert "[1]" in more and more.split("Sources:")[0] != follow_up.split("Sources:")[0]
    assert after_quit == ""
    assert "Traceback" not in done.stderr


def test_chat_shows_brackets_in_a_follow_up_as_typed(newsroom_env: dict[str, str]) -> None:
    """Square brackets are console markup to the terminal library; typed, they are just text."""
    typed = "What did Blinken say about a multinational force?\nAnd what about [/bold] aid?\nquit\n"
    done = run_newsdesk("chat", env=newsroom_env, input=typed, timeout=60)

    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    follow_up = done.stdout.split("> ")[2]
    assert follow_up.startswith("(searching for: ") and "[/bold] aid" in follow_up, follow_up


def test_chat_as_of_says_so_and_answers_from_the_articles(newsroom_env: dict[str, str]) -> None:
    typed = "What did Blinken say about a multinational force?\nmore\nquit\n"
    done = run_newsdesk("chat", "--as-of", "2023-11-03", env=newsroom_env, input=typed, timeout=60)
    bad = run_newsdesk("chat", "--as-of", "2023-02-30", env=newsroom_env, input="quit\n")

    assert done.returncode == 0, done.stderr
    banner, first, more, _ = done.stdout.split("> ")
    assert "Answering as of 2023-11-03." in banner
    assert "multinational force" in first and "Bloomberg, 2023-11-03" in first
    assert "[1]" in more and more.split("Sources:")[0] != first.split("Sources:")[0]
    assert bad.returncode == 1 and bad.stdout == ""
    assert bad.stderr.strip() == "Error: --as-of must be a date like 2023-11-03, not '2023-02-30'."
