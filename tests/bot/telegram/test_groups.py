"""The bot in group chats: it answers only what is addressed to it, in the asker's thread, and
keeps one conversation per user per group thread (real Application, in-process stand-in)."""

from __future__ import annotations

import itertools

from bot.service import NewsdeskService
from tests.bot.telegram.telegram_harness import BotHarness, new_chat_id, run
from tests.telegram_standin import SentMessage

SEED = "What did Blinken say about a multinational force?"
FOLLOW_UP = "And what about a two-state solution?"
OTHER = "Who did Blinken meet with?"
BOT = "@newsdesk_test_bot"
_users = itertools.count(70_001)


def new_group_id() -> int:
    return -new_chat_id()


async def say_in_group(
    bot: BotHarness, chat_id: int, text: str, user_id: int, **options: object
) -> tuple[dict, list[SentMessage]]:
    """Post `text` in a group as `user_id`; the update and what the bot sent back."""
    before = len(bot.api.sent(chat_id))
    update = bot.api.group_message(chat_id, text, user_id=user_id, **options)
    await bot.process(update)
    return update["message"], bot.api.sent(chat_id)[before:]


async def press(
    bot: BotHarness, chat_id: int, message: SentMessage, data: str, user_id: int
) -> list[SentMessage]:
    """`user_id` presses the button with `data` under `message`; what the bot sent back."""
    before = len(bot.api.sent(chat_id))
    await bot.process(bot.api.button_press(chat_id, message.message_id, data, user_id=user_id))
    return bot.api.sent(chat_id)[before:]


def session_questions(service: NewsdeskService, session_id: str) -> list[str]:
    conversation = service.sessions.find(session_id)
    return [turn.question for turn in conversation.turns] if conversation else []


def test_a_mention_is_answered_in_its_topic_as_a_reply(service: NewsdeskService) -> None:
    async def scenario() -> None:
        async with BotHarness(service) as bot:
            group, user, topic = new_group_id(), next(_users), 42
            asked, [reply] = await say_in_group(bot, group, f"{BOT}, {SEED}", user, thread_id=topic)
            assert reply.reply_to == asked["message_id"]
            assert reply.thread_id == topic
            assert "Bloomberg, 2023-11-03" in reply.text
            # The mention is not part of the question, which is this user's in this topic.
            assert session_questions(service, f"tg:{group}:{topic}:{user}") == [SEED]
            actions = bot.api.calls_of("sendChatAction", ok=True)
            assert [c.params.get("message_thread_id") for c in actions] == [topic]
            # A mention alone gets a hint, in the same topic.
            _, [hint] = await say_in_group(bot, group, BOT, user, thread_id=topic)
            assert f"{BOT} " in hint.text and hint.thread_id == topic
            # /help tells how to ask in a group and inline.
            _, [usage] = await say_in_group(bot, group, f"/help{BOT}", user, thread_id=topic)
            assert f"mention me ({BOT} your question)" in usage.text
            assert bot.api.failures() == []

    run(scenario())


def test_messages_not_addressed_to_the_bot_get_no_reply(service: NewsdeskService) -> None:
    async def scenario() -> None:
        async with BotHarness(service) as bot:
            group, user, other = new_group_id(), next(_users), next(_users)
            someone, _ = await say_in_group(bot, group, "Anyone read the news?", other)
            for text, options in (
                (SEED, {}),
                (f"@someone_else {SEED}", {}),
                (f"{SEED} (no bot here: newsdesk_test_bot)", {"thread_id": 9}),
                (f"Good point. {SEED}", {"reply_to": someone["message_id"]}),
                ("/foo", {}),
                ("/foo@another_bot", {}),
                (f"/ask@another_bot {SEED}", {}),
            ):
                _, sent = await say_in_group(bot, group, text, user, **options)
                assert sent == [], text
            # A photo (no text) in a group: no "I can only read text" either.
            photo = bot.api.group_message(group, "", user_id=user)
            del photo["message"]["text"]
            photo["message"]["photo"] = [
                {"file_id": "p1", "file_unique_id": "u1", "width": 90, "height": 90}
            ]
            await bot.process(photo)
            assert bot.api.sent(group) == []
            assert service.sessions.find(f"tg:{group}:0:{user}") is None
            # A command that names the bot but that it lacks is answered.
            _, [unknown] = await say_in_group(bot, group, f"/foo{BOT}", user)
            assert "don't know that command" in unknown.text
            assert bot.api.failures() == []

    run(scenario())


def test_replies_to_the_bot_continue_each_users_own_conversation(
    service: NewsdeskService,
) -> None:
    """Two people in one (non-forum) supergroup: each reply to the bot follows up the replying
    user's question, never the other's."""

    async def scenario() -> None:
        async with BotHarness(service) as bot:
            group, ada, bob = new_group_id(), next(_users), next(_users)
            _, [to_ada] = await say_in_group(bot, group, f"{BOT} {SEED}", ada)
            await say_in_group(bot, group, f"{OTHER} {BOT}", bob)
            asked, [follow] = await say_in_group(
                bot, group, FOLLOW_UP, ada, reply_to=to_ada.message_id
            )
            assert follow.reply_to == asked["message_id"]
            assert follow.thread_id is None  # a reply chain is no forum topic
            assert "two-state solution" in follow.text
            in_ada = service.sessions.find(f"tg:{group}:0:{ada}")
            assert [t.question for t in in_ada.turns] == [SEED, FOLLOW_UP]
            assert "Blinken" in (in_ada.turns[-1].answer.rewritten_query or "")
            assert session_questions(service, f"tg:{group}:0:{bob}") == [OTHER]
            # Bob's /sources is his own last answer; Ada's button under her first answer shows
            # her citation even when Bob presses it.
            _, [bob_sources] = await say_in_group(bot, group, f"/sources{BOT}", bob)
            assert OTHER in bob_sources.text
            [shown] = await press(bot, group, to_ada, "cite:1:1", user_id=bob)
            citation = in_ada.turns[0].answer.citations[0]
            bobs = service.sessions.find(f"tg:{group}:0:{bob}").turns[0].answer.citations[0]
            assert citation.quote != bobs.quote
            assert citation.quote.strip()[:40] in shown.text
            assert bot.api.failures() == []

    run(scenario())


def test_ask_command_addressed_to_the_bot_and_the_allow_list(service: NewsdeskService) -> None:
    async def scenario() -> None:
        allowed, refused = next(_users), next(_users)
        async with BotHarness(service, telegram_allowed_users=[allowed]) as bot:
            group = new_group_id()
            asked, [reply] = await say_in_group(bot, group, f"/ask{BOT} {SEED}", allowed)
            assert reply.reply_to == asked["message_id"]
            assert "Bloomberg, 2023-11-03" in reply.text
            _, [plain] = await say_in_group(bot, group, f"/ask {SEED}", allowed)
            assert plain.text == reply.text
            # Someone not on the list is ignored in a group, without a word.
            for text in (f"/ask{BOT} {SEED}", f"{BOT} {SEED}"):
                _, sent = await say_in_group(bot, group, text, refused)
                assert sent == [], text
            assert bot.api.failures() == []

    run(scenario())
