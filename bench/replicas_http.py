"""Conversations over HTTP on one `newsdesk serve` and on two replicas sharing Redis sessions.

A closed loop of CLIENTS clients, each holding conversations of seven turns (follow-ups that
lean on the turns before them, and a POST /sessions/{id}/more); on two replicas each client's
turns alternate between them. Prints requests/s, p50/p99 and errors for each setting, and how
many follow-ups were rewritten otherwise than one process rewrites them with the whole history
(0 expected). Then what the Redis store costs a request in-process (a get and a save of a
ten-turn conversation) and its stored size.

    .venv/bin/python bench/http_load.py --replicas 2 [--clients 8] [--conversations 3]
    .venv/bin/python bench/replicas_http.py [same options]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))

from replicas import ROOT, build_newsroom_index, percentile, redis_server, replicas  # noqa: E402

from tests.cli.replica_conversation import CONVERSATION, MORE  # noqa: E402

MODEL_CACHE = ROOT / ".newsdesk" / "test-model-cache"


@dataclass
class Run:
    name: str
    latencies_ms: list[float] = field(default_factory=list)
    errors: int = 0
    wrong_rewrites: int = 0
    wall_s: float = 0.0

    def line(self) -> str:
        lat = self.latencies_ms or [float("nan")]
        rps = len(self.latencies_ms) / self.wall_s if self.wall_s else 0.0
        return (
            f"{self.name:<28} n={len(lat) + self.errors:<4} {rps:6.1f} req/s  "
            f"p50 {percentile(lat, 0.5):6.1f} ms  p99 {percentile(lat, 0.99):6.1f} ms  "
            f"errors {self.errors}  follow-ups without their history {self.wrong_rewrites}"
        )


async def turn(client: httpx.AsyncClient, url: str, question: str, session: str | None) -> dict:
    if question == MORE:
        response = await client.post(f"{url}/sessions/{session}/more")
    else:
        body = {"question": question, "session_id": session}
        response = await client.post(f"{url}/ask", json=body)
    response.raise_for_status()
    return response.json()


async def reference(url: str) -> list[str | None]:
    """Each turn's rewritten query as one process gives it (also warms the server up)."""
    async with httpx.AsyncClient(timeout=60) as client:
        session, rewrites = None, []
        for question in CONVERSATION:
            answer = await turn(client, url, question, session)
            session = answer["session_id"]
            rewrites.append(answer["rewritten_query"])
        return rewrites


async def closed_loop(
    name: str, urls: list[str], clients: int, conversations: int, expected: list[str | None]
) -> Run:
    run = Run(name)

    async def client_loop(number: int, client: httpx.AsyncClient) -> None:
        for _ in range(conversations):
            session = None
            for position, question in enumerate(CONVERSATION):
                url = urls[(number + position) % len(urls)]
                started = time.perf_counter()
                try:
                    answer = await turn(client, url, question, session)
                except (httpx.HTTPError, ValueError):
                    run.errors += 1
                    break  # the conversation cannot go on without its session
                run.latencies_ms.append(1000 * (time.perf_counter() - started))
                session = answer["session_id"]
                if answer["rewritten_query"] != expected[position]:
                    run.wrong_rewrites += 1

    async with httpx.AsyncClient(timeout=60) as client:
        started = time.perf_counter()
        await asyncio.gather(*(client_loop(n, client) for n in range(clients)))
        run.wall_s = time.perf_counter() - started
    return run


def store_cost(redis_url: str, index_dir: Path, turns: int = 10, rounds: int = 200) -> str:
    """Per-request cost of the Redis store in-process: a get and a save of a conversation of
    `turns` real turns, and its stored size."""
    from bot.service import NewsdeskService
    from bot.settings import Settings
    from retrieval.sessions import encode_conversation

    settings = Settings(index_dir=index_dir, cache_dir=MODEL_CACHE, sessions=redis_url)
    service = NewsdeskService.from_settings(settings)
    questions = [q for q in CONVERSATION if q != MORE]
    session = None
    for number in range(turns):
        session = service.ask(questions[number % len(questions)], session_id=session).session_id
    store = service.sessions
    size = len(encode_conversation(store.find(session)).encode())
    timings = []
    for _ in range(rounds):
        started = time.perf_counter()
        store.save(store.get(session))
        timings.append(1000 * (time.perf_counter() - started))
    return (
        f"Redis store, {turns}-turn conversation: {size} bytes stored; get + save "
        f"p50 {statistics.median(timings):.2f} ms, p99 {percentile(timings, 0.99):.2f} ms"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replicas", type=int, default=2)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--conversations", type=int, default=3, help="per client")
    parser.add_argument("--index-dir", type=Path, help="an existing index (default: the newsroom)")
    args, _ = parser.parse_known_args(argv)
    loop = (args.clients, args.conversations)
    with tempfile.TemporaryDirectory(prefix="newsdesk-replicas-") as folder:
        workdir = Path(folder)
        index_dir = args.index_dir or build_newsroom_index(workdir)
        with replicas(1, index_dir, workdir, cache_dir=MODEL_CACHE) as urls:
            expected = asyncio.run(reference(urls[0]))
            runs = [asyncio.run(closed_loop("1 process, memory sessions", urls, *loop, expected))]
        with redis_server(workdir) as redis:
            env = {"cache_dir": MODEL_CACHE, "sessions": redis.url}
            for count in (1, args.replicas):
                with replicas(count, index_dir, workdir, **env) as urls:
                    for url in urls:  # warm each replica up
                        asyncio.run(reference(url))
                    name = f"{count} {'process' if count == 1 else 'replicas'}, Redis sessions"
                    runs.append(asyncio.run(closed_loop(name, urls, *loop, expected)))
            cost = store_cost(redis.url, index_dir)
    print(f"{args.clients} clients, closed loop, conversations of {len(CONVERSATION)} turns "
          "(alternating replicas)")  # fmt: skip
    for run in runs:
        print(run.line())
    print(cost)
    return 1 if any(run.errors or run.wrong_rewrites for run in runs) else 0


if __name__ == "__main__":
    sys.exit(main())
