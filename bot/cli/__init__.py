"""The `newsdesk` command line: the index commands, ask, chat, eval, and where the HTTP and
Telegram edges are started (and composed, for `serve --telegram`)."""

from bot.cli.app import app

__all__ = ["app"]
