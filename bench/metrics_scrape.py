"""What a Prometheus scrape of GET /metrics costs, idle and while the server answers questions.

Serves an index with `newsdesk serve` in a separate process on 127.0.0.1 (the seed corpus,
built into a temporary folder, unless --index-dir names one), then:

1. idle: scrapes /metrics `--scrapes` times, one after another;
2. under load: `--concurrency` clients ask questions in a closed loop for `--seconds` while one
   scraper reads /metrics every `--interval` seconds (Prometheus scrapes every 15-60 s; this is
   far more often, to get enough samples); prints the scrapes' and the questions' latency;
3. in process: the CPU time to render a registry holding every series a busy server has
   (what a scrape costs the server, whatever else competes for the cores).

Target: a scrape under load costs < 2 ms p50.

    .venv/bin/python bench/metrics_scrape.py [--index-dir DIR] [--seconds 20] [--concurrency 8]
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DEV_QUESTIONS = ROOT.parent / "shared" / "data" / "realtimeqa-2022" / "questions.jsonl.gz"
SEED_QUESTIONS = [
    "What did Blinken say about a multinational force?",
    "Who said more must be done to protect Palestinian civilians?",
    "What do you have on Blinken?",
    "Timeline of the Gaza talks",
    "Who won the 2022 World Cup?",
]
TARGET_P50_MS = 2.0


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def line(name: str, values_ms: list[float]) -> str:
    return (
        f"{name:<28} n={len(values_ms):<5} p50 {percentile(values_ms, 0.5):7.2f} ms  "
        f"p95 {percentile(values_ms, 0.95):7.2f} ms  p99 {percentile(values_ms, 0.99):7.2f} ms"
    )


def questions() -> list[str]:
    if not DEV_QUESTIONS.exists():
        return SEED_QUESTIONS
    with gzip.open(DEV_QUESTIONS, "rt", encoding="utf-8") as handle:
        asked = [json.loads(row)["question"] for row in handle if row.strip()]
    return SEED_QUESTIONS + asked[:300]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def newsdesk(*args: str, env: dict[str, str]) -> list[str]:
    return [sys.executable, "-c", "from bot.cli import app; app()", *args]


def serve(index_dir: Path, port: int, env: dict[str, str]) -> subprocess.Popen[bytes]:
    command = newsdesk("serve", "--port", str(port), "--index-dir", str(index_dir), env=env)
    quiet = subprocess.DEVNULL  # the access log
    return subprocess.Popen(command, cwd=ROOT, env=env, stdout=quiet, stderr=quiet)


def wait_ready(base: str, server: subprocess.Popen[bytes], timeout_s: float = 180.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"the server exited with status {server.returncode}")
        try:
            if httpx.get(f"{base}/health", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise SystemExit("the server did not become ready in time")


async def scrape_once(client: httpx.AsyncClient, path: str = "/metrics") -> float:
    started = time.perf_counter()
    response = await client.get(path)
    response.raise_for_status()
    return (time.perf_counter() - started) * 1000


async def idle(base: str, count: int) -> tuple[list[float], list[float]]:
    """Scrapes, and as many GET /health (the cheapest route) in alternation: the baseline."""
    scrapes, probes = [], []
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        await scrape_once(client)  # connection set up
        for _ in range(count):
            scrapes.append(await scrape_once(client))
            probes.append(await scrape_once(client, "/health"))
    return scrapes, probes


async def under_load(
    base: str, asked: list[str], concurrency: int, seconds: float, interval: float
) -> tuple[list[float], list[float], list[float], int, int]:
    """(scrape latencies, /health latencies taken in alternation with them, question
    latencies, errors, scrape body bytes at the end)."""
    stop = time.monotonic() + seconds
    scrapes: list[float] = []
    probes: list[float] = []
    answers: list[float] = []
    errors = 0

    async def asker(n: int) -> None:
        nonlocal errors
        async with httpx.AsyncClient(base_url=base, timeout=60) as client:
            i = n
            while time.monotonic() < stop:
                started = time.perf_counter()
                response = await client.post("/ask", json={"question": asked[i % len(asked)]})
                if response.status_code == 200:
                    answers.append((time.perf_counter() - started) * 1000)
                else:
                    errors += 1
                i += concurrency

    async def scraper() -> int:
        async with httpx.AsyncClient(base_url=base, timeout=30) as client:
            await scrape_once(client)
            while time.monotonic() < stop:
                scrapes.append(await scrape_once(client))
                probes.append(await scrape_once(client, "/health"))
                await asyncio.sleep(interval)
            return len((await client.get("/metrics")).content)

    *_, size = await asyncio.gather(*(asker(n) for n in range(concurrency)), scraper())
    return scrapes, probes, answers, errors, size


def in_process(repeat: int = 2000) -> tuple[list[float], int]:
    """Render a registry with every route × a few statuses, all kinds, reasons and stages."""
    from bot.metrics import KINDS, STAGES, Metrics
    from retrieval.schema import ABSTAIN_REASONS

    metrics = Metrics()
    routes = ["/ask", "/search", "/coverage", "/timeline", "/articles/{article_id:path}",
              "/sessions/{session_id}", "/sessions/{session_id}/more", "/health", "/metrics",
              "/", "/static", "unmatched"]  # fmt: skip
    for route in routes:
        for status in ("200", "404", "422", "503"):
            metrics.http_requests.labels(route, "GET", status).inc()
        metrics.http_seconds.labels(route).observe(0.01)
    for kind in KINDS:
        metrics.answers.labels(kind).inc()
    for reason in ABSTAIN_REASONS:
        metrics.abstentions.labels(reason).inc()
    for stage in STAGES:
        metrics.stage_seconds.labels(stage).observe(0.003)
    timings = []
    for _ in range(repeat):
        started = time.thread_time()  # CPU time: what a scrape costs the server
        body, _ = metrics.exposition()
        timings.append((time.thread_time() - started) * 1000)
    return timings, len(body)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index-dir", type=Path, default=None)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--interval", type=float, default=0.05)
    parser.add_argument("--scrapes", type=int, default=300)
    args = parser.parse_args()
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    env = {k: v for k, v in env.items() if k != "NEWSDESK_LOG_FORMAT"}
    with tempfile.TemporaryDirectory(prefix="newsdesk-scrape-") as work:
        index_dir = args.index_dir
        if index_dir is None:
            index_dir = Path(work) / "index"
            build = newsdesk("index", "build", "--corpus", str(ROOT / "corpus"),
                             "--index-dir", str(index_dir), env=env)  # fmt: skip
            subprocess.run(build, cwd=ROOT, env=env, check=True, capture_output=True)
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        server = serve(index_dir, port, env)
        try:
            wait_ready(base, server)
            quiet, quiet_probes = asyncio.run(idle(base, args.scrapes))
            asked = questions()
            scrapes, probes, answers, errors, size = asyncio.run(
                under_load(base, asked, args.concurrency, args.seconds, args.interval)
            )
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=60)
    rendered, rendered_size = in_process()
    print(f"server: {index_dir}; {args.concurrency} clients asking for {args.seconds:g} s")
    print(line("scrape, idle", quiet))
    print(line("GET /health, idle", quiet_probes))
    print(line("scrape, under load", scrapes) + f"  ({size:,} bytes)")
    print(line("GET /health, under load", probes) + "  (taken after each scrape: the baseline)")
    print(line("/ask, under load", answers) + f"  errors {errors}, "
          f"{len(answers) / args.seconds:.1f} answers/s")  # fmt: skip
    print(line("render CPU, in process", rendered) + f"  ({rendered_size:,} bytes, "
          f"mean {statistics.fmean(rendered):.3f} ms)")  # fmt: skip
    extra = percentile(scrapes, 0.5) - percentile(probes, 0.5)
    cost = percentile(rendered, 0.5)
    verdict = "meets" if cost < TARGET_P50_MS else "misses"
    print(
        f"a scrape costs the server {cost:.2f} ms CPU (p50) and adds {extra:.2f} ms to the "
        f"latency of the cheapest route under load: {verdict} the < {TARGET_P50_MS:g} ms target"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
