"""Telegram webhooks: Telegram posts each update to `serve --telegram --webhook-url URL`, on
that URL's path of the same HTTP server, instead of the bot long-polling for it.

The route checks `X-Telegram-Bot-Api-Secret-Token` (403 without the right one), queues the
update and answers 200 at once; the answer is worked out after the response, so Telegram never
waits on the model. Several replicas may receive updates of the same chat. With sessions in
Redis (NEWSDESK_SESSIONS=redis://…) each chat's updates go through a Redis queue ordered by
update id, drained by whichever replica holds the chat's Redis lock: one chat's questions are
answered one at a time and in order wherever they arrive, and each sees the turns before it.
In memory the updates go to the application's own queue (one process: its per-chat locks order
them).

At start the webhook is set with its secret (`setWebhook`); it is left set at stop, because the
other replicas are still receiving (a rolling restart must not silence the bot). Telegram queues
updates while no replica answers and delivers them later; `newsdesk telegram` (long polling)
removes the webhook when it starts.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from telegram import Update
from telegram.ext import Application

from bot.redaction import protect
from bot.settings import Settings
from index.errors import NewsdeskError

logger = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
DEFAULT_PATH = "/telegram/webhook"
QUEUE_PREFIX = "newsdesk:telegram:queue:"  # sorted set per chat: update JSON → update id
LOCK_PREFIX = "newsdesk:telegram:lock:"
QUEUE_TTL_S = 24 * 3600  # Telegram gives up on an update after about a day too
LOCK_LEASE_S = 120.0  # longer than any answer takes; a replica killed mid-answer frees it then
LOCK_WAIT_S = 600.0
LOCK_POLL_S = 0.01  # how often a replica waiting for a chat's turn asks again (redis-py: 0.1)
STOP_WAIT_S = 30.0  # how long a stopping replica finishes the updates it accepted


class WebhookNotConfigured(NewsdeskError):
    """A webhook URL without the secret Telegram is to send with each update."""


def webhook_path(url: str) -> str:
    """The path updates arrive on: the webhook URL's own (a proxy in front forwards it as is)."""
    path = urlsplit(url).path.rstrip("/")
    return path or DEFAULT_PATH


class WebhookReceiver:
    """The webhook route and the application that answers what arrives on it."""

    def __init__(self, settings: Settings) -> None:
        secret = settings.telegram_webhook_secret
        if secret is None:
            raise WebhookNotConfigured(
                "A Telegram webhook needs a secret: set NEWSDESK_TELEGRAM_WEBHOOK_SECRET (1-256 "
                "of A-Z a-z 0-9 _ -, the same on every replica)."
            )
        self.url = settings.telegram_webhook_url
        self.path = webhook_path(self.url)
        self.secret = secret.get_secret_value()
        protect(self.secret)
        self.sessions = settings.sessions
        self.app: Application | None = None
        self._queue: ChatQueue | None = None
        self._work: set[asyncio.Task[None]] = set()

    def route(self) -> Route:
        return Route(self.path, self.receive, methods=["POST"], include_in_schema=False)

    async def receive(self, request: Request) -> Response:
        """Check the secret, queue the update, answer 200 (the work happens after)."""
        given = request.headers.get(SECRET_HEADER, "")
        if not hmac.compare_digest(given.encode(), self.secret.encode()):
            logger.info("Refused a webhook request without the right secret token")
            return JSONResponse({"detail": "Wrong or missing secret token."}, status_code=403)
        app = self.app
        if app is None:
            return JSONResponse({"detail": "The bot is not running."}, status_code=503)
        update, data = None, None
        with contextlib.suppress(ValueError, TypeError, KeyError, AttributeError):
            data = json.loads(await request.body())
            if isinstance(data, dict) and isinstance(data.get("update_id"), int):
                update = Update.de_json(data, app.bot)
        if update is None:
            return JSONResponse({"detail": "Not a Telegram update."}, status_code=400)
        if self._queue is None:
            await app.update_queue.put(update)
        else:
            chat = _chat_key(update)
            try:
                await self._queue.put(chat, update.update_id, json.dumps(data, sort_keys=True))
            except self._queue.errors as error:  # Telegram delivers it again later
                logger.warning("Cannot queue a webhook update: %s", error)
                return JSONResponse({"detail": "The session store cannot be reached."}, 503)
            self._spawn(self._queue.drain(chat, self._process))
        return Response(status_code=200)

    @asynccontextmanager
    async def running(self, app: Application) -> AsyncIterator[Application]:
        """Set the webhook, answer updates until the block ends, finish the accepted ones."""
        from bot.telegram.app import ALLOWED_UPDATES, _initialize, after_stop

        await _initialize(app)
        async with app:
            if app.post_init is not None:
                await app.post_init(app)
            await app.bot.set_webhook(
                self.url, secret_token=self.secret, allowed_updates=list(ALLOWED_UPDATES)
            )
            if self.sessions != "memory":
                self._queue = ChatQueue(self.sessions)
            await app.start()
            self.app = app
            logger.info("Telegram webhook set to %s", self.url)
            if self._queue is not None:  # answer what a stopped or killed replica left queued
                for chat in await self._queue.waiting_chats():
                    self._spawn(self._queue.drain(chat, self._process))
            try:
                yield app
            finally:
                self.app = None
                await self._finish_accepted()
                await app.stop()
                await after_stop(app)
                if self._queue is not None:
                    await self._queue.close()

    async def _process(self, body: str) -> None:
        app = self.app
        if app is None:
            return
        await app.process_update(Update.de_json(json.loads(body), app.bot))

    def _spawn(self, work: Awaitable[None]) -> None:
        task = asyncio.ensure_future(work)
        self._work.add(task)
        task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._work.discard(task)
        if not task.cancelled() and task.exception() is not None:
            logger.error("Answering webhook updates failed", exc_info=task.exception())

    async def _finish_accepted(self) -> None:
        if self._work:
            await asyncio.wait(set(self._work), timeout=STOP_WAIT_S)


def _chat_key(update: Update) -> str:
    """Whose updates must keep their order: the chat's, else the user's (inline queries)."""
    if update.effective_chat is not None:
        return f"chat:{update.effective_chat.id}"
    if update.effective_user is not None:
        return f"user:{update.effective_user.id}"
    return f"update:{update.update_id}"


class ChatQueue:
    """Per-chat queues of updates in Redis, each drained in update-id order under a Redis lock,
    so that replicas take turns on a chat and never answer two of its updates at once."""

    def __init__(self, url: str) -> None:
        import redis.asyncio

        self.errors = (redis.RedisError, OSError)
        self._client = redis.asyncio.Redis.from_url(url, socket_connect_timeout=2.0)

    async def put(self, chat: str, update_id: int, body: str) -> None:
        async with self._client.pipeline(transaction=False) as pipe:
            pipe.zadd(QUEUE_PREFIX + chat, {body: update_id}, nx=True)  # a redelivery: once
            pipe.expire(QUEUE_PREFIX + chat, QUEUE_TTL_S)
            await pipe.execute()

    async def drain(self, chat: str, handle: Callable[[str], Awaitable[None]]) -> None:
        """Handle the chat's queued updates, oldest first, while holding its lock. Whoever put
        an update drains after it, so none is left behind when a lock holder has just finished.
        An update leaves the queue only once handled: a replica killed mid-answer leaves it for
        the next drain (at least once: its answer may then be sent twice, never lost)."""
        from redis.exceptions import LockError

        lock = self._client.lock(LOCK_PREFIX + chat, timeout=LOCK_LEASE_S, sleep=LOCK_POLL_S,
                                 blocking_timeout=LOCK_WAIT_S)  # fmt: skip
        try:
            async with lock:
                while oldest := await self._client.zrange(QUEUE_PREFIX + chat, 0, 0):
                    body = oldest[0]
                    await _handled(handle, body.decode() if isinstance(body, bytes) else body)
                    await self._client.zrem(QUEUE_PREFIX + chat, body)
        except LockError as error:  # the lease ran out under a very slow answer
            logger.warning("Lost the turn on a chat's updates: %s", error)

    async def waiting_chats(self) -> list[str]:
        """Chats with updates still queued, e.g. by a replica that stopped before answering."""
        keys = [key async for key in self._client.scan_iter(match=QUEUE_PREFIX + "*")]
        return [(k.decode() if isinstance(k, bytes) else k)[len(QUEUE_PREFIX) :] for k in keys]

    async def close(self) -> None:
        await self._client.aclose()


async def _handled(handle: Callable[[str], Awaitable[None]], body: str) -> None:
    """One update's failure (logged by the application) must not stop the chat's queue."""
    try:
        await handle(body)
    except Exception:
        logger.exception("An update from the webhook failed")
