"""What the replica benches share: an index built by `newsdesk index build`, a private
redis-server, and `newsdesk serve` replicas started as a user starts them (environment
variables only), all on 127.0.0.1.

Used by `bench/http_load.py --replicas 2` (bench/replicas_http.py) and
`bench/telegram_load.py --webhook` (bench/replicas_telegram.py).
"""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.cli.process import free_port, user_env  # noqa: E402
from tests.redis_server import REDIS_SERVER, RedisServer  # noqa: E402

NEWSDESK = Path(sys.executable).with_name("newsdesk")
NEWSROOM = ROOT / "tests" / "data" / "newsroom"


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def build_newsroom_index(workdir: Path) -> Path:
    """An index over corpus/ plus tests/data/newsroom (eight articles, several outlets)."""
    corpus = workdir / "corpus"
    shutil.copytree(ROOT / "corpus", corpus)
    shutil.copytree(NEWSROOM, corpus, dirs_exist_ok=True)
    index_dir = workdir / "index"
    subprocess.run(
        [str(NEWSDESK), "index", "build", "--corpus", str(corpus), "--index-dir", str(index_dir)],
        env=user_env(),
        check=True,
        capture_output=True,
    )
    return index_dir


@contextlib.contextmanager
def redis_server(workdir: Path) -> Iterator[RedisServer]:
    if REDIS_SERVER is None:
        raise SystemExit("redis-server is not installed (make redis)")
    folder = workdir / "redis"
    folder.mkdir()
    server = RedisServer(folder)
    server.start()
    try:
        yield server
    finally:
        server.kill()


@contextlib.contextmanager
def replicas(
    count: int, index_dir: Path, workdir: Path, *args: str, **env: str | Path
) -> Iterator[list[str]]:
    """`count` `newsdesk serve ARGS` processes on free ports; their base URLs once healthy."""
    ports = [free_port() for _ in range(count)]
    environment = user_env(index_dir=index_dir, **env)
    logs = [(workdir / f"replica-{port}.log").open("w") for port in ports]
    processes = [
        subprocess.Popen(
            [str(NEWSDESK), "serve", "--port", str(port), *args],
            env=environment,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=log,
        )
        for port, log in zip(ports, logs, strict=True)
    ]
    urls = [f"http://127.0.0.1:{port}" for port in ports]
    try:
        for url, process, port in zip(urls, processes, ports, strict=True):
            _wait_healthy(url, process, workdir / f"replica-{port}.log")
        yield urls
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
        for log in logs:
            log.close()


def _wait_healthy(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"a replica exited with {process.returncode}:\n{log.read_text()}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                return
        time.sleep(0.1)
    raise SystemExit(f"the replica at {url} was not ready in time")
