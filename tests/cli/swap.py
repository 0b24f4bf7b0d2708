"""What the `index watch` process tests and bench/watch_swap.py share: `serve` and `index watch`
started on one corpus, clients asking over HTTP without pause and counting every response, and
an article dropped into the watched folder, timed until the clients get it cited."""

from __future__ import annotations

import datetime
import re
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from tests.cli.process import RunningCommand, free_port, healthy, running_newsdesk, user_env

UPDATED = re.compile(r"index updated in ([\d.]+)s: (\d+) added.*generation (gen-[\w-]+)")


@dataclass(frozen=True)
class Story:
    file: str  # .txt, or .rss: a feed with this one entry
    title: str
    outlet: str
    day: str
    body: str
    question: str

    def content(self) -> str:
        if self.file.endswith(".rss"):
            day = datetime.date.fromisoformat(self.day)
            published = day.strftime("%a, %d %b %Y 09:00:00 +0000")
            return (
                f'<?xml version="1.0"?><rss version="2.0"><channel><title>{self.outlet}</title>'
                f"<item><title>{self.title}</title><link>https://news.example.org/{self.file}</link>"
                f"<pubDate>{published}</pubDate><description>{self.body}</description></item>"
                "</channel></rss>\n"
            )
        return f"Title: {self.title}\n{self.day} ({self.outlet}) - {self.body}\n"


STORIES = [
    Story(
        "lighthouse.txt",
        "Lighthouse keeper retires after 41 years",
        "Harbour Gazette",
        "2024-03-08",
        "Marta Oyelaran, the last lighthouse keeper on the north cape, retired on Friday after "
        "41 years, handing the light over to an automatic lamp.",
        "When did the lighthouse keeper Marta Oyelaran retire?",
    ),
    Story(
        "glacier.txt",
        "Glacier museum opens in Tromvik",
        "Valley Times",
        "2024-03-09",
        "A museum about the Tromvik glacier opened on Saturday, showing ice cores drilled by the "
        "geologist Ingrid Halvorsrud over three decades.",
        "What does the Tromvik glacier museum show?",
    ),
    Story(
        "hill-post.rss",
        "Youth orchestra wins the Lindqvist prize",
        "Hill Post",
        "2024-03-10",
        "The Kestrel Youth Orchestra won the Lindqvist prize on Sunday for its recording of a "
        "symphony by the composer Tove Marsalek.",
        "Which prize did the Kestrel Youth Orchestra win?",
    ),
    Story(
        "bakery.txt",
        "Bakery cooperative buys the old mill",
        "Harbour Gazette",
        "2024-03-11",
        "A bakery cooperative led by Dario Vukelic bought the old flour mill on Monday and plans "
        "to grind its own rye there from the autumn.",
        "Who leads the bakery cooperative that bought the old mill?",
    ),
    Story(
        "tramline.txt",
        "Tram line to the airport approved",
        "Valley Times",
        "2024-03-12",
        "The regional council approved a tram line to Orsby airport on Tuesday; the transport "
        "director Selma Quarshie said building starts in June.",
        "When does building of the tram line to Orsby airport start?",
    ),
]


@dataclass
class Askers:
    """Client threads asking questions over HTTP without pause, counting every response."""

    base_url: str
    questions: list[str]
    statuses: Counter[int | str] = field(default_factory=Counter)
    cited: dict[str, list[str]] = field(default_factory=dict)  # question → titles last cited
    _stop: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def ask_forever(self, offset: int) -> None:
        with httpx.Client(base_url=self.base_url, timeout=60) as client:
            n = offset
            while not self._stop.is_set():
                question = self.questions[n % len(self.questions)]
                n += 1
                try:
                    response = client.post("/ask", json={"question": question})
                except httpx.HTTPError as error:
                    with self._lock:
                        self.statuses[type(error).__name__] += 1
                    continue
                with self._lock:
                    self.statuses[response.status_code] += 1
                    if response.status_code == 200:
                        citations = response.json()["citations"]
                        self.cited[question] = [citation["title"] for citation in citations]

    def answered(self, story: Story) -> bool:
        with self._lock:
            return story.title in self.cited.get(story.question, [])

    def failed(self) -> int:
        with self._lock:
            return sum(count for status, count in self.statuses.items() if status != 200)

    def total(self) -> int:
        with self._lock:
            return sum(self.statuses.values())

    @contextmanager
    def running(self, threads: int = 2) -> Iterator[Askers]:
        workers = [
            threading.Thread(target=self.ask_forever, args=(n,), daemon=True)
            for n in range(threads)
        ]
        for worker in workers:
            worker.start()
        try:
            yield self
        finally:
            self._stop.set()
            for worker in workers:
                worker.join(60)


@dataclass(frozen=True)
class Swap:
    seconds_to_answerable: float
    update_seconds: float
    generation: str
    failed: int
    requests: int


def drop_and_wait(
    story: Story,
    corpus: Path,
    askers: Askers,
    watcher: RunningCommand,
    base_url: str,
    timeout: float = 60,
) -> Swap:
    """Write `story` into the watched folder; wait until the HTTP clients get it cited."""
    updates_before = len(UPDATED.findall(watcher.stderr()))
    failed_before, requests_before = askers.failed(), askers.total()
    assert not askers.answered(story)
    dropped = time.monotonic()
    (corpus / story.file).write_text(story.content(), encoding="utf-8")
    watcher.wait_until(lambda: askers.answered(story), timeout=timeout)
    answerable = time.monotonic() - dropped
    seconds, added, generation = UPDATED.findall(watcher.stderr())[updates_before]
    assert added == "1"
    assert httpx.get(f"{base_url}/health", timeout=30).json()["generation"] == generation
    return Swap(
        answerable,
        float(seconds),
        generation,
        askers.failed() - failed_before,
        askers.total() - requests_before,
    )


@contextmanager
def serve_and_watch(
    corpus: Path, index_dir: Path, model_cache: Path, log_dir: Path, interval_s: float
) -> Iterator[tuple[str, RunningCommand, RunningCommand]]:
    """`newsdesk serve` over `index_dir` and `newsdesk index watch` on `corpus` (an index of
    it): its URL and both commands, once both are ready and the index is up to date."""
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    env = user_env(index_dir=index_dir, cache_dir=model_cache, port=port, corpus=corpus)
    with ExitStack() as stack:
        server = stack.enter_context(running_newsdesk("serve", env=env, log_dir=log_dir))
        watcher = stack.enter_context(
            running_newsdesk(
                "index", "watch", "--interval", f"{interval_s:g}", env=env, log_dir=log_dir
            )  # fmt: skip
        )
        server.wait_until(lambda: healthy(base_url), timeout=300)
        watcher.wait_until(lambda: _current(watcher.stderr()), timeout=600)
        yield base_url, server, watcher


def stop_cleanly(*commands: RunningCommand) -> None:
    for command in commands:
        status, stderr = command.terminate(), command.stderr()
        assert status == 0, stderr
        assert "Traceback" not in stderr and "ERROR" not in stderr, stderr


def _current(log: str) -> bool:
    """The watch found the index up to date, or has brought it up to date."""
    return "up to date" in log or UPDATED.search(log) is not None
