"""The local index and the Qdrant backend (embedded mode) side by side on the development index:
build time, `ask` p50/p95, filtered `ask` p50 (one outlet, one month), the update of one article,
and bytes per chunk on disk.

    python bench/backend.py --index-dir /tmp/dev-index-v5 --qdrant /tmp/dev-qdrant \\
        --corpus ../shared/data/realtimeqa-2022/corpus.jsonl.gz \\
        ../shared/data/realtimeqa-2022/questions.jsonl.gz [--questions 200] [--filtered 50] \\
        [--sample 200] [--json]

What each figure times:
- build: `index build --backend qdrant` is the local build (read, chunk, encode, write) followed
  by a copy of the new generation into a new collection behind the alias; so the Qdrant figure
  is the same local build plus that copy, both timed on the first `--sample` articles of the
  corpus (a full build encodes every chunk: many minutes on this CPU). When the `--qdrant`
  folder holds no index yet, the copy of the whole development index into it is timed too.
- ask: `NewsdeskService.ask` (encode, search, answer), stateless, at each question's date, the
  first `--questions` questions; filtered: the same with the outlet that has the most articles
  and its busiest month, the first `--filtered` questions.
- update: one article's text changed in a copy of the corpus; local = `index update` on a copy of
  the index (reads the corpus, re-embeds that article, writes a generation); Qdrant = the same
  plus the in-place change of the aliased collection (`index update --backend qdrant`).
- bytes per chunk: the folders on disk divided by the chunks (the embedded store keeps pickled
  points in SQLite, not the server's segments: bench/qdrant_quantization.py measures those).

Embedded mode is Qdrant's Python client searching in Python (dense vectors by numpy, sparse
ones and filters point by point): its speed is not the server's. What this shows about Qdrant
is that it works end to end and gives the same answers; speed needs a server.
The index, the corpus and the `--qdrant` store's alias are only read, except the update, which
changes one article in the `--qdrant` store (use a scratch copy).
"""

from __future__ import annotations

import argparse
import gzip
import itertools
import json
import shutil
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.factories import make_embedder  # noqa: E402
from bot.service import NewsdeskService  # noqa: E402
from bot.settings import Settings  # noqa: E402
from index.backend import SearchFilters  # noqa: E402
from index.build import build_index  # noqa: E402
from index.qdrant_collection import alias_name, connect  # noqa: E402
from index.qdrant_publish import current_collection, publish_current  # noqa: E402
from index.store import open_index  # noqa: E402
from retrieval.evaluate import Question, load_questions  # noqa: E402

PREFIX = "newsdesk-"
EMBEDDED_NOTE = (
    "Qdrant here is the client's embedded mode (Python, one process): its speed is not a "
    "Qdrant server's; the comparison that matters is that both give the same answers."
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("questions", type=Path)
    parser.add_argument("--index-dir", type=Path, required=True, help="the development index")
    parser.add_argument("--corpus", type=Path, required=True, help="its corpus (jsonl.gz)")
    parser.add_argument(
        "--qdrant",
        type=Path,
        required=True,
        help="an embedded Qdrant folder (the index is copied in when empty)",
    )
    parser.add_argument("--questions-count", "--questions", dest="count", type=int, default=200)
    parser.add_argument("--filtered", type=int, default=50)
    parser.add_argument("--sample", type=int, default=200, help="articles for the build timing")
    parser.add_argument("--json", action="store_true", help="also print one JSON line")
    args = parser.parse_args()  # fmt: skip

    results: dict[str, Any] = {"note": EMBEDDED_NOTE}
    embedder = make_embedder(Settings(_env_file=None))
    with tempfile.TemporaryDirectory(prefix="bench-backend-") as scratch_dir:
        scratch = Path(scratch_dir)
        results["build"] = time_build(args.corpus, args.sample, scratch / "build", embedder)
        print(f"… build: {results['build']}", file=sys.stderr, flush=True)
        results["copy_development_index_s"] = copy_if_empty(args.index_dir, args.qdrant)
        questions = list(itertools.islice(load_questions(args.questions), args.count))
        settings = Settings(_env_file=None, index_dir=args.index_dir, corpus=args.corpus)
        remote_settings = settings.model_copy(
            update={"backend": "qdrant", "qdrant_url": str(args.qdrant)}
        )
        outlet, month = busiest_outlet_month(args.index_dir)
        results["filter"] = {"source": outlet, "since": month[0].isoformat(),
                             "until": month[1].isoformat()}  # fmt: skip
        narrowed = SearchFilters(sources=(outlet,), since=month[0], until=month[1])
        for name, chosen in (("local", settings), ("qdrant", remote_settings)):
            started = time.perf_counter()
            service = NewsdeskService(chosen, embedder)
            opened = time.perf_counter() - started
            results[name] = {"open_s": opened, **time_asks(service, questions, narrowed,
                                                           args.filtered)}  # fmt: skip
            results[name]["chunks"] = service.summary().chunks
            close(service)
            print(f"… {name}: {results[name]}", file=sys.stderr, flush=True)
        results["update"] = time_update(args.index_dir, args.corpus, args.qdrant, scratch, embedder)
        print(f"… update: {results['update']}", file=sys.stderr, flush=True)
    chunks = results["local"]["chunks"]
    results["local"]["bytes_per_chunk"] = folder_bytes(open_generation(args.index_dir)) / chunks
    results["qdrant"]["bytes_per_chunk"] = qdrant_bytes(args.qdrant) / chunks
    print_table(results, len(questions), min(args.filtered, len(questions)), args.sample)
    if args.json:
        print(json.dumps(results, default=str))


def time_build(corpus: Path, sample: int, folder: Path, embedder: Any) -> dict[str, float]:
    """Local build of the first `sample` articles, then their copy into an empty store."""
    sampled = folder / "corpus"
    sampled.mkdir(parents=True)
    with gzip.open(corpus, "rt", encoding="utf-8") as lines:
        rows = [line for line in itertools.islice(lines, sample)]
    (sampled / "articles.jsonl").write_text("".join(rows), encoding="utf-8")
    started = time.perf_counter()
    report = build_index(sampled, folder / "index", embedder)
    local = time.perf_counter() - started
    client = connect(str(folder / "qdrant"))
    started = time.perf_counter()
    publish_current(folder / "index", client, PREFIX, incremental=False)
    copy = time.perf_counter() - started
    client.close()
    return {"articles": report.articles, "chunks": report.chunks, "local_s": local,
            "qdrant_copy_s": copy, "qdrant_s": local + copy}  # fmt: skip


def copy_if_empty(index_dir: Path, store: Path) -> float | None:
    """Seconds to copy the development index into the store, or None when it held one."""
    meta = store / "meta.json"
    if meta.exists() and alias_name(PREFIX) in json.loads(meta.read_text())["aliases"]:
        return None  # known without opening the store (which loads every point)
    client = connect(str(store))
    try:
        if current_collection(client, PREFIX) is not None:
            return None
        started = time.perf_counter()
        publish_current(index_dir, client, PREFIX, incremental=False)
        return time.perf_counter() - started
    finally:
        client.close()


def busiest_outlet_month(index_dir: Path) -> tuple[str, tuple[date, date]]:
    """The outlet with the most articles, and the calendar month in which it has the most."""
    reader = open_index(index_dir)
    try:
        records = list(reader.articles.values())
    finally:
        reader.close()
    outlet = Counter(r.source for r in records if r.source and r.date).most_common(1)[0][0]
    months = Counter(r.date[:7] for r in records if r.source == outlet and r.date)
    year, month = map(int, months.most_common(1)[0][0].split("-"))
    after = date(year + month // 12, month % 12 + 1, 1)
    return outlet, (date(year, month, 1), date.fromordinal(after.toordinal() - 1))


def time_asks(
    service: NewsdeskService, questions: Sequence[Question], narrowed: SearchFilters, filtered: int
) -> dict[str, Any]:
    service.ask(questions[0].question, as_of=questions[0].as_of, stateless=True)  # warm up
    plain = timed([lambda q=q: service.ask(q.question, as_of=q.as_of, stateless=True)
                   for q in questions])  # fmt: skip
    narrow = timed([lambda q=q: service.ask(q.question, filters=narrowed, stateless=True)
                    for q in questions[:filtered]])  # fmt: skip
    return {"ask_p50_ms": percentile(plain, 50), "ask_p95_ms": percentile(plain, 95),
            "filtered_ask_p50_ms": percentile(narrow, 50)}  # fmt: skip


def timed(calls: Sequence[Callable[[], object]]) -> list[float]:
    seconds = []
    for call in calls:
        started = time.perf_counter()
        call()
        seconds.append((time.perf_counter() - started) * 1000)
    return seconds


def percentile(values: Sequence[float], percent: float) -> float:
    if not values:
        return float("nan")
    if percent == 50:
        return statistics.median(values)
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(percent / 100 * (len(ordered) - 1)))]


def time_update(
    index_dir: Path, corpus: Path, store: Path, scratch: Path, embedder: Any
) -> dict[str, Any]:
    """One article's text changed: `index update` locally, then its copy into Qdrant in place."""
    working = scratch / "update-index"
    shutil.copytree(index_dir, working, symlinks=True)
    changed = scratch / "update-corpus"
    changed.mkdir()
    with gzip.open(corpus, "rt", encoding="utf-8") as lines:
        rows = [json.loads(line) for line in lines if line.strip()]
    rows[0]["text"] += f"\n\nThis article was updated at {time.time():.0f}."
    with gzip.open(changed / corpus.name, "wt", encoding="utf-8") as out:
        out.writelines(json.dumps(row) + "\n" for row in rows)
    started = time.perf_counter()
    report = build_index(changed, working, embedder, incremental=True)
    local = time.perf_counter() - started
    client = connect(str(store))
    started = time.perf_counter()
    publish_current(working, client, PREFIX, incremental=True)
    copy = time.perf_counter() - started
    client.close()
    return {"changed_articles": report.changed_articles, "embedded_chunks": report.embedded_chunks,
            "local_s": local, "qdrant_copy_s": copy, "qdrant_s": local + copy}  # fmt: skip


def open_generation(index_dir: Path) -> Path:
    return (index_dir / "current").resolve()


def folder_bytes(folder: Path) -> int:
    return sum(f.stat().st_size for f in folder.rglob("*") if f.is_file())


def qdrant_bytes(store: Path) -> int:
    """The aliased collection's folder in the embedded store (named in its meta.json: opening
    the store would load every point again, minutes on the development index)."""
    aliases = json.loads((store / "meta.json").read_text(encoding="utf-8"))["aliases"]
    return folder_bytes(store / "collection" / aliases[alias_name(PREFIX)])


def close(service: NewsdeskService) -> None:
    reader = service.retriever.reader
    closer = getattr(reader, "close", None)
    if closer is not None:
        closer()


def print_table(results: dict[str, Any], asked: int, filtered: int, sample: int) -> None:
    build, update = results["build"], results["update"]
    local, qdrant = results["local"], results["qdrant"]
    rows = [
        (f"build, {build['articles']} articles ({build['chunks']} chunks)",
         f"{build['local_s']:.1f} s",
         f"{build['qdrant_s']:.1f} s (same build + {build['qdrant_copy_s']:.1f} s copy)"),
        ("open the index", f"{local['open_s']:.1f} s", f"{qdrant['open_s']:.1f} s"),
        (f"ask p50 / p95 ({asked} questions)",
         f"{local['ask_p50_ms']:.0f} / {local['ask_p95_ms']:.0f} ms",
         f"{qdrant['ask_p50_ms']:.0f} / {qdrant['ask_p95_ms']:.0f} ms"),
        (f"filtered ask p50 ({filtered} questions)", f"{local['filtered_ask_p50_ms']:.0f} ms",
         f"{qdrant['filtered_ask_p50_ms']:.0f} ms"),
        (f"update one article ({update['embedded_chunks']} chunks embedded)",
         f"{update['local_s']:.1f} s",
         f"{update['qdrant_s']:.1f} s (same update + {update['qdrant_copy_s']:.1f} s in place)"),
        ("bytes per chunk on disk", f"{local['bytes_per_chunk']:,.0f}",
         f"{qdrant['bytes_per_chunk']:,.0f} (embedded store's SQLite)"),
    ]  # fmt: skip
    width = max(len(r[0]) for r in rows)
    middle = max(len(r[1]) for r in rows)
    print(f"{'':{width}}  {'local':{middle}}  qdrant (embedded)")
    for what, mine, theirs in rows:
        print(f"{what:{width}}  {mine:{middle}}  {theirs}")
    if results["copy_development_index_s"] is not None:
        print(f"copy of the development index ({local['chunks']:,} chunks) into the empty "
              f"Qdrant store: {results['copy_development_index_s']:.0f} s")  # fmt: skip
    f = results["filter"]
    print(f"filter: source {f['source']}, {f['since']} to {f['until']}; build timed on the "
          f"first {sample} articles of the corpus, not all of them")  # fmt: skip
    print(EMBEDDED_NOTE)


if __name__ == "__main__":
    main()
