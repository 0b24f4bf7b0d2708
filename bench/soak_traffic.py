"""What bench/soak.py sends and how it judges the answers: the HTTP clients (conversations,
follow-ups, filters and bad inputs, each with the statuses it must get) and the Telegram chats
(questions, commands and buttons, each waiting for its reply, read from the stand-in's record of
Bot API calls)."""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Protocol

import httpx

from bot.telegram.handlers import APOLOGY, NO_ARTICLES
from tests.telegram_standin import SentMessage, StandInBotApi

QUESTIONS = (
    "What did Blinken say about a multinational force?",
    "How many people did Hamas kill on Oct. 7?",
    "Who did Blinken meet in Israel?",
    "Which country backs Hezbollah?",
    "What did Biden say about pausing the fighting?",
    "What did Arab ministers press Blinken for in Amman?",
    "Why did oil prices fall?",
    "What did the Federal Reserve do with interest rates?",
    "Who won the world chess championship?",
    "Which show got a second season?",
    "What is the best recipe for sourdough bread?",
    "Who won the 1998 FIFA World Cup?",
)
FOLLOW_UPS = (
    "And what about a two-state solution?",
    "Who did he meet with?",
    "And what about Iran?",
    "Why?",
    "How many?",
    "What did she say about that?",
    "And what about the ceasefire?",
)
SOURCES = ("Reuters", "Bloomberg", "AP", "Nobody News")
DATE_RANGES = (
    {"since": "2023-11-01"},
    {"until": "2023-11-03"},
    {"since": "2023-11-02", "until": "2023-11-04"},
    {"since": "2023-01-01", "until": "2023-06-30"},
)
TELEGRAM_COMMANDS = (
    "/start",
    "/help",
    "/filter source=Reuters",
    "/filter since=2023-11-01 until=2023-11-30",
    "/filter",
    "/filter off",
    "/filter since=2023-13-45",
    "/reset",
    "/ask",
    "/ask What did Blinken say about a multinational force?",
    "/weather",
)
HTTP_WEIGHTS = {  # good requests (expected 2xx) first, then bad inputs (expected 4xx)
    "ask new session": 15, "ask follow-up": 20, "more": 9, "ask filtered": 10, "search": 7,
    "article": 3, "forget session": 3, "health": 3,
    "empty question": 4, "over-long question": 4, "invalid JSON": 4, "bad date": 3,
    "since after until": 2, "more, unknown session": 3, "forget unknown session": 3,
    "oversized body": 2,
}  # fmt: skip
TELEGRAM_WEIGHTS = {
    "question": 30, "follow-up": 20, "/more": 10, "/sources": 8, "command": 14, "button": 14,
    "long message": 4,
}  # fmt: skip


class Progress(Protocol):
    """Where the loads report each finished request or update."""

    http_done: int

    def tick(self, *, http: bool) -> None: ...


# ---- HTTP --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Request:
    kind: str
    method: str
    path: str
    expected: frozenset[int]
    options: dict[str, Any] = field(default_factory=dict)


@dataclass
class HttpTally:
    sent: Counter[str] = field(default_factory=Counter)
    ok: Counter[str] = field(default_factory=Counter)  # 2xx where 2xx was expected
    refused: Counter[str] = field(default_factory=Counter)  # the expected 4xx on a bad input
    errors: Counter[str] = field(default_factory=Counter)
    examples: list[str] = field(default_factory=list)
    latencies_ms: list[float] = field(default_factory=list)
    sessions: set[str] = field(default_factory=set)  # conversations the server started

    def record(self, request: Request, outcome: int | str, latency_ms: float) -> bool:
        self.sent[request.kind] += 1
        self.latencies_ms.append(latency_ms)
        if isinstance(outcome, int) and outcome in request.expected:
            (self.ok if outcome < 300 else self.refused)[request.kind] += 1
            return True
        self.errors[request.kind] += 1
        if len(self.examples) < 10:
            self.examples.append(f"{request.kind}: {request.method} {request.path} → {outcome}")
        return False


class HttpClient:
    """One user of the API: a conversation at a time, and now and then a bad request."""

    def __init__(self, rng: random.Random, article_ids: list[str], sessions: set[str]) -> None:
        self.rng = rng
        self.article_ids = article_ids  # shared: ids seen in citations, for GET /articles
        self.sessions = sessions  # shared: every session id issued
        self.session: str | None = None

    def next_request(self) -> Request:
        kind = self.rng.choices(list(HTTP_WEIGHTS), weights=list(HTTP_WEIGHTS.values()))[0]
        if self.session is None and kind in {"ask follow-up", "more", "forget session"}:
            kind = "ask new session"
        if kind == "article" and not self.article_ids:
            kind = "health"
        ok, refused = frozenset({200}), frozenset({422})
        question = self.rng.choice(QUESTIONS)
        unknown = f"soak-unknown-{self.rng.randrange(10**9)}"
        match kind:
            case "ask new session":
                return Request(kind, "POST", "/ask", ok, {"json": {"question": question}})
            case "ask follow-up":
                body = {"question": self.rng.choice(FOLLOW_UPS), "session_id": self.session}
                return Request(kind, "POST", "/ask", ok, {"json": body})
            case "more":
                return Request(kind, "POST", f"/sessions/{self.session}/more", ok)
            case "ask filtered":
                body = {"question": question, **self.filters(), "session_id": self.session}
                return Request(kind, "POST", "/ask", ok, {"json": body})
            case "search":
                params = {"q": question, "k": self.rng.randint(1, 10), **self.filters()}
                return Request(kind, "GET", "/search", ok, {"params": params})
            case "article":
                return Request(kind, "GET", f"/articles/{self.rng.choice(self.article_ids)}", ok)
            case "forget session":
                return Request(kind, "DELETE", f"/sessions/{self.session}", frozenset({204}))
            case "health":
                return Request(kind, "GET", "/health", ok)
            case "empty question":
                body = {"question": self.rng.choice(["", "   "])}
                return Request(kind, "POST", "/ask", refused, {"json": body})
            case "over-long question":
                body = {"question": "Why? " * self.rng.randint(201, 2000)}
                return Request(kind, "POST", "/ask", refused, {"json": body})
            case "invalid JSON":
                options = {
                    "content": self.rng.choice([b'{"question": "Why?"', b"question=Why", b"\xff"]),
                    "headers": {"Content-Type": "application/json"},
                }
                return Request(kind, "POST", "/ask", frozenset({400, 422}), options)
            case "bad date":
                body = {"question": question, "since": self.rng.choice(["2023-13-45", "soon"])}
                return Request(kind, "POST", "/ask", refused, {"json": body})
            case "since after until":
                body = {"question": question, "since": "2023-12-01", "until": "2023-01-01"}
                return Request(kind, "POST", "/ask", refused, {"json": body})
            case "more, unknown session":
                return Request(kind, "POST", f"/sessions/{unknown}/more", frozenset({404}))
            case "forget unknown session":
                return Request(kind, "DELETE", f"/sessions/{unknown}", frozenset({404}))
            case _:  # oversized body
                body = {"question": "Why?", "padding": "x" * 70_000}
                return Request(kind, "POST", "/ask", frozenset({413}), {"json": body})

    def filters(self) -> dict[str, Any]:
        chosen: dict[str, Any] = {}
        if self.rng.random() < 0.6:
            chosen["source"] = [self.rng.choice(SOURCES)]
        if not chosen or self.rng.random() < 0.5:
            chosen.update(self.rng.choice(DATE_RANGES))
        return chosen

    def learn(self, request: Request, response: httpx.Response) -> None:
        """Keep the conversation going (or drop it), and note article ids for /articles."""
        if request.kind == "forget session":
            self.session = None
        elif response.status_code == 200 and request.path.startswith(("/ask", "/sessions")):
            body = response.json()
            self.session = body["session_id"]
            self.sessions.add(self.session)
            for citation in body["citations"]:
                if len(self.article_ids) < 100 and citation["article_id"] not in self.article_ids:
                    self.article_ids.append(citation["article_id"])


async def http_load(
    base_url: str, count: int, clients: int, seed: int, tally: HttpTally, progress: Progress
) -> None:
    numbers = iter(range(count))
    article_ids: list[str] = []
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)

    async def user(client: httpx.AsyncClient, who: HttpClient) -> None:
        for _ in numbers:
            request = who.next_request()
            started = time.perf_counter()
            try:
                response = await client.request(request.method, request.path, **request.options)
                outcome: int | str = response.status_code
            except httpx.HTTPError as error:
                response, outcome = None, f"{type(error).__name__}: {error}"
            latency_ms = (time.perf_counter() - started) * 1000
            if tally.record(request, outcome, latency_ms) and response is not None:
                who.learn(request, response)
            progress.tick(http=True)

    async with httpx.AsyncClient(base_url=base_url, timeout=60, limits=limits) as client:
        users = [
            HttpClient(random.Random(seed * 1000 + i), article_ids, tally.sessions)
            for i in range(clients)
        ]
        await asyncio.gather(*(user(client, who) for who in users))


# ---- Telegram ----------------------------------------------------------------------------


class Replies:
    """The bot's replies, read incrementally from the stand-in's record of Bot API calls: a
    message is answered by a sendMessage replying to it, a button press by answerCallbackQuery."""

    def __init__(self, api: StandInBotApi) -> None:
        self.api = api
        self.seen: dict[tuple[Any, ...], float] = {}  # key → when the reply was sent
        self.buttons: dict[int, tuple[int, list[tuple[str, str]]]] = {}  # chat → newest keyboard
        self.apologies = 0
        self._read = 0
        self._waiting: dict[tuple[Any, ...], asyncio.Event] = {}

    def scan(self) -> None:
        calls = self.api.calls[self._read :]
        self._read += len(calls)
        for call in calls:
            if not call.ok:
                continue
            if call.method == "sendMessage":
                message = SentMessage.from_call(call)
                self.apologies += message.text in {APOLOGY, NO_ARTICLES}
                if message.buttons:
                    self.buttons[message.chat_id] = (message.message_id, message.buttons)
                if message.reply_to:
                    self._arrived((message.chat_id, message.reply_to), call.at)
            elif call.method == "answerCallbackQuery":
                self._arrived(("button", str(call.params.get("callback_query_id"))), call.at)

    def _arrived(self, key: tuple[Any, ...], at: float) -> None:
        self.seen.setdefault(key, at)
        if key in self._waiting:
            self._waiting.pop(key).set()

    async def follow(self, every_s: float = 0.01) -> None:
        while True:
            self.scan()
            await asyncio.sleep(every_s)

    async def wait(self, key: tuple[Any, ...], timeout_s: float) -> bool:
        if key in self.seen:
            return True
        event = self._waiting.setdefault(key, asyncio.Event())
        try:
            await asyncio.wait_for(event.wait(), timeout_s)
        except TimeoutError:
            return False
        return True


@dataclass
class TelegramTally:
    sent: Counter[str] = field(default_factory=Counter)
    late: Counter[str] = field(default_factory=Counter)  # no reply within the timeout
    expected: dict[tuple[Any, ...], tuple[str, float]] = field(default_factory=dict)


def telegram_update(
    api: StandInBotApi, replies: Replies, chat: int, rng: random.Random, asked: bool
) -> tuple[str, dict[str, Any]]:
    kind = rng.choices(list(TELEGRAM_WEIGHTS), weights=list(TELEGRAM_WEIGHTS.values()))[0]
    if kind == "follow-up" and not asked:
        kind = "question"
    if kind == "button" and chat not in replies.buttons:
        kind = "/sources"
    match kind:
        case "question":
            return kind, api.user_message(chat, rng.choice(QUESTIONS))
        case "follow-up":
            return kind, api.user_message(chat, rng.choice(FOLLOW_UPS))
        case "/more" | "/sources":
            return kind, api.user_message(chat, kind)
        case "command":
            return kind, api.user_message(chat, rng.choice(TELEGRAM_COMMANDS))
        case "long message":
            return kind, api.user_message(chat, "Why? " * rng.randint(201, 800))
        case _:  # an inline button under the chat's newest answer: a citation or "More"
            message_id, buttons = replies.buttons[chat]
            return kind, api.button_press(chat, message_id, rng.choice(buttons)[1])


async def telegram_load(
    api: StandInBotApi,
    replies: Replies,
    count: int,
    chats: int,
    seed: int,
    tally: TelegramTally,
    progress: Progress,
    http_total: int,
    timeout_s: float,
) -> None:
    """`count` updates from `chats` chats, one at a time per chat, spread over the HTTP load
    (update i waits until i/count of the HTTP requests are done) so both run to the end."""
    numbers = iter(range(count))

    async def chat(chat_id: int) -> None:
        rng = random.Random(seed * 1000 + chat_id)
        asked = False
        for number in numbers:
            while progress.http_done < number / count * http_total:
                await asyncio.sleep(0.05)
            kind, update = telegram_update(api, replies, chat_id, rng, asked)
            asked = asked or kind == "question"
            if "callback_query" in update:
                key: tuple[Any, ...] = ("button", update["callback_query"]["id"])
            else:
                key = (chat_id, update["message"]["message_id"])
            tally.sent[kind] += 1
            tally.expected[key] = (kind, time.monotonic())
            api.push(update)
            if not await replies.wait(key, timeout_s):
                tally.late[kind] += 1
            progress.tick(http=False)

    await asyncio.gather(*(chat(7_000_000 + i) for i in range(chats)))
