"""Drive the real Telegram Application in tests: fast (process_update) or over real polling."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from telegram import Update
from telegram.ext import Application

from bot.service import NewsdeskService
from bot.settings import Settings
from bot.telegram.app import build_application
from tests.telegram_standin import RecordingRequest, SentMessage, StandInBotApi

T = TypeVar("T")
_chat_ids = itertools.count(1001)


def new_chat_id() -> int:
    """A chat id no other test used, so per-chat sessions never leak between tests."""
    return next(_chat_ids)


def run(coroutine: Coroutine[Any, Any, T], timeout: float = 60.0) -> T:
    """Run a scenario in a fresh event loop, with a deadline so a hang fails instead."""
    return asyncio.run(asyncio.wait_for(coroutine, timeout))


def bot_settings(api: StandInBotApi, base_url: str = "http://127.0.0.1:9/bot", **changes: Any):
    return Settings(_env_file=None, telegram_token=api.token, telegram_base_url=base_url, **changes)


class BotHarness:
    """A real Application whose Bot API calls go to an in-process stand-in (no sockets)."""

    def __init__(self, service: NewsdeskService | Any, **settings_changes: Any) -> None:
        self.api = StandInBotApi()
        self.settings = bot_settings(self.api, **settings_changes)
        self.app: Application = build_application(
            self.settings,
            service,
            request=RecordingRequest(self.api),
            get_updates_request=RecordingRequest(self.api),
        )

    async def __aenter__(self) -> BotHarness:
        await self.app.initialize()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.app.shutdown()

    async def process(self, update: dict[str, Any]) -> None:
        await self.app.process_update(Update.de_json(update, self.app.bot))

    async def say(
        self, chat_id: int, text: str, *, user_id: int | None = None
    ) -> list[SentMessage]:
        """Send `text` from a user in `chat_id`; return what the bot sent back."""
        before = len(self.api.sent(chat_id))
        await self.process(self.api.user_message(chat_id, text, user_id=user_id))
        return self.api.sent(chat_id)[before:]

    async def press(self, chat_id: int, message: SentMessage, data: str) -> list[SentMessage]:
        """Press the inline button with `data` under `message`; return what the bot sent."""
        assert data in [d for _, d in message.buttons], (data, message.buttons)
        before = len(self.api.sent(chat_id))
        await self.process(self.api.button_press(chat_id, message.message_id, data))
        return self.api.sent(chat_id)[before:]

    def callback_answers(self) -> list[dict[str, Any]]:
        return [c.params for c in self.api.calls_of("answerCallbackQuery", ok=True)]


class ServiceWrapper:
    """The real service with one method swapped for a test's behaviour (errors, delays)."""

    def __init__(self, service: NewsdeskService, **overrides: Callable[..., Any]) -> None:
        self._service = service
        self._overrides = overrides

    def __getattr__(self, name: str) -> Any:
        if name in self._overrides:
            return self._overrides[name]
        return getattr(self._service, name)
