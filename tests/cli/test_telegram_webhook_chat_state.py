"""Two `newsdesk serve --telegram --webhook-url …` replicas sharing Redis: what one replica was
told about a chat (`/filter`, `/asof`) and the answers it sent (their citation buttons, `/more`,
`/sources`) work when the chat's next update reaches the other replica."""

from __future__ import annotations

from pathlib import Path

from tests.cli.webhook_replicas import post, webhook_replicas
from tests.redis_server import redis_server_fixture  # noqa: F401 (the redis_server fixture)

SEED = "What did Blinken say about a multinational force?"


def test_a_chat_keeps_its_settings_and_answers_across_webhook_replicas(
    redis_server, newsroom_index: Path, model_cache: Path, tmp_path: Path
):
    with webhook_replicas(redis_server.url, newsroom_index, model_cache, tmp_path) as replicas:
        api, first, second = replicas.api, replicas.first, replicas.second
        a, b = replicas.hooks

        def say(hook: str, chat: int, text: str) -> list:
            """Post `text` to one replica; the replies to it (each update has one)."""
            update = api.user_message(chat, text)
            assert post(hook, update).status_code == 200
            asked = update["message"]["message_id"]
            first.wait_until(lambda: _replies(api, chat, asked), timeout=30)
            return _replies(api, chat, asked)

        # Settings made on A hold for questions that reach B.
        filtered, dated = 7101, 7102
        say(a, filtered, '/filter source="Nowhere Gazette"')
        [answer] = say(b, filtered, SEED)
        assert answer.text.startswith("No article is from Nowhere Gazette"), answer.text
        [shown] = say(b, filtered, "/filter")
        assert "source Nowhere Gazette" in shown.text
        [cleared] = say(b, filtered, "/filter off")
        assert "cleared" in cleared.text
        [shown] = say(a, filtered, "/filter")
        assert "No filters" in shown.text
        say(a, dated, "/asof 2023-11-03")
        [shown] = say(b, dated, "/asof")
        assert shown.text.startswith("Answering as of 2023-11-03"), shown.text

        # An answer sent by A: its buttons, /more and /sources work on B.
        chat = 7103
        [answer] = say(a, chat, SEED)
        assert "cite:1:1" in [data for _, data in answer.buttons]
        before = len(api.sent(chat))
        assert post(b, api.button_press(chat, answer.message_id, "cite:1:1")).status_code == 200
        first.wait_until(lambda: len(api.sent(chat)) > before, timeout=30)
        [quoted] = api.sent(chat)[before:]
        assert quoted.reply_to == answer.message_id and "Bloomberg" in quoted.text
        [more] = say(b, chat, "/more")
        assert "Ask a question first" not in more.text and "expired" not in more.text
        [sources] = say(b, chat, "/sources")
        assert sources.text.startswith(f"Sources for “{SEED}”"), sources.text
        assert first.terminate() == 0 and second.terminate() == 0
        stderr = first.stderr() + second.stderr()
    assert "Traceback" not in stderr
    refusals = [call.params.get("text") for call in api.calls_of("answerCallbackQuery")]
    assert not any(refusals), refusals  # the button press was not turned away


def _replies(api, chat: int, message_id: int) -> list:
    return [message for message in api.sent(chat) if message.reply_to == message_id]
