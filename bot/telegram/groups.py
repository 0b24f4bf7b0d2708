"""Group chats: which messages the bot answers there, and whose conversation each one is.

In groups and supergroups the bot answers only what is addressed to it: a mention
(`@botname question`, anywhere in the text; the mention is not part of the question), a reply
to one of its own messages, or a command (`/ask question`, `/ask@botname question`). Anything
else is left alone without a word: a group is not a private chat, and "I can only read text"
under someone's photo would be noise. (With BotFather's privacy mode on, the default, Telegram
sends the bot little more than these messages anyway.)

A conversation belongs to one user in one group thread (a forum topic; the whole group when it
has none): two people asking in the same group keep their own follow-ups, filters and /more,
and a reply to the bot continues the replying user's conversation. Buttons under an answer
belong to the conversation of the user who asked it, whoever presses them. Answers go to the
asking message's forum topic, as a reply to it.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from telegram import Chat, Message, MessageEntity, Update, User
from telegram.ext import ContextTypes, MessageHandler, filters

if TYPE_CHECKING:
    from telegram.ext import Application
    from telegram.ext.filters import BaseFilter

    from bot.telegram.handlers import NewsdeskBot

Context = ContextTypes.DEFAULT_TYPE
GROUP_CHATS = frozenset({Chat.GROUP, Chat.SUPERGROUP})
_LEADING_PUNCTUATION = " \t\n,:;—-"


def groups_usage(username: str) -> str:
    """What /help says about groups and inline mode (HTML)."""
    name = html.escape(f"@{username}")
    return (
        f"In a group, mention me (<code>{name} your question</code>), reply to one of my "
        "answers or use /ask; everyone there has their own follow-ups. In any chat, type "
        f"<code>{name} your question</code> to share an answer from the list that appears."
    )


@dataclass(frozen=True)
class ConversationKey:
    """Whose conversation an update belongs to: a private chat, or a user in a group thread."""

    chat_id: int
    thread_id: int | None = None
    user_id: int | None = None  # None for a private chat (the chat is the user)

    @property
    def session_id(self) -> str:
        """The service's session id: `tg:CHAT` for a private chat (as before groups existed),
        `tg:CHAT:THREAD:USER` in a group (thread 0: not in a forum topic)."""
        if self.user_id is None:
            return f"tg:{self.chat_id}"
        return f"tg:{self.chat_id}:{self.thread_id or 0}:{self.user_id}"


def in_group(update: Update) -> bool:
    chat = update.effective_chat
    return chat is not None and chat.type in GROUP_CHATS


def topic_of(message: object) -> int | None:
    """The forum topic a message is in, or None. Outside forums Telegram also sets
    `message_thread_id` on replies (the reply chain's first message), which is no topic."""
    if isinstance(message, Message) and message.is_topic_message:
        return message.message_thread_id
    return None


def conversation_of(update: Update) -> ConversationKey:
    """The conversation of an update: its chat, or in a group its user and forum topic.

    A button pressed under an answer in a group belongs to the user who asked the question the
    answer replies to, not to whoever pressed it.
    """
    chat = update.effective_chat
    chat_id = chat.id if chat is not None else 0
    if not in_group(update):
        return ConversationKey(chat_id)
    message = update.effective_message
    user = update.effective_user
    if update.callback_query is not None and isinstance(message, Message):
        asked = message.reply_to_message
        if asked is not None and asked.from_user is not None and not asked.from_user.is_bot:
            user = asked.from_user
    return ConversationKey(chat_id, topic_of(message), user.id if user is not None else None)


def mentions(message: Message, bot: User) -> bool:
    """Whether the message mentions the bot by its @username (a `mention` entity, as Telegram
    marks it: an @name inside a link or code is no mention)."""
    username = (bot.username or "").lower()
    found = message.parse_entities([MessageEntity.MENTION]).values()
    return bool(username) and any(value.lower() == f"@{username}" for value in found)


def replies_to(message: Message, bot: User) -> bool:
    """Whether the message replies to one of the bot's own messages. (In a forum topic every
    message "replies" to the topic's first message: that is no reply to the bot.)"""
    replied = message.reply_to_message
    return (
        replied is not None
        and replied.from_user is not None
        and replied.from_user.id == bot.id
        and replied.forum_topic_created is None
    )


def strip_mention(text: str, username: str) -> str:
    """The text without `@username` (any case) and a comma or colon right after it, spaces
    tidied: "@bot, who won?" and "Who won? @bot" both ask "who won?"."""
    if username:
        mention = rf"(?<![\w@])@{re.escape(username)}\b[,:;]?"
        text = re.sub(mention, " ", text, flags=re.IGNORECASE)
    return " ".join(text.split()).lstrip(_LEADING_PUNCTUATION).strip()


def addressed_question(message: Message, bot: User) -> str | None:
    """The question in a group message addressed to the bot (mentioning it or replying to it),
    without the mention; None when the message is not for the bot."""
    if not (mentions(message, bot) or replies_to(message, bot)):
        return None
    return strip_mention(message.text or "", bot.username or "")


def addressed_command(message: Message, bot: User) -> bool:
    """Whether a group command names the bot (`/foo@botname`); a bare `/foo` may be for any of
    the group's bots."""
    command = (message.text or "").split(maxsplit=1)[0] if message.text else ""
    _, at, name = command.partition("@")
    return bool(at) and name.lower() == (bot.username or "").lower()


class GroupChats:
    """The handlers for group messages no command handler took: questions addressed to the bot
    are answered in the asker's conversation; everything else gets no reply."""

    def __init__(self, bot: NewsdeskBot) -> None:
        self.bot = bot

    def install(self, app: Application, only_new: BaseFilter) -> None:
        """Register before the private-chat text handlers (a handler group takes the first
        match): group text, then group commands nobody has, then anything else in a group."""
        in_groups = only_new & filters.ChatType.GROUPS
        app.add_handler(MessageHandler(in_groups & filters.TEXT & ~filters.COMMAND, self.text))
        app.add_handler(MessageHandler(in_groups & filters.COMMAND, self.unknown_command))
        app.add_handler(MessageHandler(in_groups, self.ignore))

    async def text(self, update: Update, context: Context) -> None:
        """A question when it mentions the bot or replies to it; otherwise nothing."""
        message = update.effective_message
        question = addressed_question(message, context.bot.bot) if message else None
        if question is None:
            return
        if not question:
            example = self.bot.example_question
            name = context.bot.username
            await self.bot._reply(update, [f"Ask me like this: @{name} {html.escape(example)}"])
            return
        await self.bot._answer_question(update, question)

    async def unknown_command(self, update: Update, context: Context) -> None:
        """A command the bot lacks: answered only when it names the bot (`/foo@botname`)."""
        message = update.effective_message
        if message is not None and addressed_command(message, context.bot.bot):
            await self.bot.unknown_command(update, context)

    async def ignore(self, update: Update, context: Context) -> None:
        """Photos, stickers, joins and the like in a group: no reply."""
