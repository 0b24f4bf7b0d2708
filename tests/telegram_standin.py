"""A stand-in Telegram Bot API for tests and benches: one fake, two transports.

`StandInBotApi` keeps the state (queued updates, sent messages, recorded calls) and answers Bot
API methods the way Telegram does, including its HTML checks: text over 4096 characters, unknown
tags, unclosed tags and stray `<`/`&` get a 400 "Bad Request: can't parse entities" like the real
server. `StandInServer` serves it over real HTTP on 127.0.0.1:0 (`POST /bot<token>/<method>` with
JSON, form or query parameters; `getUpdates` long-polls). `RecordingRequest` plugs the same fake
straight into python-telegram-bot for fast `process_update` tests without sockets.

Faults for tests and soak runs: `fail_next` (any API error, e.g. 502), `rate_limit_next` (429
with `retry_after`, as Telegram words it), `drop_next` (the connection closes unanswered),
`stall_next` (no answer for a while, then the connection closes), `outage`/`recover` (methods
fail until told otherwise) and, on the server, `refuse_connections`/`accept_connections` (the
listener goes away and comes back on the same port). A call that fails by injection is never
carried out: a retried message is delivered once.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import re
import socket
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

TOKEN = "123456:TEST-standin-token"
MESSAGE_LIMIT = 4096
ALLOWED_TAGS = {
    "b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "span", "tg-spoiler",
    "a", "tg-emoji", "code", "pre", "blockquote",
}  # fmt: skip
NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
CHAT_ACTIONS = {
    "typing", "upload_photo", "record_video", "upload_video", "record_voice", "upload_voice",
    "upload_document", "choose_sticker", "find_location", "record_video_note",
    "upload_video_note",
}  # fmt: skip
# Parameters that stay strings even when they look like JSON (everything else is decoded).
TEXT_PARAMS = {"text", "parse_mode", "action", "callback_query_id", "url", "language_code"}
TEXT_PARAMS |= {"inline_query_id", "next_offset"}
INLINE_RESULT_LIMIT = 50
INLINE_ANSWER_WITHIN_S = 10.0  # Telegram refuses an answer to an older inline query
INLINE_RESULT_TYPES = {
    "article", "photo", "gif", "mpeg4_gif", "video", "audio", "voice", "document", "location",
    "venue", "contact", "game", "sticker",
}  # fmt: skip
TOO_OLD = "Bad Request: query is too old and response timeout expired or query ID is invalid"
_MENTION = re.compile(r"(?<![\w@])@[A-Za-z][A-Za-z0-9_]{3,31}\b")
_ATTRIBUTE = re.compile(r"""\s*([A-Za-z][\w-]*)(?:\s*=\s*("[^"]*"|'[^']*'|[^\s"'>]+))?""")
_ENTITY = re.compile(r"&(#[0-9]+|#[xX][0-9a-fA-F]+|[A-Za-z][A-Za-z0-9]*);")


class ConnectionDropped(Exception):
    """An injected network fault: the connection closes without an answer after `stall_s`."""

    def __init__(self, stall_s: float = 0.0) -> None:
        super().__init__("stand-in: connection dropped")
        self.stall_s = stall_s


class ApiError(Exception):
    """A Bot API error answer: HTTP status = error_code, with Telegram's description."""

    def __init__(self, error_code: int, description: str, retry_after: int | None = None):
        super().__init__(description)
        self.error_code = error_code
        self.description = description
        self.retry_after = retry_after


def parse_telegram_html(text: str) -> str:
    """The visible text of a parse_mode=HTML message, or ApiError(400) where Telegram refuses."""

    def fail(reason: str, at: int) -> ApiError:
        offset = len(text[:at].encode("utf-8"))
        return ApiError(400, f"Bad Request: can't parse entities: {reason} at byte offset {offset}")

    out: list[str] = []
    stack: list[tuple[str, int]] = []
    i = 0
    while i < len(text):
        char = text[i]
        if char == "<":
            close = text.find(">", i + 1)
            if close < 0 or "<" in text[i + 1 : close]:
                raise fail("Unclosed start tag", i)
            inner = text[i + 1 : close]
            if inner.startswith("/"):
                name = inner[1:].strip().lower()
                if not stack:
                    raise fail(f'Unexpected end tag "{name}"', i)
                if stack[-1][0] != name:
                    raise fail(f'Unmatched end tag, expected "</{stack[-1][0]}>"', i)
                stack.pop()
            else:
                match = re.match(r"([A-Za-z][\w-]*)", inner)
                name = match.group(1).lower() if match else ""
                if name not in ALLOWED_TAGS:
                    raise fail(f'Unsupported start tag "{name or inner[:10]}"', i)
                attributes = dict(
                    (key.lower(), value.strip("\"'") if value else "")
                    for key, value in _ATTRIBUTE.findall(inner[len(name) :])
                )
                if name == "span" and attributes.get("class") != "tg-spoiler":
                    raise fail('Unsupported start tag "span"', i)
                if name == "a" and not attributes.get("href"):
                    raise fail('Wrong URL in start tag "a"', i)
                for value in attributes.values():
                    for entity in re.findall(r"&[^;\s]*;?", value):
                        _decode_entity(entity, lambda reason, at=i: fail(reason, at))
                stack.append((name, i))
            i = close + 1
        elif char == "&":
            match = _ENTITY.match(text, i)
            if not match:
                raise fail("Character entity expected", i)
            out.append(_decode_entity(match.group(), lambda reason, at=i: fail(reason, at)))
            i = match.end()
        else:
            out.append(char)
            i += 1
    if stack:
        name, at = stack[-1]
        raise fail(f'Can\'t find end tag corresponding to start tag "{name}"', at)
    return "".join(out)


def _decode_entity(entity: str, fail: Callable[[str], ApiError]) -> str:
    match = _ENTITY.fullmatch(entity)
    if not match:
        raise fail("Character entity expected")
    body = match.group(1)
    if body.startswith(("#x", "#X")):
        return chr(int(body[2:], 16))
    if body.startswith("#"):
        return chr(int(body[1:]))
    if body not in NAMED_ENTITIES:
        raise fail(f'Unsupported HTML entity "&{body};"')
    return NAMED_ENTITIES[body]


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


@dataclass(frozen=True)
class ApiCall:
    """One recorded Bot API call and how it was answered."""

    method: str
    params: dict[str, Any]
    ok: bool
    description: str | None
    result: Any = None
    at: float = field(default_factory=time.monotonic)


@dataclass(frozen=True)
class SentMessage:
    """A message the bot sent, as a test wants to see it."""

    chat_id: int
    message_id: int
    html: str  # the text parameter as sent
    text: str  # what the user sees (tags removed, entities decoded)
    reply_to: int | None
    buttons: list[tuple[str, str]]  # (label, callback_data), row by row
    at: float
    thread_id: int | None = None  # the forum topic it was sent to

    @classmethod
    def from_call(cls, call: ApiCall) -> SentMessage:
        markup = call.params.get("reply_markup") or {}
        reply = call.params.get("reply_parameters") or {}
        return cls(
            chat_id=call.params["chat_id"],
            message_id=call.result["message_id"],
            html=call.params["text"],
            text=call.result["text"],
            reply_to=reply.get("message_id") if isinstance(reply, dict) else None,
            buttons=[
                (button["text"], button.get("callback_data", ""))
                for row in (markup.get("inline_keyboard") or [])
                for button in row
            ],
            at=call.at,
            thread_id=call.params.get("message_thread_id"),
        )


class StandInBotApi:
    """State and behaviour of a Bot API server for one bot (thread-safe)."""

    def __init__(self, token: str = TOKEN) -> None:
        self.token = token
        bot_id = int(token.split(":", 1)[0])
        self.bot_user = {
            "id": bot_id,
            "is_bot": True,
            "first_name": "Newsdesk",
            "username": "newsdesk_test_bot",
            "can_join_groups": False,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }
        self.calls: list[ApiCall] = []
        self.commands: list[dict[str, str]] = []
        self.messages: dict[tuple[int, int], dict[str, Any]] = {}
        self.pushed_at: dict[tuple[int, int], float] = {}  # (chat, message id) → push time
        self._updates: list[dict[str, Any]] = []
        self._update_ids = itertools.count(1)
        self._message_ids: dict[int, itertools.count[int]] = {}
        self._callback_ids = itertools.count(1)
        self._open_callbacks: set[str] = set()
        self._failures: dict[str, list[ApiError | ConnectionDropped]] = {}
        self._outage: tuple[frozenset[str] | None, ApiError] | None = None
        self._replies: Counter[int] = Counter()  # successful sendMessage calls per chat
        self._polls_waiting = 0
        self._closing = False
        self._lock = threading.Condition()
        self.received: dict[tuple[int, int], dict[str, Any]] = {}  # users' messages, built here
        self.chats: dict[int, dict[str, Any]] = {}  # group chats seen in built updates
        self.inline_answer_within_s = INLINE_ANSWER_WITHIN_S
        self.allowed_updates: list[str] | None = None  # None: every kind (Telegram's default)
        self._inline_ids = itertools.count(1)
        self._open_inline: dict[str, float] = {}  # inline query id → when it was made
        self.webhook: dict[str, Any] | None = None  # what setWebhook set last (None: polling)

    # ---- what a test does: build and push updates, inject failures, read what was sent ----

    def user_message(
        self, chat_id: int, text: str, *, user_id: int | None = None, first_name: str = "Ada"
    ) -> dict[str, Any]:
        """A new `message` update from a user (not queued; see `push`)."""
        user = {"id": user_id or chat_id, "is_bot": False, "first_name": first_name}
        message: dict[str, Any] = {
            "message_id": self._next_message_id(chat_id),
            "date": int(time.time()),
            "chat": {"id": chat_id, "type": "private", "first_name": first_name},
            "from": user,
            "text": text,
        }
        command = re.match(r"/[A-Za-z0-9_]+(@\w+)?", text)
        if command:
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": command.end()}]
        with self._lock:
            update_id = next(self._update_ids)
            self.received[(chat_id, message["message_id"])] = message
        return {"update_id": update_id, "message": message}

    def group_message(
        self,
        chat_id: int,
        text: str,
        *,
        user_id: int,
        first_name: str = "Ada",
        thread_id: int | None = None,
        reply_to: int | None = None,
        chat_type: str = "supergroup",
    ) -> dict[str, Any]:
        """A new `message` update from a user in a group (`chat_id` < 0), as Telegram sends it:
        `mention` entities for every @username, a `bot_command` entity for a leading command,
        `reply_to_message` for a reply to the message `reply_to` (the bot's or a user's) and,
        with `thread_id`, a message in that forum topic (the chat is then a forum; a message
        that replies to nothing "replies" to the topic's first message, as in Telegram)."""
        if chat_id >= 0:
            raise ValueError("group chat ids are negative")
        chat: dict[str, Any] = {"id": chat_id, "type": chat_type, "title": f"Group {-chat_id}"}
        if thread_id is not None:
            chat["is_forum"] = True
        user = {"id": user_id, "is_bot": False, "first_name": first_name}
        message: dict[str, Any] = {
            "message_id": self._next_message_id(chat_id),
            "date": int(time.time()),
            "chat": chat,
            "from": user,
            "text": text,
        }
        entities = [
            {"type": "mention", "offset": utf16_len(text[: m.start()]), "length": utf16_len(m[0])}
            for m in _MENTION.finditer(text)
        ]
        command = re.match(r"/[A-Za-z0-9_]+(@\w+)?", text)
        if command:
            entities.insert(0, {"type": "bot_command", "offset": 0, "length": command.end()})
            entities = [e for e in entities if e["type"] == "bot_command" or e["offset"] > 0]
        if entities:
            message["entities"] = entities
        if thread_id is not None:
            message["message_thread_id"] = thread_id
            message["is_topic_message"] = True
        with self._lock:
            self.chats[chat_id] = chat
            if reply_to is not None:
                replied = self._message_for_reply(chat_id, reply_to)
                message["reply_to_message"] = replied
                if thread_id is None and chat_type == "supergroup":
                    # outside forums a reply is in the reply chain's "thread" (no topic)
                    message["message_thread_id"] = replied.get("message_thread_id", reply_to)
            elif thread_id is not None:
                message["reply_to_message"] = {
                    "message_id": thread_id,
                    "date": int(time.time()),
                    "chat": chat,
                    "from": {"id": 1, "is_bot": False, "first_name": "Editor"},
                    "message_thread_id": thread_id,
                    "forum_topic_created": {"name": "Topic", "icon_color": 7322096},
                    "is_topic_message": True,
                }
            self.received[(chat_id, message["message_id"])] = message
            update_id = next(self._update_ids)
        return {"update_id": update_id, "message": message}

    def inline_query(
        self, user_id: int, query: str, *, first_name: str = "Ada", chat_type: str = "sender"
    ) -> dict[str, Any]:
        """An `inline_query` update (the user typed `@botname query` in some chat); it must be
        answered within `inline_answer_within_s` of now, once."""
        user = {"id": user_id, "is_bot": False, "first_name": first_name}
        with self._lock:
            query_id = f"iq{next(self._inline_ids)}"
            self._open_inline[query_id] = time.monotonic()
            update_id = next(self._update_ids)
        inline = {
            "id": query_id,
            "from": user,
            "query": query,
            "offset": "",
            "chat_type": chat_type,
        }
        return {"update_id": update_id, "inline_query": inline}

    def inline_answers(self, query_id: str | None = None) -> list[dict[str, Any]]:
        """The accepted answerInlineQuery calls' parameters (for one query id, if given)."""
        return [
            call.params
            for call in self.calls_of("answerInlineQuery", ok=True)
            if query_id is None or call.params.get("inline_query_id") == query_id
        ]

    def button_press(
        self, chat_id: int, message_id: int, data: str, *, user_id: int | None = None
    ) -> dict[str, Any]:
        """A `callback_query` update for an inline button on a message the bot sent."""
        with self._lock:
            message = self.messages[(chat_id, message_id)]
            query_id = str(next(self._callback_ids))
            self._open_callbacks.add(query_id)
            update_id = next(self._update_ids)
        user = {"id": user_id or chat_id, "is_bot": False, "first_name": "Ada"}
        query = {
            "id": query_id,
            "from": user,
            "chat_instance": f"ci{chat_id}",
            "data": data,
            "message": message,
        }
        return {"update_id": update_id, "callback_query": query}

    def push(self, update: Mapping[str, Any]) -> None:
        """Queue an update for getUpdates (and remember when, for latency figures)."""
        with self._lock:
            message = update.get("message")
            if message:
                key = (message["chat"]["id"], message["message_id"])
                self.pushed_at[key] = time.monotonic()
            self._updates.append(dict(update))
            self._lock.notify_all()

    def fail_next(
        self,
        method: str,
        error_code: int = 400,
        description: str = "",
        times: int = 1,
        *,
        retry_after: int | None = None,
    ) -> None:
        """Make the next `times` calls of `method` fail like Telegram would (not carried out).

        `retry_after` adds `parameters.retry_after` to the error body, as Telegram does on 429.
        """
        if not description:
            description = (
                f"Too Many Requests: retry after {retry_after or 1}"
                if error_code == 429
                else f"Bad Request: injected failure of {method}"
            )
        error = ApiError(error_code, description, retry_after)
        self._inject(method, [error] * times)

    def rate_limit_next(self, method: str, retry_after: int = 1, times: int = 1) -> None:
        """The next `times` calls of `method` get Telegram's flood-control answer: HTTP 429,
        "Too Many Requests: retry after N" and `parameters.retry_after` = N seconds."""
        self.fail_next(method, 429, times=times, retry_after=retry_after)

    def drop_next(self, method: str, times: int = 1) -> None:
        """The next `times` calls of `method` lose their connection: it closes with no answer
        (the client sees a network error). In-process (`RecordingRequest`): NetworkError."""
        self._inject(method, [ConnectionDropped()] * times)

    def stall_next(self, method: str, seconds: float, times: int = 1) -> None:
        """The next `times` calls of `method` get no answer for `seconds`, then the connection
        closes (a client with a shorter read timeout times out first). In-process: TimedOut."""
        self._inject(method, [ConnectionDropped(seconds)] * times)

    def outage(
        self,
        methods: Sequence[str] | None = None,
        error_code: int = 502,
        description: str = "Bad Gateway",
    ) -> None:
        """Answer every call of `methods` (all methods when None) with this error until
        `recover()`; injected one-off faults still come first."""
        chosen = frozenset(methods) if methods is not None else None
        with self._lock:
            self._outage = (chosen, ApiError(error_code, description))
            self._lock.notify_all()  # a long poll in progress fails too

    def recover(self) -> None:
        """End an `outage()`."""
        with self._lock:
            self._outage = None

    def _outage_error(self, method: str) -> ApiError | None:
        if self._outage is None:
            return None
        methods, error = self._outage
        if methods is not None and method not in methods:
            return None
        return ApiError(error.error_code, error.description)

    def _inject(self, method: str, faults: list[ApiError | ConnectionDropped]) -> None:
        with self._lock:
            self._failures.setdefault(method, []).extend(faults)

    def pause(self, seconds: float) -> None:
        """Block the calling (server) thread for `seconds`, or until `close()`."""
        deadline = time.monotonic() + seconds
        with self._lock:
            while not self._closing and (left := deadline - time.monotonic()) > 0:
                self._lock.wait(left)

    def sent(self, chat_id: int | None = None) -> list[SentMessage]:
        """Messages the bot sent successfully, oldest first, optionally in one chat."""
        return [
            SentMessage.from_call(call)
            for call in self.calls_of("sendMessage", ok=True)
            if chat_id is None or call.params.get("chat_id") == chat_id
        ]

    def reply_count(self, chat_id: int) -> int:
        """How many messages the bot sent to `chat_id` (cheap: kept as calls come in)."""
        with self._lock:
            return self._replies[chat_id]

    def reply_counts(self) -> dict[int, int]:
        """Messages sent per chat id (a copy), e.g. to check every chat of a soak run."""
        with self._lock:
            return dict(self._replies)

    def calls_of(self, method: str, *, ok: bool | None = None) -> list[ApiCall]:
        with self._lock:
            return [c for c in self.calls if c.method == method and (ok is None or c.ok == ok)]

    def failures(self) -> list[ApiCall]:
        with self._lock:
            return [c for c in self.calls if not c.ok]

    def polls_waiting(self) -> int:
        """getUpdates calls now holding their long poll open (over HTTP)."""
        with self._lock:
            return self._polls_waiting

    def pending_updates(self) -> int:
        with self._lock:
            return len(self._updates)

    async def wait_for(self, predicate: Callable[[], bool], timeout: float = 15.0) -> None:
        """Wait (without blocking the event loop) until `predicate()` holds, or fail."""
        deadline = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() > deadline:
                raise TimeoutError(f"stand-in: condition not met in {timeout} s")
            await asyncio.sleep(0.01)

    def close(self) -> None:
        """Release any long poll still waiting."""
        with self._lock:
            self._closing = True
            self._lock.notify_all()

    # ---- the Bot API ----

    def handle(
        self, token: str, method: str, params: Mapping[str, Any], *, block: bool = True
    ) -> tuple[int, dict[str, Any]]:
        """Answer one Bot API call: (HTTP status, JSON body). `block=False` never long-polls.

        Raises ConnectionDropped for an injected network fault (the transport must then close
        the connection unanswered, after `stall_s`).
        """
        if token != self.token:
            return 401, {"ok": False, "error_code": 401, "description": "Unauthorized"}
        params = _decode_params(params)
        handler = getattr(self, f"_api_{method.lower()}", None)
        try:
            with self._lock:
                injected = self._failures.get(method)
                fault = injected.pop(0) if injected else None
                fault = fault or self._outage_error(method)
            if isinstance(fault, ConnectionDropped):
                description = "stalled, then dropped" if fault.stall_s else "connection dropped"
                self._record(method, params, False, description)
                raise ConnectionDropped(fault.stall_s)
            if fault is not None:
                raise ApiError(fault.error_code, fault.description, fault.retry_after)
            if handler is None:
                raise ApiError(404, "Not Found")
            result = handler(params, block) if method.lower() == "getupdates" else handler(params)
        except ApiError as error:
            self._record(method, params, False, error.description)
            body: dict[str, Any] = {
                "ok": False,
                "error_code": error.error_code,
                "description": error.description,
            }
            if error.retry_after is not None:
                body["parameters"] = {"retry_after": error.retry_after}
            return error.error_code, body
        self._record(method, params, True, None, result)
        return 200, {"ok": True, "result": result}

    def _record(
        self,
        method: str,
        params: dict[str, Any],
        ok: bool,
        description: str | None,
        result: Any = None,
    ) -> None:
        with self._lock:
            self.calls.append(ApiCall(method, params, ok, description, result))
            if ok and method == "sendMessage":
                self._replies[params["chat_id"]] += 1
            self._lock.notify_all()

    def _api_getme(self, params: dict[str, Any]) -> dict[str, Any]:
        return self.bot_user

    def _api_logout(self, params: dict[str, Any]) -> bool:
        return True

    def _api_close(self, params: dict[str, Any]) -> bool:
        return True

    def _api_deletewebhook(self, params: dict[str, Any]) -> bool:
        with self._lock:
            self.webhook = None
            if params.get("drop_pending_updates"):
                self._updates.clear()
        return True

    def _api_setwebhook(self, params: dict[str, Any]) -> bool:
        """Remember the webhook (url, secret_token, allowed_updates …) as the last one set."""
        url = str(params.get("url") or "")
        if not url.startswith("https://"):
            raise ApiError(400, "Bad Request: bad webhook: An HTTPS URL must be provided")
        with self._lock:
            self.webhook = dict(params)
        return True

    def _api_getwebhookinfo(self, params: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            webhook = self.webhook or {}
        return {"url": webhook.get("url", ""), "has_custom_certificate": False,
                "pending_update_count": 0}  # fmt: skip

    def _api_getupdates(self, params: dict[str, Any], block: bool) -> list[dict[str, Any]]:
        offset = int(params.get("offset") or 0)
        limit = min(max(int(params.get("limit") or 100), 1), 100)
        timeout = float(params.get("timeout") or 0) if block else 0.0
        deadline = time.monotonic() + timeout
        with self._lock:
            if isinstance(params.get("allowed_updates"), list):  # kept until changed, as Telegram
                self.allowed_updates = list(params["allowed_updates"]) or None
            if offset:
                self._updates = [u for u in self._updates if u["update_id"] >= offset]
            self._polls_waiting += 1
            try:
                while not self._drop_unwanted() and not self._closing:
                    left = deadline - time.monotonic()
                    if left <= 0:
                        break
                    self._lock.wait(left)
                    outage = self._outage_error("getUpdates")
                    if outage is not None:
                        raise outage
            finally:
                self._polls_waiting -= 1
            return [dict(u) for u in self._updates[:limit]]

    def _drop_unwanted(self) -> bool:
        """Discard queued updates of kinds the bot did not ask for (`allowed_updates`), as
        Telegram never delivers them; whether any update is left. Call with the lock held."""
        if self.allowed_updates is not None:
            wanted = set(self.allowed_updates)
            self._updates = [u for u in self._updates if wanted & set(u) - {"update_id"}]
        return bool(self._updates)

    def _api_sendmessage(self, params: dict[str, Any]) -> dict[str, Any]:
        chat_id = _chat_id(params)
        text = _checked_text(params)
        thread_id = self._checked_thread(chat_id, params)
        with self._lock:
            chat = self.chats.get(chat_id) or {
                "id": chat_id,
                "type": "private" if chat_id > 0 else "group",
            }
        message: dict[str, Any] = {
            "message_id": self._next_message_id(chat_id),
            "date": int(time.time()),
            "chat": chat,
            "from": self.bot_user,
            "text": text,
        }
        if thread_id is not None:
            message["message_thread_id"] = thread_id
            message["is_topic_message"] = True
        if isinstance(params.get("reply_markup"), dict):
            message["reply_markup"] = params["reply_markup"]
        reply = params.get("reply_parameters")
        with self._lock:
            replied = (chat_id, reply.get("message_id")) if isinstance(reply, dict) else None
            if replied in self.received or replied in self.messages:
                message["reply_to_message"] = self._message_for_reply(*replied)
            self.messages[(chat_id, message["message_id"])] = message
        return message

    def _message_for_reply(self, chat_id: int, message_id: int) -> dict[str, Any]:
        """The message replied to, as Telegram nests it (one level: without its own reply)."""
        key = (chat_id, message_id)
        found = self.received.get(key) or self.messages.get(key)
        if found is None:
            raise ValueError(f"no message {message_id} in chat {chat_id} to reply to")
        return {k: v for k, v in found.items() if k != "reply_to_message"}

    def _checked_thread(self, chat_id: int, params: Mapping[str, Any]) -> int | None:
        """`message_thread_id`, which only a forum's topics have ("message thread not found")."""
        thread_id = params.get("message_thread_id")
        if thread_id is None:
            return None
        with self._lock:
            forum = bool(self.chats.get(chat_id, {}).get("is_forum"))
        if not forum or isinstance(thread_id, bool) or not isinstance(thread_id, int):
            raise ApiError(400, "Bad Request: message thread not found")
        return thread_id

    def _api_answerinlinequery(self, params: dict[str, Any]) -> bool:
        """Telegram's checks: the query open and recent, at most 50 results with unique ids of
        1-64 bytes, articles with a title and a valid message, a valid button."""
        query_id = str(params.get("inline_query_id") or "")
        with self._lock:
            made = self._open_inline.get(query_id)
            if made is None or time.monotonic() - made > self.inline_answer_within_s:
                raise ApiError(400, TOO_OLD)
        results = params.get("results")
        if not isinstance(results, list):
            raise ApiError(400, "Bad Request: results must be an array")
        if len(results) > INLINE_RESULT_LIMIT:
            raise ApiError(400, "Bad Request: RESULTS_TOO_MUCH")
        seen: set[str] = set()
        for result in results:
            _check_inline_result(result, seen)
        cache_time = params.get("cache_time", 300)
        if isinstance(cache_time, bool) or not isinstance(cache_time, int) or cache_time < 0:
            raise ApiError(400, "Bad Request: wrong cache_time")
        if params.get("button") is not None:
            _check_inline_button(params["button"])
        with self._lock:
            self._open_inline.pop(query_id, None)
        return True

    def _api_editmessagetext(self, params: dict[str, Any]) -> dict[str, Any]:
        chat_id = _chat_id(params)
        key = (chat_id, int(params.get("message_id") or 0))
        text = _checked_text(params)
        with self._lock:
            message = self.messages.get(key)
            if message is None:
                raise ApiError(400, "Bad Request: message to edit not found")
            if message["text"] == text and message.get("reply_markup") == params.get(
                "reply_markup"
            ):
                raise ApiError(400, "Bad Request: message is not modified")
            message = {**message, "text": text, "edit_date": int(time.time())}
            if isinstance(params.get("reply_markup"), dict):
                message["reply_markup"] = params["reply_markup"]
            else:
                message.pop("reply_markup", None)
            self.messages[key] = message
        return message

    def _api_answercallbackquery(self, params: dict[str, Any]) -> bool:
        query_id = str(params.get("callback_query_id") or "")
        with self._lock:
            if query_id not in self._open_callbacks:
                raise ApiError(
                    400,
                    "Bad Request: query is too old and response timeout expired or query ID is "
                    "invalid",
                )
            self._open_callbacks.discard(query_id)
        if len(str(params.get("text") or "")) > 200:
            raise ApiError(400, "Bad Request: MESSAGE_TOO_LONG")
        return True

    def _api_sendchataction(self, params: dict[str, Any]) -> bool:
        self._checked_thread(_chat_id(params), params)
        if params.get("action") not in CHAT_ACTIONS:
            raise ApiError(400, "Bad Request: wrong parameter action in request")
        return True

    def _api_setmycommands(self, params: dict[str, Any]) -> bool:
        commands = params.get("commands")
        if not isinstance(commands, list) or len(commands) > 100:
            raise ApiError(400, "Bad Request: commands must be a list")
        for command in commands:
            if not re.fullmatch(r"[a-z0-9_]{1,32}", str(command.get("command", ""))):
                raise ApiError(400, "Bad Request: BOT_COMMAND_INVALID")
            if not 1 <= len(str(command.get("description", ""))) <= 256:
                raise ApiError(400, "Bad Request: BOT_COMMAND_DESCRIPTION_INVALID")
        with self._lock:
            self.commands = [dict(c) for c in commands]
        return True

    def _api_getmycommands(self, params: dict[str, Any]) -> list[dict[str, str]]:
        with self._lock:
            return [dict(c) for c in self.commands]

    def _next_message_id(self, chat_id: int) -> int:
        with self._lock:
            return next(self._message_ids.setdefault(chat_id, itertools.count(1)))


def _decode_params(params: Mapping[str, Any]) -> dict[str, Any]:
    """Form and query values arrive as strings, JSON-encoded where not plain text; decode them."""
    decoded: dict[str, Any] = {}
    for key, value in params.items():
        if isinstance(value, str) and key not in TEXT_PARAMS:
            with contextlib.suppress(ValueError):
                value = json.loads(value)
        decoded[key] = value
    return decoded


def _chat_id(params: Mapping[str, Any]) -> int:
    chat_id = params.get("chat_id")
    if isinstance(chat_id, bool) or not isinstance(chat_id, int):
        raise ApiError(400, "Bad Request: chat not found")
    return chat_id


def _check_inline_result(result: Any, seen: set[str]) -> None:
    """One InlineQueryResult as Telegram checks it (articles in full; other types' ids)."""
    if not isinstance(result, dict) or result.get("type") not in INLINE_RESULT_TYPES:
        raise ApiError(400, "Bad Request: RESULT_TYPE_INVALID")
    result_id = result.get("id")
    if not isinstance(result_id, str) or not 1 <= len(result_id.encode("utf-8")) <= 64:
        raise ApiError(400, "Bad Request: RESULT_ID_INVALID")
    if result_id in seen:
        raise ApiError(400, "Bad Request: RESULT_ID_DUPLICATE")
    seen.add(result_id)
    if result["type"] != "article":
        return
    if not str(result.get("title") or "").strip():
        raise ApiError(400, "Bad Request: RESULT_TITLE_EMPTY")
    content = result.get("input_message_content")
    if not isinstance(content, dict) or "message_text" not in content:
        raise ApiError(400, "Bad Request: SEND_MESSAGE_MEDIA_INVALID")
    try:
        _checked_text({"text": content["message_text"], "parse_mode": content.get("parse_mode")})
    except ApiError as error:
        raise ApiError(400, f"{error.description} (inline result {result_id})") from None
    url = result.get("url")
    if url is not None and not re.match(r"https?://\S+$", str(url)):
        raise ApiError(400, "Bad Request: RESULT_URL_INVALID")


def _check_inline_button(button: Any) -> None:
    """InlineQueryResultsButton: a text, and a start parameter or a web app (not both)."""
    if not isinstance(button, dict) or not str(button.get("text") or "").strip():
        raise ApiError(400, "Bad Request: BUTTON_TEXT_INVALID")
    start, web_app = button.get("start_parameter"), button.get("web_app")
    if (start is None) == (web_app is None):
        raise ApiError(400, "Bad Request: BUTTON_TYPE_INVALID")
    if start is not None and not re.fullmatch(r"[A-Za-z0-9_-]{1,64}", str(start)):
        raise ApiError(400, "Bad Request: START_PARAM_INVALID")


def _checked_text(params: Mapping[str, Any]) -> str:
    """The message text as shown, after Telegram's checks on parse mode and length."""
    raw = params.get("text")
    if not isinstance(raw, str) or not raw.strip():
        raise ApiError(400, "Bad Request: message text is empty")
    mode = str(params.get("parse_mode") or "")
    if mode.lower() == "html":
        text = parse_telegram_html(raw)
    elif mode:
        raise ApiError(400, f"Bad Request: unsupported parse_mode {mode!r} in the stand-in")
    else:
        text = raw
    if not text.strip():
        raise ApiError(400, "Bad Request: message text is empty")
    if utf16_len(text) > MESSAGE_LIMIT:
        raise ApiError(400, "Bad Request: message is too long")
    return text


class StandInServer:
    """The stand-in served over real HTTP on 127.0.0.1 (a free port); use as a context manager."""

    def __init__(self, api: StandInBotApi | None = None) -> None:
        self.api = api or StandInBotApi()
        self._connections: set[socket.socket] = set()
        self._httpd = _Server(("127.0.0.1", 0), _handler_for(self.api), self._connections)
        self._port = self._httpd.server_address[1]
        self._thread = self._serving_thread()
        self._listening = False

    @property
    def port(self) -> int:
        return self._port

    @property
    def base_url(self) -> str:
        """What `ApplicationBuilder().base_url(...)` takes (PTB appends the token)."""
        return f"http://127.0.0.1:{self.port}/bot"

    def start(self) -> StandInServer:
        self._thread.start()
        self._listening = True
        return self

    def stop(self) -> None:
        self.api.close()
        self._close_listener()

    def refuse_connections(self) -> None:
        """Take the listener away and cut every open connection: clients get "connection
        refused" (or a broken connection) until `accept_connections()`. Queued updates and
        recorded calls are kept."""
        self._close_listener()

    def accept_connections(self) -> None:
        """Listen again on the same port after `refuse_connections()`."""
        if self._listening:
            return
        self._httpd = _Server(("127.0.0.1", self._port), _handler_for(self.api), self._connections)
        self._thread = self._serving_thread()
        self.start()

    def _close_listener(self) -> None:
        if not self._listening:
            return
        self._listening = False
        self._httpd.shutdown()
        for connection in list(self._connections):
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
        self._httpd.server_close()
        self._thread.join(timeout=5)

    def _serving_thread(self) -> threading.Thread:
        return threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def __enter__(self) -> StandInServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address, handler, connections: set[socket.socket]) -> None:
        self.connections = connections
        super().__init__(address, handler)

    def process_request(self, request, client_address) -> None:
        self.connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request) -> None:
        self.connections.discard(request)
        super().shutdown_request(request)

    def handle_error(self, request, client_address) -> None:
        """A client that hung up (a cancelled long poll at shutdown) is not an error."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


def _handler_for(api: StandInBotApi) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # headers and body go in separate writes

        def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
            self._answer()

        def do_GET(self) -> None:  # noqa: N802
            self._answer()

        def _answer(self) -> None:
            url = urlsplit(self.path)
            match = re.fullmatch(r"/bot([^/]+)/(\w+)", url.path)
            params: dict[str, Any] = {k: v[-1] for k, v in parse_qs(url.query).items()}
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            if len(body) < length:  # the client gave up mid-request (cancelled): no call
                self.close_connection = True
                return
            kind = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
            if not match:
                status, payload = 404, {"ok": False, "error_code": 404, "description": "Not Found"}
            else:
                try:
                    if kind == "application/json" and body:
                        params.update(json.loads(body))
                    elif body:
                        form = parse_qs(body.decode("utf-8"), keep_blank_values=True)
                        params.update({k: v[-1] for k, v in form.items()})
                except ValueError:
                    status, payload = (
                        400,
                        {
                            "ok": False,
                            "error_code": 400,
                            "description": "Bad Request: can't parse the request body",
                        },
                    )
                else:
                    try:
                        status, payload = api.handle(match.group(1), match.group(2), params)
                    except ConnectionDropped as dropped:
                        api.pause(dropped.stall_s)
                        self.close_connection = True  # closed with nothing written
                        return
            data = json.dumps(payload).encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            pass

    return Handler


class RecordingRequest(BaseRequest):
    """A python-telegram-bot request object that answers from a `StandInBotApi`, no sockets."""

    def __init__(self, api: StandInBotApi) -> None:
        self.api = api

    @property
    def read_timeout(self) -> float | None:
        return 1.0

    async def initialize(self) -> None:
        pass

    async def shutdown(self) -> None:
        pass

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = None,
        write_timeout: Any = None,
        connect_timeout: Any = None,
        pool_timeout: Any = None,
    ) -> tuple[int, bytes]:
        match = re.search(r"/bot([^/]+)/(\w+)$", urlsplit(url).path)
        if not match:
            return 404, b'{"ok": false, "error_code": 404, "description": "Not Found"}'
        params = request_data.parameters if request_data else {}
        try:
            status, payload = self.api.handle(match.group(1), match.group(2), params, block=False)
        except ConnectionDropped as dropped:
            if dropped.stall_s:
                raise TimedOut("stand-in: stalled") from None
            raise NetworkError("stand-in: connection dropped") from None
        return status, json.dumps(payload).encode("utf-8")
