"""The Telegram bot (python-telegram-bot v22, long polling): the application and how it runs.

`build_application(settings, service)` wires the handlers (bot/telegram/handlers.py);
`run_telegram(settings)` is what `newsdesk telegram` runs; `running(app)` polls inside an
existing event loop (tests, benches, `serve --telegram`) and stops cleanly when the block ends.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from telegram import Bot, Update
from telegram.error import InvalidToken, NetworkError, TelegramError
from telegram.ext import Application, ApplicationBuilder
from telegram.request import BaseRequest, HTTPXRequest

from bot.factories import check_sessions
from bot.index_follower import IndexFollower
from bot.redaction import protect
from bot.service import NewsdeskService
from bot.settings import Settings
from bot.telegram.commands import EXAMPLE_QUESTION
from bot.telegram.delivery import PatientPolling, SendRetry
from bot.telegram.handlers import NewsdeskBot
from index.errors import NewsdeskError

logger = logging.getLogger(__name__)

ALLOWED_UPDATES = (Update.MESSAGE, Update.CALLBACK_QUERY, Update.INLINE_QUERY)
CONCURRENT_UPDATES = 64  # updates handled at once; each chat's questions still queue in order


class TelegramNotConfigured(NewsdeskError):
    """No bot token: the bot cannot start."""


class TelegramTokenRejected(NewsdeskError):
    """The Bot API refused the token at start-up (PTB's own message would quote the token)."""

    def __init__(self) -> None:
        super().__init__(
            "The Telegram Bot API rejected NEWSDESK_TELEGRAM_TOKEN: copy the token from "
            "@BotFather again (and check NEWSDESK_TELEGRAM_BASE_URL)."
        )


class TelegramUnreachable(NewsdeskError):
    """The Bot API could not be reached when the bot started."""


def build_application(
    settings: Settings,
    service: NewsdeskService,
    *,
    request: BaseRequest | None = None,
    get_updates_request: BaseRequest | None = None,
    example_question: str = EXAMPLE_QUESTION,
) -> Application:
    """An Application with newsdesk's handlers; `request` objects let tests skip the network.

    Sends ride out flood waits and network faults (`SendRetry`), and polling retries an
    unreachable server every ≤ 2 s (`PatientPolling`): see bot/telegram/delivery.py.
    """
    polling = PatientPolling(get_updates_request or HTTPXRequest(connection_pool_size=1))
    builder = (
        ApplicationBuilder()
        .token(telegram_token(settings))
        .base_url(settings.telegram_base_url)
        .concurrent_updates(CONCURRENT_UPDATES)
        .get_updates_request(polling)
        .rate_limiter(SendRetry())
    )
    if request is not None:
        builder = builder.request(request)
    handlers = NewsdeskBot(service, settings, example_question=example_question)
    app = builder.post_init(handlers.post_init).post_shutdown(handlers.post_shutdown).build()
    polling.keep_trying = lambda: app.updater is not None and app.updater.running
    handlers.install(app)
    return app


@asynccontextmanager
async def running(app: Application, *, poll_timeout: float = 10.0) -> AsyncIterator[Application]:
    """Poll for updates inside the current event loop until the block ends (then stop cleanly)."""
    await _initialize(app)
    async with app:
        if app.post_init is not None:
            await app.post_init(app)
        await app.updater.start_polling(
            timeout=poll_timeout,
            allowed_updates=list(ALLOWED_UPDATES),
            error_callback=_polling_failed,
        )
        await app.start()
        try:
            yield app
        finally:
            await app.updater.stop()
            await app.stop()
            await after_stop(app)


async def after_stop(app: Application) -> None:
    """Run the post_shutdown hook, which PTB calls only from its own run_polling/run_webhook."""
    if app.post_shutdown is not None:
        await app.post_shutdown(app)


async def _initialize(app: Application) -> None:
    """Check the token with the Bot API (getMe); a rejected one is a domain error that does
    not repeat the token (PTB's InvalidToken does, and would reach stderr in a traceback)."""
    try:
        await app.initialize()
    except BaseException as error:
        with contextlib.suppress(Exception):
            await app.bot.shutdown()  # PTB leaves its connections open when start-up fails
        if isinstance(error, InvalidToken):
            raise TelegramTokenRejected() from None
        raise


def run_telegram(settings: Settings, service: NewsdeskService | None = None) -> None:
    """Run the bot with long polling until interrupted (blocking; for `newsdesk telegram`).

    Raises TelegramNotConfigured without a token (before loading anything), the service's
    domain errors (e.g. IndexNotFound) when there is no index, and TelegramTokenRejected or
    TelegramUnreachable when the Bot API refuses the token or cannot be reached at start-up.
    """
    telegram_token(settings)
    check_sessions(settings)
    if service is None:
        service = NewsdeskService.from_settings(settings)
    try:
        asyncio.run(_poll_until_signalled(build_application(settings, service), settings, service))
    except NetworkError as error:
        raise _unreachable(settings, error) from None


def check_bot_api(settings: Settings) -> None:
    """Check the token with the Bot API (getMe), for a caller that starts the bot later inside
    something else (the HTTP server) and wants a refusal now, as one line."""
    asyncio.run(_get_me(settings))


async def _get_me(settings: Settings) -> None:
    try:
        async with Bot(telegram_token(settings), base_url=settings.telegram_base_url):
            pass  # entering calls getMe
    except InvalidToken:  # its message quotes the token
        raise TelegramTokenRejected() from None
    except NetworkError as error:
        raise _unreachable(settings, error) from None


def _unreachable(settings: Settings, error: NetworkError) -> TelegramUnreachable:
    """PTB's network errors name the failure, never the URL (which holds the token)."""
    return TelegramUnreachable(
        f"Cannot reach the Telegram Bot API at {settings.telegram_base_url} ({error}); "
        "check the network and NEWSDESK_TELEGRAM_BASE_URL."
    )


async def _poll_until_signalled(
    app: Application, settings: Settings, service: NewsdeskService
) -> None:
    """Poll until SIGINT or SIGTERM, then stop polling and the application cleanly. Meanwhile
    a new index generation built by another process is swapped in (bot/index_follower.py)."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    following = asyncio.create_task(IndexFollower(lambda: service).run())
    try:
        async with running(app):
            logger.info("Telegram bot polling %s", settings.telegram_base_url)
            await stop.wait()
            logger.info("Stopping the Telegram bot")
    finally:
        following.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await following
    logger.info("Telegram bot stopped")


def _polling_failed(error: TelegramError) -> None:
    """A getUpdates PTB will retry (e.g. 409 Conflict; outages are retried in PatientPolling)."""
    logger.warning("Polling for updates failed (retrying): %s", error)


def telegram_token(settings: Settings) -> str:
    """The bot token, or TelegramNotConfigured (checked before anything heavy loads)."""
    token = settings.telegram_token.get_secret_value().strip() if settings.telegram_token else ""
    if not token:
        raise TelegramNotConfigured(
            "No Telegram bot token: set NEWSDESK_TELEGRAM_TOKEN (from @BotFather) and try again."
        )
    protect(token)  # it is in every Bot API URL, which httpx logs: keep it out of all logs
    return token
