"""How serving scales: open time, memory, latency and approximate recall on a large index.

Usage: .venv/bin/python bench/scale.py [--chunks N] [--json] [--index-dir DIR] [--source DIR]

Without --index-dir it uses the SYNTHETIC index of `bench/scale_index.py` under
/tmp/newsdesk-scale-<N> (1m for a million, else <N/1000>k), writing it first from --source
(an encoded development index) when it is not there yet. Prints, in one process with the
model loaded (only the index's opening is timed):

- open: seconds to open the index and ready its search structures; RSS after it;
- ask p50/p95 over 1,000 development questions (`service.ask`, in-process); RSS after them;
- recall@100 of the approximate dense search against an exact scan, on 500 questions;
- filtered `ask` p50 with a one-outlet filter (the smallest outlet) and a one-month filter;
- BM25 p50 (the local backend's top 100 over all chunks);
- `newsdesk index update` of one added article (a subprocess, model load included), and its
  share of a full build estimated at --build-rate chunks per second.

The update adds one article to the synthetic corpus and index (they keep it); with --index-dir
it runs when a corpus/ folder lies beside the index (as `bench/scale_index.py` writes them).
With --json the last line is one JSON object (index_dir, chunks, open_s, rss_mb_open,
rss_mb_after, ask_p50_ms, ask_p95_ms, recall_at_100, filtered_source_p50_ms,
filtered_month_p50_ms, bm25_p50_ms, update_s). Skips (exit 0) when the development questions
are absent.
"""

from __future__ import annotations

import argparse
import gzip
import itertools
import json
import os
import statistics
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, date, datetime
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

import numpy as np  # noqa: E402
from scale_index import CORPUS, INDEX, write_index  # noqa: E402

from bot.factories import make_embedder  # noqa: E402
from bot.service import NewsdeskService  # noqa: E402
from bot.settings import Settings  # noqa: E402
from index.backend import SearchFilters  # noqa: E402
from index.layout import has_index  # noqa: E402
from index.local_backend import LocalBackend  # noqa: E402
from index.vectors import set_threads  # noqa: E402
from retrieval.evaluate import load_questions  # noqa: E402

DEV_QUESTIONS = REPO.parent / "shared" / "data" / "realtimeqa-2022" / "questions.jsonl.gz"
DEFAULT_SOURCE = REPO / ".newsdesk" / "dev-index"
# A full build's chunks/s on this machine (`bench/index_build.py --articles 1000`, quiet), the
# default of --build-rate. A manifest's build time cannot stand in: after `index update` it is
# the update's.
BUILD_CHUNKS_PER_S = 126.7


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def timed_ms(call, *args, **kwargs) -> float:
    started = time.perf_counter()
    call(*args, **kwargs)
    return (time.perf_counter() - started) * 1000


def folder_for(chunks: int) -> Path:
    name = f"{chunks // 1_000_000}m" if chunks % 1_000_000 == 0 else f"{chunks // 1000}k"
    return Path("/tmp") / f"newsdesk-scale-{name}"


def add_one_article(corpus: Path) -> None:
    """A new corpus file with one new article (a new id each run)."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
    text = (
        "The city council voted on Tuesday to extend the night bus network to the harbour "
        "district, after residents asked for a late service for shift workers. The new routes "
        f"start next month. (Scale run {stamp}.)"
    )
    record = {"id": f"scale-update-{stamp}", "title": "Night buses reach the harbour",
              "source": "Scale Bench", "date": "2022-12-30", "text": text}  # fmt: skip
    with gzip.open(corpus / f"update-{stamp}.jsonl.gz", "wt", encoding="utf-8") as out:
        out.write(json.dumps(record) + "\n")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chunks", type=int, default=1_000_000)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--index-dir", type=Path, help="an index to measure instead")
    parser.add_argument("--source", type=Path, default=DEFAULT_SOURCE)
    parser.add_argument("--questions", type=int, default=1000)
    parser.add_argument("--no-update", action="store_true", help="leave the index as it is")
    parser.add_argument(
        "--build-rate",
        type=float,
        default=BUILD_CHUNKS_PER_S,
        help="a full build's chunks/s, to give the update as a share of one",
    )
    args = parser.parse_args()
    if not DEV_QUESTIONS.exists():
        print(f"skipped: development questions not found at {DEV_QUESTIONS}")
        return 0
    index_dir = args.index_dir
    corpus = None if index_dir is None else index_dir.parent / CORPUS  # as scale_index writes
    if corpus is not None and not corpus.is_dir():
        corpus = None
    if index_dir is None:
        folder = folder_for(args.chunks)
        index_dir, corpus = folder / INDEX, folder / CORPUS
        if not has_index(index_dir):
            if not has_index(args.source):
                print(f"skipped: no source index at {args.source} to copy vectors from")
                return 0
            written = write_index(args.source, folder, args.chunks)
            print(f"wrote the synthetic index: {json.dumps(written)}")

    settings = Settings(_env_file=None, index_dir=index_dir)
    embedder = make_embedder(settings)
    set_threads(embedder.threads)
    embedder.encode_query("warm up the model")
    started = time.perf_counter()
    service = NewsdeskService(settings, embedder)
    open_s = time.perf_counter() - started
    rss_open = rss_mb()
    reader = service.retriever.reader
    chunks = service.summary().chunks
    print(f"index {index_dir}: {service.summary().articles} articles, {chunks} chunks")
    print(f"open           {open_s:7.2f} s    RSS {rss_open:7.0f} MB")

    questions = [q.question for q in load_questions(DEV_QUESTIONS)]
    asked = list(itertools.islice(itertools.cycle(questions), args.questions))
    for question in asked[:10]:
        service.ask(question)
    ask_ms = [timed_ms(service.ask, q) for q in asked]
    rss_after = rss_mb()
    print(f"ask            p50 {statistics.median(ask_ms):6.1f} ms  p95 "
          f"{percentile(ask_ms, 0.95):6.1f} ms  ({len(asked)} questions)   "
          f"RSS {rss_after:7.0f} MB")  # fmt: skip

    vectors = np.stack([embedder.encode_query(q) for q in questions[:500]])
    recall = float("nan")
    if isinstance(reader, LocalBackend):
        store = reader.reader.vectors
        _, approximate = store.search(vectors, 100)
        _, exact = store.search(vectors, 100, exact=True)
        found = [len(set(a) & set(e)) / len(e) for a, e in zip(approximate, exact, strict=True)]
        recall = float(np.mean(found))
    print(f"recall@100     {recall:.4f}   (approximate vs exact dense, {len(vectors)} questions)")

    outlets = Counter(a.source for a in reader.articles.values() if a.source)
    smallest = min((o for o in outlets if outlets[o] > 50), key=outlets.__getitem__)
    by_source = SearchFilters(sources=(smallest,))
    by_month = SearchFilters(since=date(2022, 6, 1), until=date(2022, 6, 30))
    sample = questions[:200]
    source_ms = [timed_ms(service.ask, q, filters=by_source) for q in sample]
    month_ms = [timed_ms(service.ask, q, filters=by_month) for q in sample]
    print(f"filtered ask   p50 {statistics.median(source_ms):6.1f} ms  one outlet ({smallest}, "
          f"{outlets[smallest]} articles); p50 {statistics.median(month_ms):6.1f} ms  "
          f"June 2022")  # fmt: skip
    bm25_ms = float("nan")
    if isinstance(reader, LocalBackend):
        bm25_ms = statistics.median(timed_ms(reader.lexical_search, q, 100) for q in sample)
    print(f"BM25           p50 {bm25_ms:6.1f} ms  (top 100)")

    update_s = None
    if corpus is not None and not args.no_update:
        rate = args.build_rate
        del service, reader  # the update's own process loads the index again
        add_one_article(corpus)
        command = [str(REPO / ".venv" / "bin" / "newsdesk"), "index", "update", "--corpus",
                   str(corpus), "--index-dir", str(index_dir)]  # fmt: skip
        started = time.perf_counter()
        done = subprocess.run(command, capture_output=True, text=True)
        update_s = time.perf_counter() - started
        last = done.stdout.strip().splitlines()[-1:] or done.stderr.strip().splitlines()[-1:]
        full = chunks / rate
        print(f"update         {update_s:6.1f} s  one added article; {100 * update_s / full:.1f}% "
              f"of a full build estimated at {full:.0f} s ({rate:.0f} chunks/s)")  # fmt: skip
        print(f"               {last[0] if last else ''}")
    if args.json:
        print(json.dumps({
            "index_dir": str(index_dir), "chunks": chunks, "open_s": round(open_s, 2),
            "rss_mb_open": round(rss_open), "rss_mb_after": round(rss_after),
            "ask_p50_ms": round(statistics.median(ask_ms), 1),
            "ask_p95_ms": round(percentile(ask_ms, 0.95), 1), "recall_at_100": round(recall, 4),
            "filtered_source_p50_ms": round(statistics.median(source_ms), 1),
            "filtered_month_p50_ms": round(statistics.median(month_ms), 1),
            "bm25_p50_ms": round(bm25_ms, 2),
            "update_s": None if update_s is None else round(update_s, 1),
        }))  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
