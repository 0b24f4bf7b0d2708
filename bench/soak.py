"""Soak-test `newsdesk serve --telegram`: one server process under a long mixed load, counting
every failure and watching its memory.

Starts the installed `newsdesk` console script as an operator would (environment variables
only), with the bot polling a stand-in Bot API server (tests/telegram_standin.py) run here on
127.0.0.1, and drives it at the same time:

- over HTTP from a few concurrent clients: new conversations, follow-ups in them, /more,
  filtered questions, searches, articles, forgetting a session, and bad inputs (empty, too long,
  invalid JSON, bad dates, unknown sessions, an oversized body) that must get their 4xx;
- over Telegram from many chats, each waiting for the reply to one update before it sends the
  next: questions, follow-ups, /more, /sources, commands, long messages and inline buttons.

The session cap is set low so least-recently-used conversations are dropped all along. The
server's RSS is sampled after warm-up (the first 10 % of the work), half-way and at the end;
then it is stopped with SIGTERM. Exits 1 if a target is missed: no server error (a 5xx, a
dropped connection, a 4xx on a good request or a 2xx on a bad one), no lost Telegram reply,
RSS growth after warm-up ≤ 10 %, exit status 0 with no traceback on stderr.

    .venv/bin/python bench/soak.py [--http 20000] [--telegram 2000] [--index-dir DIR]

Without --index-dir it builds an index of corpus/ and tests/data/newsroom/ in a temporary folder.
What the clients and chats send, and the answers each must get, is in bench/soak_traffic.py.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from soak_traffic import (  # noqa: E402 (bench/ is on the path: it holds this script)
    HTTP_WEIGHTS,
    TELEGRAM_WEIGHTS,
    HttpTally,
    Replies,
    TelegramTally,
    http_load,
    telegram_load,
)

from tests.cli.process import NEWSDESK, user_env  # noqa: E402
from tests.telegram_standin import StandInBotApi, StandInServer  # noqa: E402

TARGET_RSS_GROWTH_PCT = 10.0
COMPLAINT = re.compile(r"(WARNING|ERROR|CRITICAL)\b")  # a server log line worth showing

# ---- the server --------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def build_default_index(workdir: Path, env: dict[str, str]) -> Path:
    """corpus/ and tests/data/newsroom/ indexed with `newsdesk index build` (a few seconds)."""
    corpus = workdir / "corpus"
    shutil.copytree(ROOT / "corpus", corpus / "seed")
    shutil.copytree(ROOT / "tests" / "data" / "newsroom", corpus / "newsroom")
    index_dir = workdir / "index"
    command = [str(NEWSDESK), "index", "build", "--corpus", str(corpus)]
    done = subprocess.run(
        [*command, "--index-dir", str(index_dir)], env=env, cwd=workdir, capture_output=True
    )
    if done.returncode:
        raise SystemExit(f"newsdesk index build failed:\n{done.stderr.decode(errors='replace')}")
    return index_dir


@dataclass
class Server:
    """`newsdesk serve --telegram` in a child process; stdout and stderr go to `log`."""

    process: subprocess.Popen[bytes]
    log: Path
    base_url: str

    @classmethod
    def start(cls, env: dict[str, str], workdir: Path, port: int) -> Server:
        log = workdir / "server.log"
        with log.open("wb") as sink:  # the child keeps its own descriptor
            process = subprocess.Popen(
                [str(NEWSDESK), "serve", "--telegram"],
                env=env,
                cwd=workdir,  # no .env from wherever the soak was started
                stdin=subprocess.DEVNULL,
                stdout=sink,
                stderr=sink,
            )
        return cls(process, log, f"http://127.0.0.1:{port}")

    def wait_ready(self, api: StandInBotApi, timeout_s: float = 180) -> dict[str, Any]:
        """/health answers and the bot polls for updates."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(
                    f"the server exited with {self.process.returncode}:\n{self.tail()}"
                )
            try:
                health = httpx.get(f"{self.base_url}/health", timeout=2)
                if health.status_code == 200 and api.calls_of("getUpdates"):
                    return health.json()
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise SystemExit(f"the server was not ready in {timeout_s:.0f} s:\n{self.tail()}")

    def rss_bytes(self) -> int:
        """Resident memory of the server and any children it started."""
        process = psutil.Process(self.process.pid)
        total = process.memory_info().rss
        for child in process.children(recursive=True):
            with contextlib.suppress(psutil.NoSuchProcess):  # it ended meanwhile
                total += child.memory_info().rss
        return total

    def terminate(self, timeout_s: float = 30) -> int | None:
        """SIGTERM, as a service manager stops it; the exit status (None if it hung)."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout_s)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            return None

    def stderr(self) -> str:
        return self.log.read_text(errors="replace")

    def tail(self, lines: int = 40) -> str:
        return "\n".join(self.stderr().splitlines()[-lines:])


# ---- progress and memory -----------------------------------------------------------------


@dataclass
class Progress:
    """Work done so far (HTTP requests and Telegram updates together), and the server's RSS
    sampled as it passes 10 % (after warm-up) and 50 %, then at the end."""

    total: int
    rss: Callable[[], int]
    http_done: int = 0
    samples: dict[str, int] = field(default_factory=dict)
    peak: int = 0
    started: float = field(default_factory=time.monotonic)
    _done: int = 0

    def tick(self, *, http: bool) -> None:
        self._done += 1
        self.http_done += http
        for name, share in (("start", 0.10), ("middle", 0.50)):
            if name not in self.samples and self._done >= share * self.total:
                self.samples[name] = self.sample()

    def sample(self) -> int:
        rss = self.rss()
        self.peak = max(self.peak, rss)
        return rss

    async def watch_peak(self, every_s: float = 1.0) -> None:
        while True:
            self.sample()
            await asyncio.sleep(every_s)


# ---- the run -----------------------------------------------------------------------------


def percentile(values: list[float], share: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


async def drive(
    server: Server, api: StandInBotApi, args: argparse.Namespace
) -> tuple[HttpTally, TelegramTally, Replies, Progress]:
    progress = Progress(args.http + args.telegram, server.rss_bytes)
    http, telegram, replies = HttpTally(), TelegramTally(), Replies(api)
    watchers = [asyncio.create_task(replies.follow()), asyncio.create_task(progress.watch_peak())]
    try:
        await asyncio.gather(
            http_load(server.base_url, args.http, args.clients, args.seed, http, progress),
            telegram_load(
                api, replies, args.telegram, args.chats, args.seed, telegram, progress,
                args.http, args.reply_timeout,
            ),
        )  # fmt: skip
    finally:
        for watcher in watchers:
            watcher.cancel()
    replies.scan()
    progress.samples["end"] = progress.sample()
    return http, telegram, replies, progress


def print_http(tally: HttpTally) -> None:
    print(f"\n{'HTTP requests by kind':<28}{'sent':>7}{'2xx':>7}{'exp.4xx':>9}{'errors':>8}")
    for kind in HTTP_WEIGHTS:
        if tally.sent[kind]:
            print(
                f"  {kind:<26}{tally.sent[kind]:>7}{tally.ok[kind]:>7}"
                f"{tally.refused[kind]:>9}{tally.errors[kind]:>8}"
            )
    totals = (sum(c.values()) for c in (tally.sent, tally.ok, tally.refused, tally.errors))
    print("  {:<26}{:>7}{:>7}{:>9}{:>8}".format("total", *totals))
    print(
        f"HTTP latency: p50 {percentile(tally.latencies_ms, 0.5):.1f} ms, "
        f"p99 {percentile(tally.latencies_ms, 0.99):.1f} ms; "
        f"{len(tally.sessions)} conversations started over HTTP"
    )
    for example in tally.examples:
        print("  error:", example)


def print_telegram(tally: TelegramTally, replies: Replies) -> tuple[int, int]:
    """The table; returns (lost replies, refused Bot API calls)."""
    lost = Counter(kind for key, (kind, _) in tally.expected.items() if key not in replies.seen)
    print(f"\n{'Telegram updates by kind':<28}{'sent':>7}{'replied':>9}{'late':>6}{'lost':>6}")
    for kind in TELEGRAM_WEIGHTS:
        if tally.sent[kind]:
            replied = tally.sent[kind] - lost[kind]
            print(
                f"  {kind:<26}{tally.sent[kind]:>7}{replied:>9}{tally.late[kind]:>6}{lost[kind]:>6}"
            )
    waits = [
        replies.seen[key] - at for key, (_, at) in tally.expected.items() if key in replies.seen
    ]
    print(
        f"Telegram update→reply: p50 {percentile(waits, 0.5) * 1000:.0f} ms, "
        f"p99 {percentile(waits, 0.99) * 1000:.0f} ms"
    )
    refused = replies.api.failures()
    for call in refused[:10]:
        print("  refused:", call.method, call.description)
    return sum(lost.values()), len(refused)


def report(
    http: HttpTally,
    telegram: TelegramTally,
    replies: Replies,
    progress: Progress,
    duration_s: float,
    exit_status: int | None,
    stderr: str,
) -> bool:
    """Print the summary; whether every target was met."""
    print_http(http)
    lost, refused = print_telegram(telegram, replies)
    http_errors = sum(http.errors.values())
    pending = replies.api.pending_updates()
    mib = {name: rss / 2**20 for name, rss in progress.samples.items()}
    growth = 100 * (progress.samples["end"] / progress.samples["start"] - 1)
    traceback = "Traceback" in stderr
    complaints = [line for line in stderr.splitlines() if COMPLAINT.match(line)]
    print()
    print(f"HTTP errors: {http_errors}")
    print(f"lost Telegram replies: {lost}")
    print(f"Telegram apologies: {replies.apologies}; refused Bot API calls: {refused}; "
          f"updates left unread: {pending}")  # fmt: skip
    print(
        f"server RSS: start {mib['start']:.1f} MiB (after 10 %), middle {mib['middle']:.1f} MiB, "
        f"end {mib['end']:.1f} MiB, peak {progress.peak / 2**20:.1f} MiB"
    )
    print(f"RSS growth after warm-up: {growth:+.1f} %")
    total_http, total_telegram = sum(http.sent.values()), sum(telegram.sent.values())
    print(
        f"duration: {duration_s:.1f} s ({total_http / duration_s:.1f} HTTP requests/s, "
        f"{total_telegram / duration_s:.1f} Telegram updates/s)"
    )
    print(
        f"server exit status after SIGTERM: {exit_status}; traceback on stderr: "
        f"{'yes' if traceback else 'no'}; warnings and errors logged: {len(complaints)}"
    )
    for line in complaints[:5]:
        print("  logged:", line[:160])
    targets = {
        "0 HTTP errors": http_errors == 0,
        "0 lost Telegram replies": lost == 0 and replies.apologies == 0 and refused == 0,
        f"RSS growth ≤ {TARGET_RSS_GROWTH_PCT:g} %": growth <= TARGET_RSS_GROWTH_PCT,
        "clean exit (status 0, no traceback)": exit_status == 0 and not traceback,
    }
    print("targets: " + "; ".join(f"{n}: {'met' if ok else 'MISSED'}" for n, ok in targets.items()))
    return all(targets.values())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--http", type=int, default=20_000, help="HTTP requests (mixed).")
    parser.add_argument("--telegram", type=int, default=2_000, help="Telegram updates (mixed).")
    parser.add_argument("--clients", type=int, default=6, help="Concurrent HTTP clients.")
    parser.add_argument("--chats", type=int, default=40, help="Telegram chats.")
    parser.add_argument("--index-dir", type=Path, help="An existing index (default: build one).")
    parser.add_argument("--max-sessions", type=int, default=64, help="NEWSDESK_MAX_SESSIONS.")
    parser.add_argument(
        "--rate-per-minute", type=int, default=100_000, help="NEWSDESK_TELEGRAM_RATE_PER_MINUTE."
    )
    parser.add_argument("--cache-dir", type=Path, help="NEWSDESK_CACHE_DIR (the model export).")
    parser.add_argument("--reply-timeout", type=float, default=60.0, help="Seconds per update.")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--log", type=Path, help="Keep the server's stderr here.")
    args = parser.parse_args()
    if args.http < 0 or args.telegram < 0 or args.http + args.telegram < 1:
        parser.error("--http and --telegram must be ≥ 0, and not both 0")
    if not NEWSDESK.exists():
        raise SystemExit(f"no {NEWSDESK}: run with the project's .venv/bin/python")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))  # so `finally` stops the server

    cache = {"cache_dir": args.cache_dir.resolve()} if args.cache_dir else {}
    with tempfile.TemporaryDirectory(prefix="newsdesk-soak-") as tmp, StandInServer() as standin:
        workdir = Path(tmp)
        index_dir = args.index_dir.resolve() if args.index_dir else None
        index_dir = index_dir or build_default_index(workdir, user_env(**cache))
        port = free_port()
        env = user_env(
            index_dir=index_dir,
            port=port,
            max_sessions=args.max_sessions,
            telegram_token=standin.api.token,
            telegram_base_url=standin.base_url,
            telegram_rate_per_minute=args.rate_per_minute,
            **cache,
        )
        server = Server.start(env, workdir, port)
        try:
            health = server.wait_ready(standin.api)
            print(
                f"newsdesk serve --telegram (pid {server.process.pid}): {health['articles']} "
                f"articles, {health['chunks']} chunks; {args.http} HTTP requests from "
                f"{args.clients} clients, {args.telegram} Telegram updates from {args.chats} "
                f"chats; NEWSDESK_MAX_SESSIONS={args.max_sessions}",
                flush=True,
            )
            started = time.monotonic()
            http, telegram, replies, progress = asyncio.run(drive(server, standin.api, args))
            duration = time.monotonic() - started
        finally:
            exit_status = server.terminate()
            stderr = server.stderr()
            if args.log:
                shutil.copyfile(server.log, args.log)
        met = report(http, telegram, replies, progress, duration, exit_status, stderr)
        if not met:
            print("\nlast lines of the server's stderr:\n" + server.tail())
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
