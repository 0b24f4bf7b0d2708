"""Index build benchmark over the development corpus.

Usage: .venv/bin/python bench/index_build.py [--corpus FILE.jsonl.gz] [--index-dir DIR] [--sample N]

Prints articles, chunks, tokens, wall time, chunks/s, peak RSS and the time spent finding
statements (who said what) and story clusters (near-duplicate articles) of a full build; then, on a
sample of the same chunks, plain `SentenceTransformer.encode` throughput against the build's
encoder and the ratio; then the time of `index update` after adding one article, as a share of
the full build. Skips (exit 0) when the development corpus is absent.
"""

from __future__ import annotations

import argparse
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

from bot.service import make_embedder  # noqa: E402
from bot.settings import Settings  # noqa: E402
from index.build import BuildProgress, build_index, update_index  # noqa: E402
from index.chunking import embedding_text  # noqa: E402
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


def sample_chunks(index_dir: Path, size: int) -> list[str]:
    db = sqlite3.connect(current_generation(index_dir) / "meta.sqlite")
    rows = db.execute(
        'SELECT a.title, substr(a.text, c.start + 1, c."end" - c.start) FROM chunks c '
        "JOIN articles a ON a.id = c.article_id ORDER BY c.id LIMIT ?",
        (size,),
    ).fetchall()
    db.close()
    return [embedding_text(title, passage) for title, passage in rows]


def plain_encode_rate(model_path: str, texts: list[str], threads: int) -> float:
    import torch
    from sentence_transformers import SentenceTransformer

    torch.set_num_threads(threads)
    model = SentenceTransformer(model_path, device="cpu")
    model.encode(texts[:32])
    started = time.perf_counter()
    model.encode(texts, batch_size=32, normalize_embeddings=True, show_progress_bar=False)
    return len(texts) / (time.perf_counter() - started)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=DEV_CORPUS)
    parser.add_argument("--index-dir", type=Path, default=None)
    parser.add_argument("--sample", type=int, default=2000, help="chunks for the encode comparison")
    args = parser.parse_args()
    if not args.corpus.exists():
        print(f"skipped: development corpus not found at {args.corpus}")
        return 0

    work = Path(tempfile.mkdtemp(prefix="newsdesk-bench-"))
    corpus = work / "corpus"
    corpus.mkdir()
    (corpus / args.corpus.name).symlink_to(args.corpus.resolve())
    index_dir = args.index_dir or work / "index"
    if index_dir.exists():
        shutil.rmtree(index_dir)
    settings = Settings(_env_file=None, corpus=corpus, index_dir=index_dir)
    embedder = make_embedder(settings)
    embedder.encode(["warm up the model"])
    print(f"encoder {embedder.active_backend}, {embedder.threads} threads, {embedder.model_id}")

    started = time.perf_counter()
    report = build_index(corpus, index_dir, embedder, on_progress=progress_printer())
    build_s = time.perf_counter() - started
    build_rss = peak_rss_mib()
    build_rate = report.chunks / build_s
    print("\n== full build ==")
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

    texts = sample_chunks(index_dir, args.sample)
    started = time.perf_counter()
    embedder.encode(texts)
    ours = len(texts) / (time.perf_counter() - started)
    plain = plain_encode_rate(embedder.model, texts, embedder.threads)
    print(f"\n== encoder on {len(texts)} of the same chunks ==")
    print(f"plain SentenceTransformer.encode  {plain:.1f} chunks/s")
    print(f"newsdesk encoder ({embedder.active_backend})        {ours:.1f} chunks/s")
    print(f"encoder ratio                     {ours / plain:.2f}x")
    print(f"whole build vs plain encode       {build_rate / plain:.2f}x")

    (corpus / "new-article.json").write_text(json.dumps(NEW_ARTICLE))
    started = time.perf_counter()
    update = update_index(corpus, index_dir, embedder)
    update_s = time.perf_counter() - started
    print("\n== index update after adding one article ==")
    print(f"embedded chunks {update.embedded_chunks}, reused {update.reused_chunks}")
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
