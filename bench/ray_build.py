"""The Ray build against the in-process build on a sample of the development corpus.

Usage: .venv/bin/python bench/ray_build.py [--articles 200] [--cpus N] [--address ADDRESS]

Writes N articles drawn evenly from the development corpus as one JSON file each (so reading is
spread over tasks), builds them in this process and on Ray (a local Ray of --cpus CPUs, or the
cluster at --address), and prints the wall time of each, Ray's overhead (and how much of it is
starting and stopping Ray), a second build on the already running Ray, and whether the outputs
are identical: every table row, the chunk ids, and the largest cosine distance between the two
builds' vectors. Needs the ray extra; skips (exit 0) when ray or the corpus is absent.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import sys
import tempfile
import time
from functools import partial
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bot.factories import make_embedder  # noqa: E402
from bot.settings import Settings  # noqa: E402
from index.build import build_index  # noqa: E402
from tests.index_contents import contents  # noqa: E402

DEV_CORPUS = REPO.parent / "shared" / "data" / "realtimeqa-2022" / "corpus.jsonl.gz"


def write_sample(source: Path, folder: Path, count: int) -> None:
    """Every k-th article of the corpus, one JSON file each."""
    with gzip.open(source, "rt", encoding="utf-8") as lines:
        records = [json.loads(line) for line in lines]
    step = max(1, len(records) // count)
    folder.mkdir(parents=True)
    for n, record in enumerate(records[::step][:count]):
        (folder / f"{n:05d}.json").write_text(json.dumps(record, ensure_ascii=False))


def compare(ray_dir: Path, local_dir: Path) -> str:
    ray_rows, ray_vectors = contents(ray_dir)
    local_rows, local_vectors = contents(local_dir)
    differing = [name for name in local_rows if ray_rows.get(name) != local_rows[name]]
    if list(ray_vectors) != list(local_vectors):
        differing.append("chunk ids")
    distance = max(
        (1.0 - float(ray_vectors[key] @ vector) for key, vector in local_vectors.items()
         if key in ray_vectors),
        default=0.0,
    )  # fmt: skip
    tables = "identical" if not differing else "DIFFER in " + ", ".join(differing)
    return f"tables and chunk ids {tables}; max vector cosine distance {distance:.2e}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=200)
    parser.add_argument("--cpus", type=int, default=None, help="local Ray CPUs (default: all)")
    parser.add_argument("--address", default=None, help="a running Ray cluster instead")
    parser.add_argument("--corpus", type=Path, default=DEV_CORPUS)
    args = parser.parse_args()
    try:
        from index.ray_build import RaySource, ray_cluster
        from index.ray_stages import EncoderSpec
    except ImportError:
        print("ray is not installed (pip install 'newsdesk[ray]'); skipping")
        return 0
    if not args.corpus.exists():
        print(f"{args.corpus} not found; skipping")
        return 0

    embedder = make_embedder(Settings(_env_file=None))
    embedder.count_tokens(["warm up"])  # both builds start with the model loaded here
    with tempfile.TemporaryDirectory(prefix="ray-bench-") as scratch:
        root = Path(scratch)
        corpus = root / "corpus"
        write_sample(args.corpus, corpus, args.articles)

        started = time.perf_counter()
        local = build_index(corpus, root / "local", embedder)
        local_s = time.perf_counter() - started
        print(f"{local.articles} articles, {local.chunks} chunks, {local.tokens} tokens")
        print(f"in-process build      {local_s:6.1f} s  ({embedder.active_backend}, "
              f"{embedder.threads} threads)")  # fmt: skip

        started = time.perf_counter()
        with ray_cluster(args.address, args.cpus) as plan:
            up = time.perf_counter()
            source = partial(RaySource, spec=EncoderSpec.of(embedder), plan=plan)
            build_index(corpus, root / "ray", embedder, source=source)
            built = time.perf_counter()
            build_index(corpus, root / "ray-again", embedder, source=source)
            again = time.perf_counter()
        stopped = time.perf_counter()
        ray_s = (built - started) + (stopped - again)
        print(f"Ray build             {ray_s:6.1f} s  ({plan.cpus} CPUs, {plan.gpus} GPUs, "
              f"{plan.encoders} encoders of {plan.encoder_threads} threads)")  # fmt: skip
        print(f"  starting Ray        {up - started:6.1f} s")
        print(f"  the build on Ray    {built - up:6.1f} s  (workers start, load the model, work)")
        print(f"  stopping Ray        {stopped - again:6.1f} s")
        print(f"Ray overhead          {ray_s - local_s:+6.1f} s  ({ray_s / local_s:.1f}x)")
        print(f"again on running Ray  {again - built:6.1f} s  (reading workers and model warm)")
        print(f"Ray vs in-process: {compare(root / 'ray', root / 'local')}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
