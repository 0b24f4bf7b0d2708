"""Index build benchmark over the development corpus.

Usage: .venv/bin/python bench/index_build.py [--corpus FILE.jsonl.gz] [--articles N]
           [--encoder auto|onnx|openvino|torch] [--device cpu|cuda] [--index-dir DIR]

Prints articles, chunks, tokens, wall time, chunks/s, peak RSS and the time spent finding
statements (who said what) and story clusters (near-duplicate articles) of a full build of the
first N articles (all by default); then, in the same run and on the same articles, a build that
encodes only after reading (as builds did before encoding overlapped reading) and plain
`SentenceTransformer.encode` of the very same chunk texts (on --device), with the ratios; then
the time of `index update` after adding one article, as a share of the full build. Skips (exit
0) when the development corpus is absent. On a machine with a GPU, `--device cuda` (or
`--encoder auto`, which picks it) measures the GPU build end to end in one command.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import resource
import shutil
import sqlite3
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bot.factories import make_embedder  # noqa: E402
from bot.settings import Settings  # noqa: E402
from index.build import BuildProgress, build_index, update_index  # noqa: E402
from index.chunking import embedding_text  # noqa: E402
from index.embedder import Embedder  # noqa: E402
from index.encoder_choice import cuda_available  # noqa: E402
from index.layout import current_generation  # noqa: E402

DEV_CORPUS = REPO.parent / "shared" / "data" / "realtimeqa-2022" / "corpus.jsonl.gz"
NEW_ARTICLE = {
    "id": "bench-new-article",
    "title": "Harbour authority opens a new ferry terminal",
    "source": "Bench Wire",
    "date": "2022-12-31",
    "text": "The harbour authority opened a new ferry terminal on Saturday. " * 12,
}


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def progress_printer() -> Callable[[BuildProgress], None]:
    last = [0.0]

    def show(event: BuildProgress) -> None:
        now = time.monotonic()
        if event.phase == "embedding" and (now - last[0] > 30 or event.done == event.total):
            last[0] = now
            print(f"  embedding {event.done}/{event.total}", flush=True)

    return show


def all_chunks(index_dir: Path) -> list[str]:
    """Every chunk's text as the build encoded it, in chunk id order."""
    db = sqlite3.connect(current_generation(index_dir) / "meta.sqlite")
    rows = db.execute(
        'SELECT a.title, substr(a.text, c.start + 1, c."end" - c.start) FROM chunks c '
        "JOIN articles a ON a.id = c.article_id ORDER BY c.id"
    ).fetchall()
    db.close()
    return [embedding_text(title, passage) for title, passage in rows]


def plain_encode_rate(model_path: str, texts: list[str], threads: int, device: str) -> float:
    import torch
    from sentence_transformers import SentenceTransformer

    torch.set_num_threads(threads)
    model = SentenceTransformer(model_path, device=device)
    model.encode(texts[:32])
    batch = 32 if device == "cpu" else 512
    started = time.perf_counter()
    model.encode(texts, batch_size=batch, normalize_embeddings=True, show_progress_bar=False)
    return len(texts) / (time.perf_counter() - started)


def write_sample(source: Path, target: Path, articles: int) -> None:
    """The first `articles` lines of a .jsonl.gz corpus (all when 0)."""
    with gzip.open(source, "rt", encoding="utf-8") as lines, gzip.open(target, "wt") as out:
        for number, line in enumerate(lines):
            if articles and number >= articles:
                break
            out.write(line)


def timed_build(corpus: Path, index_dir: Path, embedder: Embedder, overlap: bool):
    if index_dir.exists():
        shutil.rmtree(index_dir)
    started = time.perf_counter()
    report = build_index(corpus, index_dir, embedder, on_progress=progress_printer(),
                         overlap=overlap)  # fmt: skip
    return report, time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=DEV_CORPUS)
    parser.add_argument("--index-dir", type=Path, default=None)
    parser.add_argument("--articles", type=int, default=0, help="first N articles (0: all)")
    parser.add_argument("--encoder", default="auto", choices=["auto", "onnx", "openvino", "torch"])
    parser.add_argument("--device", default=None, help="cpu or cuda (default: as --encoder picks)")
    parser.add_argument("--no-sequential", action="store_true", help="skip the old-path build")
    args = parser.parse_args()
    if not args.corpus.exists():
        print(f"skipped: development corpus not found at {args.corpus}")
        return 0

    if (args.device or "cpu").startswith("cuda") and not cuda_available():
        print(f"skipped: torch sees no CUDA device for --device {args.device}")
        return 0

    work = Path(tempfile.mkdtemp(prefix="newsdesk-bench-"))
    corpus = work / "corpus"
    corpus.mkdir()
    write_sample(args.corpus, corpus / "sample.jsonl.gz", args.articles)
    index_dir = args.index_dir or work / "index"
    settings = Settings(_env_file=None, corpus=corpus, index_dir=index_dir, encoder=args.encoder)
    embedder = make_embedder(settings)
    if args.device is not None:
        embedder = Embedder(embedder.model, backend="torch" if args.device != "cpu" else
                            embedder.backend, threads=embedder.threads,
                            cache_dir=embedder.cache_dir, device=args.device)  # fmt: skip
    embedder.encode(["warm up the model"])
    print(f"encoder {embedder.active_backend} on {embedder.device}, {embedder.threads} threads, "
          f"{embedder.model_id}; load average {os.getloadavg()[0]:.1f}")  # fmt: skip

    report, build_s = timed_build(corpus, index_dir, embedder, overlap=True)
    build_rss = peak_rss_mib()
    build_rate = report.chunks / build_s
    print("\n== full build (encoding while reading) ==")
    print(f"articles        {report.articles}")
    print(f"chunks          {report.chunks}")
    print(f"tokens          {report.tokens}")
    print(f"skipped inputs  {len(report.skipped)}")
    print(f"wall time       {build_s:.1f} s")
    print(f"chunks/s        {build_rate:.1f}")
    print(f"peak RSS        {build_rss:.0f} MiB")
    share = report.statement_seconds / build_s
    print(
        f"statements      {report.statements} found in {report.statement_seconds:.1f} s "
        f"({share:.1%} of the build; budget 25 %)"
    )
    share = report.cluster_seconds / build_s
    print(
        f"story clusters  {report.clusters} stories of {report.clustered_articles} articles, "
        f"found in {report.cluster_seconds:.1f} s ({share:.1%} of the build; budget 10 %)"
    )

    print("\n== the same articles, same run ==")
    print(f"build, encoding while reading      {build_rate:8.1f} chunks/s")
    if not args.no_sequential:  # right after, so that the load on the machine is alike
        sequential, sequential_s = timed_build(corpus, work / "sequential", embedder, False)
        rate = sequential.chunks / sequential_s
        print(f"build, encoding after reading      {rate:8.1f} chunks/s (the old path)")
        print(f"overlap gain                       {build_rate / rate:8.2f}x")
    texts = all_chunks(index_dir)
    plain = plain_encode_rate(embedder.model, texts, embedder.threads, embedder.device)
    print(f"plain SentenceTransformer.encode   {plain:8.1f} chunks/s ({embedder.device}, "
          f"the same {len(texts)} chunks; load {os.getloadavg()[0]:.1f})")  # fmt: skip
    print(f"whole build vs plain encode        {build_rate / plain:8.2f}x")

    (corpus / "update-new-article.json").write_text(json.dumps(NEW_ARTICLE))  # sorts last
    started = time.perf_counter()
    update = update_index(corpus, index_dir, embedder)
    update_s = time.perf_counter() - started
    print("\n== index update after adding one article ==")
    how = "appended to the previous generation" if update.appended else "rows copied one by one"
    print(f"embedded chunks {update.embedded_chunks}, reused {update.reused_chunks} ({how})")
    print(f"update time     {update_s:.2f} s = {100 * update_s / build_s:.2f} % of the full build")
    print(
        f"story clusters  {update.cluster_seconds:.2f} s of it "
        f"({100 * update.cluster_seconds / build_s:.2f} % of the full build), "
        f"{update.clusters} stories"
    )
    if args.index_dir is None:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
