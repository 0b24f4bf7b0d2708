"""Security properties of the Telegram edge (SECURITY.md lists each with its test): the
allowlist holds for buttons, and the bot token never reaches a log line, an error message or
stderr, even with every logger at DEBUG."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest

from bot.service import NewsdeskService
from bot.telegram.app import build_application, running
from bot.telegram.handlers import PRIVATE
from tests.bot.telegram.telegram_harness import (
    BotHarness,
    ServiceWrapper,
    bot_settings,
    new_chat_id,
    run,
)
from tests.cli.process import run_newsdesk, user_env
from tests.telegram_standin import StandInBotApi, StandInServer

SEED = "What did Blinken say about a multinational force?"
FRIEND, STRANGER = 4242, 7
ANONYMOUS_ADMIN = 1087968824  # Telegram's "Group" user for anonymous group admins


def in_group(update: dict[str, Any]) -> dict[str, Any]:
    update["message"]["chat"] = {"id": update["message"]["chat"]["id"], "type": "group"}
    return update


# --- the allowlist ------------------------------------------------------------------------------


def test_strangers_get_nothing_from_buttons_or_messages_in_a_group(
    service: NewsdeskService,
) -> None:
    """A friend asks in a group; a stranger there presses the answer's buttons, writes, or
    presses them on a copy forwarded to a private chat: nothing is looked up or sent, and a
    button press is answered with the short 'private' notice (Telegram needs an answer)."""

    async def scenario() -> None:
        async with BotHarness(service, telegram_allowed_users=[FRIEND]) as bot:
            api = bot.api
            group = -new_chat_id()
            asked = f"@{api.bot_user['username']} {SEED}"  # in a group the bot is addressed
            await bot.process(api.group_message(group, asked, user_id=FRIEND, chat_type="group"))
            [answer] = api.sent(group)
            assert "Bloomberg, 2023-11-03" in answer.text
            datas = [data for _, data in answer.buttons]
            assert any(d.startswith("cite:") for d in datas) and any(
                d.startswith("more:") for d in datas
            )
            turns = len(service.sessions.find(f"tg:{group}:0:{FRIEND}").turns)
            actions = len(api.calls_of("sendChatAction"))

            for data in datas:
                press = api.button_press(group, answer.message_id, data, user_id=STRANGER)
                await bot.process(press)
                assert bot.callback_answers()[-1].get("text") == PRIVATE
            await bot.process(in_group(api.user_message(group, "/more", user_id=STRANGER)))
            await bot.process(api.group_message(group, asked, user_id=STRANGER, chat_type="group"))
            anonymous = in_group(api.user_message(group, "/sources", user_id=ANONYMOUS_ADMIN))
            anonymous["message"]["sender_chat"] = {"id": group, "type": "group"}
            await bot.process(anonymous)
            no_user = in_group(api.user_message(group, "/start"))
            del no_user["message"]["from"]
            await bot.process(no_user)

            # The forwarded copy keeps its buttons; pressing them in a private chat is refused.
            forwarded = {
                **api.messages[(group, answer.message_id)],
                "message_id": 900,
                "chat": {"id": STRANGER, "type": "private"},
                "forward_origin": {"type": "user", "date": 0, "sender_user": {
                    "id": FRIEND, "is_bot": False, "first_name": "Ada"}},
            }  # fmt: skip
            api.messages[(STRANGER, 900)] = forwarded
            for data in datas:
                await bot.process(api.button_press(STRANGER, 900, data, user_id=STRANGER))
                assert bot.callback_answers()[-1].get("text") == PRIVATE

            assert api.sent(group) == [answer]  # nothing in the group
            assert api.sent(STRANGER) == []  # nor in the stranger's chat
            assert len(api.calls_of("sendChatAction")) == actions  # no "typing…" either
            assert len(service.sessions.find(f"tg:{group}:0:{FRIEND}").turns) == turns
            assert service.sessions.find(f"tg:{STRANGER}") is None
            assert api.failures() == []

            # The friend's own press still works.
            cite = next(d for d in datas if d.startswith("cite:"))
            await bot.process(api.button_press(group, answer.message_id, cite, user_id=FRIEND))
            assert len(api.sent(group)) == 2

    run(scenario())


def test_without_a_list_everyone_is_answered(service: NewsdeskService) -> None:
    async def scenario() -> None:
        async with BotHarness(service) as bot:
            chat = new_chat_id()
            [answer] = await bot.say(chat, SEED, user_id=STRANGER)
            assert "Bloomberg, 2023-11-03" in answer.text

    run(scenario())


# --- the token stays secret ----------------------------------------------------------------------


def secret_forms(token: str) -> list[str]:
    return [token, token.split(":", 1)[1]]


def debug_logging(caplog: pytest.LogCaptureFixture) -> None:
    """Every logger at DEBUG, including the libraries that see the Bot API URL."""
    caplog.set_level(logging.DEBUG)
    for name in ("httpx", "httpcore", "telegram", "telegram.ext", "bot", "asyncio"):
        caplog.set_level(logging.DEBUG, logger=name)


def test_token_stays_out_of_logs_while_polling_through_faults(
    service: NewsdeskService,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    debug_logging(caplog)

    def ask(question: str, **kwargs: Any):
        if question == "boom":
            raise RuntimeError("retrieval failed")
        return service.ask(question, **kwargs)

    async def scenario(server: StandInServer) -> None:
        api = server.api
        app = build_application(
            bot_settings(api, server.base_url), ServiceWrapper(service, ask=ask)
        )
        chat, blocked = new_chat_id(), new_chat_id()
        api.fail_next("getUpdates", 502, "Bad Gateway")
        api.fail_next("getUpdates", 409, "Conflict: terminated by other getUpdates request")
        async with running(app, poll_timeout=1):
            api.push(api.user_message(chat, SEED))
            await api.wait_for(lambda: len(api.sent(chat)) == 1, timeout=30)
            api.push(api.user_message(chat, "boom"))  # a handler error, logged with traceback
            await api.wait_for(lambda: len(api.sent(chat)) == 2, timeout=30)
            api.fail_next("sendMessage", 403, "Forbidden: bot was blocked by the user")
            api.push(api.user_message(blocked, SEED))
            await api.wait_for(lambda: api.calls_of("sendMessage", ok=False) != [], timeout=30)
            api.fail_next("sendMessage", 400, "Bad Request: chat not found", times=3)
            api.push(api.user_message(blocked, "/help"))
            await api.wait_for(lambda: len(api.calls_of("sendMessage", ok=False)) >= 3, timeout=30)

    with StandInServer() as server:
        run(scenario(server))
        token = server.api.token
    logged = caplog.text + "".join(capfd.readouterr())
    assert "/bot[redacted]/getUpdates" in caplog.text  # httpx logged the URLs, redacted
    assert "retrieval failed" in caplog.text and "Forbidden" in caplog.text
    for secret in secret_forms(token):
        assert secret not in logged


def test_rejected_or_unreachable_bot_api_never_shows_the_token(
    service: NewsdeskService,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    debug_logging(caplog)
    wrong = StandInBotApi(token="999999:WRONG-token-never-shown-3f9a")
    errors: list[str] = []

    async def start(base_url: str) -> None:
        app = build_application(bot_settings(wrong, base_url), service)
        try:
            async with running(app, poll_timeout=1):
                raise AssertionError("the bot started with a token the server refuses")
        except Exception as error:  # what the CLI turns into its one-line message
            errors.append(f"{type(error).__name__}: {error}")

    with StandInServer() as server:  # it knows only its own token
        run(start(server.base_url))
        closed_port = server.base_url
    run(start(closed_port))  # nothing listens there any more

    assert errors[0].startswith("TelegramTokenRejected: The Telegram Bot API rejected")
    assert errors[1].startswith("NetworkError")
    logged = caplog.text + "".join(capfd.readouterr()) + "\n".join(errors)
    for secret in secret_forms(wrong.token):
        assert secret not in logged


def test_newsdesk_telegram_with_a_rejected_token_says_so_in_one_line(
    built_index: Path, model_cache: Path, tmp_path: Path
) -> None:
    token = "999999:WRONG-token-never-shown-77c1"
    with StandInServer() as server:
        env = user_env(
            index_dir=built_index,
            cache_dir=model_cache,
            telegram_token=token,
            telegram_base_url=server.base_url,
        )
        done = run_newsdesk("-v", "telegram", env=env, cwd=tmp_path, timeout=120)
    assert done.returncode == 1
    assert "Error: The Telegram Bot API rejected NEWSDESK_TELEGRAM_TOKEN" in done.stderr
    assert "Traceback" not in done.stderr
    for secret in secret_forms(token):
        assert secret not in done.stderr + done.stdout
