"""Load-test the Telegram bot: many chats asking at once, over real polling on 127.0.0.1.

Starts the stand-in Bot API server (tests/telegram_standin.py) and the real bot with the real
service, pushes CHATS × QUESTIONS updates at once, and checks that every question got its own
answer in its own chat (in order, none crossed), with no refused send. Prints p50/p95 of the
time from an update reaching the server to the bot's reply.

    .venv/bin/python bench/telegram_load.py [--chats 20] [--questions 5] [--index-dir DIR]
    .venv/bin/python bench/telegram_load.py --webhook [--chats 20] [--questions 5]
        (bench/replicas_telegram.py: two `serve --telegram --webhook-url` replicas + Redis)
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.factories import make_embedder  # noqa: E402
from bot.render import render_telegram  # noqa: E402
from bot.service import NewsdeskService  # noqa: E402
from bot.settings import Settings  # noqa: E402
from bot.telegram.app import build_application, running  # noqa: E402
from index.build import build_index  # noqa: E402
from tests.telegram_standin import StandInServer  # noqa: E402

QUESTIONS = (
    "What did Blinken say about a multinational force?",
    "Who did he meet with?",
    "And what about a two-state solution?",
    "How many people did Hamas kill on Oct. 7?",
    "Which group is backed by Iran?",
    "What did Biden say about a pause in the fighting?",
    "What is the weather like in Paris this weekend?",
    "How many people has the ground invasion killed, according to the health ministry?",
)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def load_service(index_dir: Path | None, workdir: Path) -> NewsdeskService:
    """The real service over `index_dir`, or over a fresh index of corpus/ built here."""
    if index_dir is not None:
        return NewsdeskService.from_settings(Settings(index_dir=index_dir))
    settings = Settings(index_dir=workdir / "index", corpus=ROOT / "corpus")
    embedder = make_embedder(settings)
    build_index(settings.corpus, settings.index_dir, embedder)
    return NewsdeskService(settings, embedder)


async def load(service: NewsdeskService, chats: int, per_chat: int, timeout: float) -> int:
    with StandInServer() as server:
        api = server.api
        settings = Settings(telegram_token=api.token, telegram_base_url=server.base_url)
        app = build_application(settings, service)
        chat_ids = [9_000_000 + i for i in range(chats)]
        asked: dict[int, list[tuple[int, str]]] = {chat: [] for chat in chat_ids}
        async with running(app, poll_timeout=5):
            idle = []  # one question at a time first: the latency without queueing
            for question in QUESTIONS[:5]:
                update = api.user_message(1, question)
                api.push(update)
                message_id = update["message"]["message_id"]
                await api.wait_for(lambda m=message_id: any(s.reply_to == m for s in api.sent(1)))
                reply = next(s for s in api.sent(1) if s.reply_to == message_id)
                idle.append(reply.at - api.pushed_at[(1, message_id)])
            print(f"idle update→reply p50  {statistics.median(idle) * 1000:.0f} ms (one at a time)")
            started = time.monotonic()
            for turn in range(per_chat):  # interleaved: every chat's n-th question, then the next
                for i, chat in enumerate(chat_ids):
                    question = QUESTIONS[(i + turn) % len(QUESTIONS)]
                    update = api.user_message(chat, question)
                    asked[chat].append((update["message"]["message_id"], question))
                    api.push(update)
            expected = chats * per_chat

            def answered() -> int:
                return len({(m.chat_id, m.reply_to) for m in api.sent() if m.chat_id in asked})

            await api.wait_for(lambda: answered() >= expected, timeout=timeout)
            wall = time.monotonic() - started
        return report(service, api, asked, wall)


def report(service, api, asked: dict[int, list[tuple[int, str]]], wall: float) -> int:
    problems: list[str] = []
    latencies: list[float] = []
    sent = [m for m in api.sent() if m.chat_id in asked]
    for chat, questions in asked.items():
        replies = {m.reply_to: m for m in sent if m.chat_id == chat and m.reply_to}
        own_ids = {message_id for message_id, _ in questions}
        if set(replies) != own_ids:
            problems.append(f"chat {chat}: replies to {sorted(replies)}, asked {sorted(own_ids)}")
            continue
        # The chat's conversation holds its own questions, in order, and each reply is the
        # rendering of that turn's answer: nothing crossed between chats.
        conversation = service.sessions.find(f"tg:{chat}")
        turns = conversation.turns if conversation else []
        if [t.question for t in turns] != [q for _, q in questions]:
            problems.append(f"chat {chat}: conversation holds {[t.question for t in turns]}")
            continue
        for (message_id, _), turn in zip(questions, turns, strict=True):
            reply = replies[message_id]
            if reply.html != render_telegram(turn.answer)[0]:
                problems.append(f"chat {chat}: reply to {message_id} is not its answer")
            latencies.append(reply.at - api.pushed_at[(chat, message_id)])
    failures = api.failures()
    print(f"chats × questions      {len(asked)} × {len(next(iter(asked.values())))}")
    print(f"answered               {len(latencies)} / {sum(len(q) for q in asked.values())}")
    print(f"crossed or misordered  {len(problems)}")
    print(f"send failures          {len(failures)}")
    if latencies:
        print(f"update→reply p50       {statistics.median(latencies) * 1000:.0f} ms")
        print(f"update→reply p95       {percentile(latencies, 0.95) * 1000:.0f} ms")
        print(f"update→reply max       {max(latencies) * 1000:.0f} ms")
    print(f"wall time              {wall:.2f} s ({len(latencies) / wall:.1f} answers/s)")
    for problem in problems[:10]:
        print("  problem:", problem)
    for failure in failures[:10]:
        print("  failed:", failure.method, failure.description, failure.params)
    return 1 if problems or failures else 0


def main() -> int:
    if "--webhook" in sys.argv[1:]:  # two webhook replicas sharing Redis sessions
        from replicas_telegram import main as webhook_main

        return webhook_main(sys.argv[1:])
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chats", type=int, default=20)
    parser.add_argument("--questions", type=int, default=5, help="questions per chat")
    parser.add_argument("--index-dir", type=Path, help="an existing index (default: build one)")
    parser.add_argument("--timeout", type=float, default=300.0)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    with tempfile.TemporaryDirectory() as workdir:
        started = time.monotonic()
        service = load_service(args.index_dir, Path(workdir))
        print(f"service ready          {time.monotonic() - started:.1f} s")
        return asyncio.run(load(service, args.chats, args.questions, args.timeout))


if __name__ == "__main__":
    sys.exit(main())
