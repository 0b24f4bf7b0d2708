"""`newsdesk serve --telegram --webhook-url …` as a user starts it, twice, as two replicas
sharing their conversations in Redis: each sets the webhook with its secret at the stand-in
Bot API; updates of several chats posted alternately to the two are all answered, in order
within each chat, each follow-up from the chat's own history; a post without the right secret
is refused with 403."""

from __future__ import annotations

from pathlib import Path

from tests.cli.process import free_port, run_newsdesk, user_env
from tests.cli.webhook_replicas import SECRET, WEBHOOK_URL, post, webhook_replicas
from tests.redis_server import redis_server_fixture  # noqa: F401 (the redis_server fixture)

CONVERSATIONS = {  # chat id → its questions, each follow-up leaning on the one before
    101: ("What did Blinken say about a multinational force?",
          "And what about a two-state solution?", "Who did he meet with?"),
    202: ("Who became world chess champion?", "Who did he beat?"),
    303: ("What did Blinken say about a multinational force?",
          "And what about a two-state solution?", "Who did he meet with?"),
    404: ("Who became world chess champion?", "Who did he beat?"),
}  # fmt: skip
EXPECTED = {  # words the answer to each turn holds only when it saw the turns before it
    "And what about a two-state solution?": "two-state",
    "Who did he meet with?": "Netanyahu",
    "Who did he beat?": "Nepomniachtchi",
}


def test_two_webhook_replicas_answer_every_chat_in_order(
    redis_server, newsroom_index: Path, model_cache: Path, tmp_path: Path
):
    with webhook_replicas(redis_server.url, newsroom_index, model_cache, tmp_path) as replicas:
        api, first, second, hooks = replicas.api, replicas.first, replicas.second, replicas.hooks
        set_hooks = api.calls_of("setWebhook", ok=True)
        assert len(set_hooks) == 2
        assert all(call.params["url"] == WEBHOOK_URL for call in set_hooks)
        assert all(call.params["secret_token"] == SECRET for call in set_hooks)

        stranger = api.user_message(999, "What did Blinken say about a multinational force?")
        assert post(hooks[0], stranger, secret=None).status_code == 403
        assert post(hooks[1], stranger, secret="webhook-secret-wrong").status_code == 403

        asked: dict[int, list[int]] = {chat: [] for chat in CONVERSATIONS}
        for turn in range(max(map(len, CONVERSATIONS.values()))):
            for position, (chat, questions) in enumerate(CONVERSATIONS.items()):
                if turn < len(questions):  # posted at once, each chat switching replica
                    update = api.user_message(chat, questions[turn])
                    assert post(hooks[(turn + position) % 2], update).status_code == 200
                    asked[chat].append(update["message"]["message_id"])
        total = sum(map(len, CONVERSATIONS.values()))
        first.wait_until(lambda: _answered(api) >= total, timeout=90)
        assert first.terminate() == 0 and second.terminate() == 0
        stderr = first.stderr() + second.stderr()
    assert "Traceback" not in stderr
    assert api.sent(999) == []
    for chat, questions in CONVERSATIONS.items():
        replies = [message for message in api.sent(chat) if message.reply_to is not None]
        assert [message.reply_to for message in replies] == asked[chat]  # in order, all there
        for question, reply in zip(questions, replies, strict=True):
            if question in EXPECTED:
                assert EXPECTED[question] in reply.text, (chat, question, reply.text)


def _answered(api) -> int:
    return sum(1 for message in api.sent() if message.reply_to is not None)


def test_a_webhook_without_its_secret_refuses_to_start_in_one_line(
    newsroom_index: Path, model_cache: Path
):
    env = user_env(index_dir=newsroom_index, cache_dir=model_cache, telegram_token="123:abc-def")
    done = run_newsdesk(
        "serve", "--telegram", "--webhook-url", WEBHOOK_URL, "--port", str(free_port()), env=env
    )
    assert done.returncode == 1
    assert done.stderr.strip().count("\n") == 0, done.stderr
    assert "NEWSDESK_TELEGRAM_WEBHOOK_SECRET" in done.stderr
