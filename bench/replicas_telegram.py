"""The Telegram bot by webhook on two `newsdesk serve --telegram --webhook-url` replicas sharing
Redis sessions: CHATS × QUESTIONS updates posted at once, each chat's alternately to the two.

Checks that every question is answered, in order within its chat, none crossed (every chat asks
the same questions, so each turn's reply must be the same in every chat, follow-ups included),
and prints p50/p95 of the time from posting an update to the bot's reply at the stand-in Bot API.

    .venv/bin/python bench/telegram_load.py --webhook [--chats 20] [--questions 5]
    .venv/bin/python bench/replicas_telegram.py [same options]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))

from replicas import ROOT, build_newsroom_index, percentile, redis_server, replicas  # noqa: E402

from tests.telegram_standin import StandInServer  # noqa: E402

QUESTIONS = (
    "What did Blinken say about a multinational force?",
    "Who did he meet with?",
    "And what about a two-state solution?",
    "Who became world chess champion?",
    "Who did he beat?",
    "What did Biden say about a pause in the fighting?",
)
WEBHOOK_URL = "https://bot.example.org/telegram/hook"
SECRET = "bench-webhook-secret-4d1"
MODEL_CACHE = ROOT / ".newsdesk" / "test-model-cache"


async def post_all(api, hooks: list[str], chats: int, per_chat: int) -> dict[int, list]:
    """Post every update at once (each chat's in order, alternating replicas); per chat the
    (message id, posted at) of its questions."""
    asked: dict[int, list[tuple[int, float]]] = {1000 + n: [] for n in range(chats)}
    headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
    async with httpx.AsyncClient(timeout=30) as client:
        for position in range(per_chat):
            for number, chat in enumerate(asked):
                update = api.user_message(chat, QUESTIONS[position % len(QUESTIONS)])
                posted = time.monotonic()
                url = hooks[(number + position) % len(hooks)]
                response = await client.post(url, json=update, headers=headers)
                response.raise_for_status()
                asked[chat].append((update["message"]["message_id"], posted))
    return asked


async def one_at_a_time(api, hooks: list[str], count: int = 10) -> list[float]:
    """Update→reply seconds of one chat's questions posted one after the other's reply."""
    chat, latencies = 999, []
    headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
    async with httpx.AsyncClient(timeout=30) as client:
        for position in range(count):
            update = api.user_message(chat, QUESTIONS[position % len(QUESTIONS)])
            before = len([m for m in api.sent(chat) if m.reply_to is not None])
            posted = time.monotonic()
            await client.post(hooks[position % len(hooks)], json=update, headers=headers)
            while len(replies := [m for m in api.sent(chat) if m.reply_to]) == before:
                await asyncio.sleep(0.002)
            latencies.append(replies[-1].at - posted)
    return latencies


def report(api, asked: dict[int, list[tuple[int, float]]], wall_s: float) -> int:
    latencies, problems = [], []
    first_replies: dict[int, list] = {}
    for chat, questions in asked.items():
        replies = [m for m in api.sent(chat) if m.reply_to is not None]
        if [m.reply_to for m in replies] != [message_id for message_id, _ in questions]:
            problems.append(f"chat {chat}: replies to {[m.reply_to for m in replies]}")
            continue
        first_replies[chat] = replies
        latencies += [m.at - posted for m, (_, posted) in zip(replies, questions, strict=True)]
    for turn in range(len(next(iter(asked.values())))):
        texts = Counter(replies[turn].html for replies in first_replies.values())
        if len(texts) > 1:
            problems.append(f"turn {turn + 1}: {len(texts)} different replies across chats")
    total = sum(len(q) for q in asked.values())
    print(f"chats × questions      {len(asked)} × {len(next(iter(asked.values())))}, "
          "posted alternately to 2 replicas")  # fmt: skip
    print(f"answered               {len(latencies)} / {total}")
    print(f"crossed or misordered  {len(problems)}")
    print(f"send failures          {len(api.failures())}")
    if latencies:
        print(f"update→reply p50       {statistics.median(latencies) * 1000:.0f} ms")
        print(f"update→reply p95       {percentile(latencies, 0.95) * 1000:.0f} ms")
    print(f"wall time              {wall_s:.2f} s ({len(latencies) / wall_s:.1f} answers/s)")
    for problem in problems[:10]:
        print("  problem:", problem)
    return 1 if problems or api.failures() or len(latencies) != total else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chats", type=int, default=20)
    parser.add_argument("--questions", type=int, default=5, help="questions per chat")
    parser.add_argument("--index-dir", type=Path, help="an existing index (default: the newsroom)")
    parser.add_argument("--timeout", type=float, default=300.0)
    args, _ = parser.parse_known_args(argv)
    total = args.chats * args.questions
    with tempfile.TemporaryDirectory(prefix="newsdesk-webhook-") as folder:
        workdir = Path(folder)
        index_dir = args.index_dir or build_newsroom_index(workdir)
        with StandInServer() as server, redis_server(workdir) as redis:
            api = server.api
            env = {
                "cache_dir": MODEL_CACHE,
                "sessions": redis.url,
                "telegram_token": api.token,
                "telegram_base_url": server.base_url,
                "telegram_webhook_secret": SECRET,
                "telegram_rate_per_minute": str(max(10, args.questions)),
            }
            args_ = ("--telegram", "--webhook-url", WEBHOOK_URL)
            with replicas(2, index_dir, workdir, *args_, **env) as urls:
                hooks = [f"{url}/telegram/hook" for url in urls]
                idle = asyncio.run(one_at_a_time(api, hooks))
                print(f"idle update→reply p50  {statistics.median(idle) * 1000:.0f} ms "
                      f"(one at a time, {len(idle)} updates alternating replicas)")  # fmt: skip
                started = time.monotonic()
                asked = asyncio.run(post_all(api, hooks, args.chats, args.questions))
                deadline = started + args.timeout
                while time.monotonic() < deadline and _answered(api, asked) < total:
                    time.sleep(0.05)
                wall_s = time.monotonic() - started
            return report(api, asked, wall_s)


def _answered(api, asked) -> int:
    return sum(1 for m in api.sent() if m.reply_to is not None and m.chat_id in asked)


if __name__ == "__main__":
    sys.exit(main())
