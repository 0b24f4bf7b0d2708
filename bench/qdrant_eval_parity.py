"""The development-set target of the Qdrant backend: R@5 and answer-in-text on both backends,
counted exactly as `newsdesk eval` counts them (hybrid search at each question's date, the answer
string within the first 200 words of a top-5 passage; the full pipeline's answer holding the
answer string), question by question.

    python bench/qdrant_eval_parity.py ../shared/data/realtimeqa-2022/questions.jsonl.gz \\
        --index-dir /tmp/dev-index-copy --qdrant /tmp/dev-qdrant --log /tmp/parity.jsonl

The Qdrant store must already hold the index (bench/qdrant_parity.py --from-index copies it in).
Embedded Qdrant scores sparse vectors point by point in Python (seconds a question on the
development index), so each question's outcome is appended to `--log` as it is known: a run cut
short still says how far the backends agreed (`--summarize LOG` prints the figures of a log),
and `--resume` skips the questions a log already holds.
The baselines `newsdesk eval` also prints (BM25 only, dense only) are left out: they are not the
target and would double the time.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.factories import make_embedder  # noqa: E402
from bot.service import NewsdeskService  # noqa: E402
from bot.settings import Settings  # noqa: E402
from retrieval.evaluate import answer_pattern, first_hit, load_questions  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("questions", type=Path, nargs="?")
    parser.add_argument("--index-dir", type=Path)
    parser.add_argument("--qdrant")
    parser.add_argument("--log", type=Path)
    parser.add_argument("--resume", action="store_true")
    parser.add_argument("--summarize", type=Path, help="print the figures of a log and stop")
    parser.add_argument(
        "--vectorized-sparse", type=int, metavar="CHECKED", default=None,
        help="score the embedded store's sparse vectors with one sparse matrix product instead "
        "of its Python loop (the same sums in the same order), comparing both on the first "
        "CHECKED searches",
    )  # fmt: skip
    args = parser.parse_args()
    if args.summarize:
        summarize(args.summarize)
        return
    if not (args.questions and args.index_dir and args.qdrant and args.log):
        parser.error("questions, --index-dir, --qdrant and --log are needed for a run")

    checks = None if args.vectorized_sparse is None else vectorize_sparse(args.vectorized_sparse)
    embedder = make_embedder(Settings(_env_file=None))
    local_settings = Settings(_env_file=None, index_dir=args.index_dir)
    services = {
        "local": NewsdeskService(local_settings, embedder),
        "qdrant": NewsdeskService(
            local_settings.model_copy(update={"backend": "qdrant", "qdrant_url": args.qdrant}),
            embedder,
        ),
    }
    memos = [remember_searches(service.retriever.reader) for service in services.values()]
    done = set()
    if args.resume and args.log.exists():
        done = {json.loads(line)["n"] for line in args.log.read_text().splitlines() if line}
    with args.log.open("a" if args.resume else "w", encoding="utf-8") as log:
        for n, q in enumerate(load_questions(args.questions)):
            if n in done:
                continue
            row: dict[str, object] = {"n": n, "answerable": q.answerable}
            pattern = answer_pattern(q.answer)
            for name, service in services.items():
                started = time.perf_counter()
                tuning = replace(service.retriever.tuning, mode="hybrid")
                passages = service.retriever.search(q.question, 10, as_of=q.as_of, tuning=tuning)
                answer = service.ask(q.question, session_id=f"eval:{n}", as_of=q.as_of)
                row[name] = {
                    "rank": first_hit(pattern, passages),
                    "top5": [p.chunk_id for p in passages[:5]],
                    "in_text": bool(pattern.search(answer.answer)),
                    "abstained": answer.abstained,
                    "seconds": round(time.perf_counter() - started, 3),
                }
            for memo in memos:
                memo.clear()
            log.write(json.dumps(row) + "\n")
            log.flush()
    if checks is not None:
        print(f"vectorized sparse scoring: {checks['checked']} searches compared with the "
              f"client's own scoring, {checks['differing']} differed")  # fmt: skip
    summarize(args.log)


def vectorize_sparse(check: int) -> dict[str, int]:
    """Replace the embedded client's sparse scoring (a Python merge loop per stored vector,
    about a second a search on the development index) with a sparse matrix product over the
    same stored vectors: each score is the same float64 sum of the same products in the same
    (index) order, cast to float32, and -inf where no term overlaps. The first `check`
    searches are also scored the client's way and compared; the counts land in the result."""
    import itertools

    import scipy.sparse as sp
    from qdrant_client.local import local_collection, sparse_distances

    original = sparse_distances.calculate_distance_sparse
    counts = {"checked": 0, "differing": 0}
    cache: dict[tuple[int, int, int], tuple[Any, Any]] = {}

    def matrices(vectors: list[Any]) -> tuple[Any, Any]:
        key = (len(vectors), id(vectors[0]), id(vectors[-1]))  # a fresh slice each search
        if key not in cache:
            cache.clear()
            lengths = [len(v.indices) for v in vectors]
            indptr = np.concatenate([[0], np.cumsum(lengths)])
            chain = itertools.chain.from_iterable
            indices = np.fromiter(chain(v.indices for v in vectors), np.int64, indptr[-1])
            values = np.fromiter(chain(v.values for v in vectors), np.float64, indptr[-1])
            width = int(indices.max()) + 1 if len(indices) else 1
            scores = sp.csr_matrix((values, indices, indptr), shape=(len(vectors), width))
            present = sp.csr_matrix((np.ones_like(values), indices, indptr), shape=scores.shape)
            cache[key] = (scores, present)
        return cache[key]

    def calculate(query: Any, vectors: list[Any], empty_is_zero: bool = False) -> Any:
        if not vectors:
            return np.array([], dtype=np.float32)
        scores, present = matrices(vectors)
        wanted = np.zeros(scores.shape[1])
        hit = np.zeros(scores.shape[1])
        for index, value in zip(query.indices, query.values, strict=True):
            if index < scores.shape[1]:
                wanted[index], hit[index] = value, 1.0
        result = (scores @ wanted).astype(np.float32)
        result[(present @ hit) == 0] = np.float32(0.0) if empty_is_zero else np.float32("-inf")
        if counts["checked"] < check:
            counts["checked"] += 1
            counts["differing"] += not np.array_equal(original(query, vectors, empty_is_zero),
                                                      result)  # fmt: skip
        return result

    local_collection.calculate_distance_sparse = calculate
    return counts


def remember_searches(backend: Any) -> dict[tuple[object, ...], Any]:
    """Answer a repeated `search_both` from memory: the R@5 search and the answer's own search
    ask the backend the same thing (same question, vector, pool and filters), and on embedded
    Qdrant each costs seconds. Both backends get it; the results are the same by construction."""
    memo: dict[tuple[object, ...], Any] = {}
    search = backend.search_both

    def search_both(query: str, vector: Any, k: int, filters: Any) -> Any:
        key = (query, None if vector is None else vector.tobytes(), k, filters)
        if key not in memo:
            memo[key] = search(query, vector, k, filters)
        return memo[key]

    backend.search_both = search_both
    return memo


def summarize(path: Path) -> None:
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    answerable = [r for r in rows if r["answerable"]]
    print(f"{len(rows)} questions ({len(answerable)} answerable) from {path}")
    for name in ("local", "qdrant"):
        hits = sum(r[name]["rank"] is not None and r[name]["rank"] <= 5 for r in answerable)
        in_text = sum(r[name]["in_text"] for r in answerable)
        seconds = sorted(r[name]["seconds"] for r in rows)
        median = seconds[len(seconds) // 2] if seconds else 0.0
        count = max(1, len(answerable))
        print(f"  {name:6}  R@5 {hits / count:.3f}  answer in text {in_text / count:.3f}  "
              f"(median {median:.2f} s a question)")  # fmt: skip
    same_top5 = sum(r["local"]["top5"] == r["qdrant"]["top5"] for r in rows)
    same_rank = sum(r["local"]["rank"] == r["qdrant"]["rank"] for r in answerable)
    same_text = sum(r["local"]["in_text"] == r["qdrant"]["in_text"] for r in answerable)
    total = len(answerable)
    print(f"  identical top-5: {same_top5}/{len(rows)}; same answer rank: {same_rank}/{total}; "
          f"same answer-in-text outcome: {same_text}/{total}")  # fmt: skip


if __name__ == "__main__":
    main()
