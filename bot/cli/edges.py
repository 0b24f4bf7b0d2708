"""Where the long-running edges are started: the HTTP server, the Telegram bot, or both in one
process. The HTTP and Telegram packages never import each other; they are composed here."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

from bot.factories import check_sessions
from bot.http.app import Companion, run_server
from bot.http.state import refuse_damaged_index
from bot.settings import Settings
from bot.telegram.app import (
    build_application,
    check_bot_api,
    running,
    telegram_token,
)
from bot.telegram.webhook import WebhookReceiver


def telegram_companion(settings: Settings) -> Companion:
    """The bot as a companion of the HTTP server; refuses a missing token before anything loads,
    and a token the Bot API rejects (or a Bot API out of reach) before the server binds."""
    telegram_token(settings)
    if settings.telegram_webhook_url:  # Telegram posts updates to a route of the server
        receiver = WebhookReceiver(settings)
        return Companion(
            "The Telegram bot (webhook)",
            lambda service: receiver.running(build_application(settings, service)),
            check=lambda: check_bot_api(settings),
            routes=(receiver.route(),),
        )
    return Companion(
        "The Telegram bot",
        lambda service: running(build_application(settings, service)),
        check=lambda: check_bot_api(settings),
    )


def serve_http(settings: Settings, host: str, port: int, *, telegram: bool) -> None:
    """`newsdesk serve [--telegram]`: the API (and the bot) until SIGINT/SIGTERM."""
    check_sessions(settings)  # an unreachable Redis is one line now, not a 503 per question
    companion = telegram_companion(settings) if telegram else None
    if companion is None:  # a missing index is waited for, a damaged one fails now in one line
        refuse_damaged_index(settings)
    with _sigterm_exits_cleanly():
        run_server(settings, host, port, companion=companion)


@contextmanager
def _sigterm_exits_cleanly() -> Iterator[None]:
    """Exit with status 0 on SIGTERM, as `newsdesk telegram` does. uvicorn shuts down gracefully
    on SIGTERM and then raises the signal again for the handler it found; with the default one
    the process would end as killed by SIGTERM (status 143) after a clean stop."""
    previous = signal.signal(signal.SIGTERM, _exit_cleanly)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _exit_cleanly(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(0)
