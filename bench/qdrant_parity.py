"""Do the local index and its Qdrant copy rank alike? Prints, for questions of a set, how often
the dense top-10, the BM25 top-10 and the final top-5 passages are identical on both backends,
and each backend's search time (embedded Qdrant is a Python implementation: its speed is not a
server's; correctness is what this compares).

    python bench/qdrant_parity.py --from-index /tmp/dev-index6 --qdrant /tmp/dev-qdrant \\
        ../shared/data/realtimeqa-2022/questions.jsonl.gz --limit 200 [--idf newsdesk|qdrant]

`--from-index` copies the local generation's vectors and term frequencies into the Qdrant
store first (no re-encoding) unless the store already holds an index; `--republish` forces it.
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.factories import make_embedder  # noqa: E402
from bot.settings import Settings  # noqa: E402
from index.backend import SearchFilters  # noqa: E402
from index.local_backend import LocalBackend  # noqa: E402
from index.qdrant_backend import QdrantBackend  # noqa: E402
from index.qdrant_collection import connect  # noqa: E402
from index.qdrant_publish import current_collection, publish_generation  # noqa: E402
from index.store import open_index  # noqa: E402
from retrieval.evaluate import load_questions  # noqa: E402
from retrieval.search import Retriever  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("questions", type=Path)
    parser.add_argument("--from-index", type=Path, required=True)
    parser.add_argument("--qdrant", required=True, help="embedded folder or http(s) URL")
    parser.add_argument("--limit", type=int, default=200)
    parser.add_argument("--idf", choices=("newsdesk", "qdrant"), default="newsdesk")
    parser.add_argument("--republish", action="store_true")
    args = parser.parse_args()

    reader = open_index(args.from_index)
    client = connect(args.qdrant)
    if args.republish or current_collection(client, "newsdesk-") is None:
        started = time.perf_counter()
        publish_generation(reader, client, "newsdesk-", idf=args.idf)
        print(f"copied {len(reader.lexical.chunk_ids):,} chunks into Qdrant in "
              f"{time.perf_counter() - started:.1f}s")  # fmt: skip
    started = time.perf_counter()
    remote = QdrantBackend(client, args.qdrant)
    print(f"opened the Qdrant index in {time.perf_counter() - started:.1f}s "
          f"(IDF applied by {remote.idf_by})")  # fmt: skip
    local = LocalBackend(reader)
    encoder = make_embedder(Settings(_env_file=None))
    retrievers = {"local": Retriever(local, encoder.encode_query),
                  "qdrant": Retriever(remote, encoder.encode_query)}  # fmt: skip
    records = list(itertools.islice(load_questions(args.questions), args.limit))
    same = {"dense top-10": 0, "BM25 top-10": 0, "top-5": 0, "top-5 (one source)": 0}
    seconds: dict[str, list[float]] = {name: [] for name in retrievers}
    for record in records:
        question = record.question
        vector = encoder.encode_query(question)
        dense = [list(b.dense_search(vector, 10)[0]) for b in (local, remote)]
        lexical = [list(b.search_both(question, None, 10, SearchFilters())[1])
                   for b in (local, remote)]  # fmt: skip
        same["dense top-10"] += dense[0] == dense[1]
        same["BM25 top-10"] += lexical[0] == lexical[1]
        as_of = record.as_of
        tops = []
        for name, retriever in retrievers.items():
            started = time.perf_counter()
            tops.append([p.chunk_id for p in retriever.search(question, 5, as_of=as_of,
                                                              query_vector=vector)])  # fmt: skip
            seconds[name].append(time.perf_counter() - started)
        same["top-5"] += tops[0] == tops[1]
        source = next(iter(local.articles.values())).source or ""
        narrowed = SearchFilters(sources=(source,))
        one_source = [[p.chunk_id for p in r.search(question, 5, narrowed, query_vector=vector)]
                      for r in retrievers.values()]  # fmt: skip
        same["top-5 (one source)"] += one_source[0] == one_source[1]
    print(f"{len(records)} questions; identical on both backends:")
    for what, count in same.items():
        print(f"  {what:20} {count}/{len(records)} ({count / len(records):.3f})")
    for name, times in seconds.items():
        ordered = sorted(times)
        p95 = ordered[int(0.95 * (len(ordered) - 1))]
        print(f"  search on {name:7} median {statistics.median(times) * 1000:.1f} ms, "
              f"p95 {p95 * 1000:.1f} ms")  # fmt: skip


if __name__ == "__main__":
    main()
