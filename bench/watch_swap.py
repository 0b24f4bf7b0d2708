"""Time from dropping an article into a watched corpus to its being answerable over HTTP, and the
requests that fail meanwhile (target 0).

Starts the installed `newsdesk serve` and `newsdesk index watch --interval S` on a copy of an
index and a folder holding its corpus, as an operator would (environment variables only); client
threads ask questions without pause; then articles are dropped into the folder one at a time,
each timed until a client gets it cited. Both commands are stopped with SIGTERM and must exit 0
without a traceback. Exits 1 if a request failed or an article took longer than the interval
plus its update plus the follower's poll and 5 s of slack.

    .venv/bin/python bench/watch_swap.py [--corpus PATH --index-dir DIR] [--interval 5]
        [--drops 5] [--clients 4]

With --corpus and --index-dir (an index of that corpus, copied, never changed) it measures at
that size, e.g. the development corpus:
    --corpus ../shared/data/realtimeqa-2022/corpus.jsonl.gz --index-dir DEV_INDEX
Without them it indexes corpus/ and tests/data/newsroom/ in a temporary folder (seconds).
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.cli.process import NEWSDESK, user_env  # noqa: E402
from tests.cli.swap import STORIES, Askers, drop_and_wait, serve_and_watch  # noqa: E402

FOLLOW_S = 1.0
SLACK_S = 5.0
TEST_MODEL_CACHE = REPO / ".newsdesk" / "test-model-cache"


def watched_folder(corpus: Path, workdir: Path) -> Path:
    """A folder to watch holding `corpus`: a copy of a folder, or a link to a single file."""
    folder = workdir / "corpus"
    if corpus.is_dir():
        shutil.copytree(corpus, folder)
    else:
        folder.mkdir()
        (folder / corpus.name).symlink_to(corpus.resolve())
    return folder


def default_index(workdir: Path, env: dict[str, str]) -> tuple[Path, Path]:
    corpus = workdir / "seed"
    shutil.copytree(REPO / "corpus", corpus)
    shutil.copytree(REPO / "tests" / "data" / "newsroom", corpus, dirs_exist_ok=True)
    index_dir = workdir / "seed-index"
    done = subprocess.run(
        [str(NEWSDESK), "index", "build", "--corpus", str(corpus), "--index-dir", str(index_dir)],
        env=env,
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        raise SystemExit(f"newsdesk index build failed:\n{done.stderr}")
    return corpus, index_dir


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path)
    parser.add_argument("--index-dir", type=Path)
    parser.add_argument("--interval", type=float, default=5.0)
    parser.add_argument("--drops", type=int, default=len(STORIES), choices=range(1, 6))
    parser.add_argument("--clients", type=int, default=4)
    args = parser.parse_args()
    if (args.corpus is None) != (args.index_dir is None):
        parser.error("give both --corpus and --index-dir, or neither")
    cache = TEST_MODEL_CACHE if TEST_MODEL_CACHE.is_dir() else None
    env = user_env(**({"cache_dir": cache} if cache else {}))

    with tempfile.TemporaryDirectory(prefix="newsdesk-watch-") as tmp:
        workdir = Path(tmp)
        corpus, index_dir = (
            (args.corpus, args.index_dir) if args.corpus else default_index(workdir, env)
        )
        folder = watched_folder(corpus, workdir)
        shutil.copytree(index_dir, workdir / "index", symlinks=True)
        started = time.monotonic()
        with serve_and_watch(
            folder, workdir / "index", cache or Path.home() / ".cache" / "newsdesk", workdir,
            args.interval,
        ) as (base_url, server, watcher):  # fmt: skip
            print(f"serve and index watch ready in {time.monotonic() - started:.1f}s")
            askers = Askers(base_url, [story.question for story in STORIES[: args.drops]])
            with askers.running(threads=args.clients):
                watcher.wait_until(lambda: askers.total() >= 10)
                swaps = [
                    drop_and_wait(story, folder, askers, watcher, base_url, timeout=300)
                    for story in STORIES[: args.drops]
                ]
            statuses = [command.terminate(60) for command in (watcher, server)]
            stderr = watcher.stderr() + server.stderr()
            loads = [float(s) for s in re.findall(r"loaded in ([\d.]+)s", server.stderr())]

    print(f"index watch --interval {args.interval:g} + serve, {args.clients} clients asking:")
    slow = 0
    for story, swap in zip(STORIES, swaps, strict=False):
        bound = args.interval + swap.update_seconds + FOLLOW_S + SLACK_S
        slow += swap.seconds_to_answerable > bound
        print(
            f"  {story.file:<15} answerable after {swap.seconds_to_answerable:6.2f}s "
            f"(update {swap.update_seconds:.2f}s, bound {bound:.1f}s); "
            f"{swap.failed} failed of {swap.requests} requests meanwhile"
        )
    print(f"serve loaded each new generation in {', '.join(f'{s:.2f}s' for s in loads)}")
    times = sorted(swap.seconds_to_answerable for swap in swaps)
    print(
        f"drop to answerable: median {times[len(times) // 2]:.2f}s, worst {times[-1]:.2f}s; "
        f"failed requests: {askers.failed()} of {askers.total()} (target 0) {dict(askers.statuses)}"
    )
    print(f"exit statuses {statuses}; traceback on stderr: {'Traceback' in stderr}")
    clean = statuses == [0, 0] and "Traceback" not in stderr
    return 0 if askers.failed() == 0 and not slow and clean else 1


if __name__ == "__main__":
    raise SystemExit(main())
