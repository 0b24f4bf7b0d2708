"""Deep links: the cost of a text fragment per citation, and how often one needs context.

Usage: .venv/bin/python bench/deep_links.py [--articles 1000] [--corpus PATH]

Every sentence of the first `--articles` articles of the dev corpus is cited in turn (the
worst case: a quote anywhere, in articles of every length), as `deep_url` does for each
citation of an answer. Prints the time per citation (median, 99th percentile, max), the share
of quotes whose start words come earlier in their article (a prefix or suffix), and the share
a browser's search, as simulated, lands on exactly.
"""

from __future__ import annotations

import argparse
import gzip
import json
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from index.chunking import split_sentences  # noqa: E402
from retrieval.deep_links import deep_url, find_text, text_directive  # noqa: E402

DEV_CORPUS = REPO.parent / "shared" / "data" / "realtimeqa-2022" / "corpus.jsonl.gz"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=1000)
    parser.add_argument("--corpus", type=Path, default=DEV_CORPUS)
    args = parser.parse_args()
    timings, with_context, exact, cited = [], 0, 0, 0
    with gzip.open(args.corpus, "rt", encoding="utf-8") as lines:
        for _, line in zip(range(args.articles), lines, strict=False):
            record = json.loads(line)
            text, url = record.get("text") or "", record.get("url") or "https://example.com/a"
            for start, end in split_sentences(text):
                began = time.perf_counter()
                linked = deep_url(url, text, start, end)
                timings.append(time.perf_counter() - began)
                if linked is None:
                    continue
                cited += 1
                directive = text_directive(text, start, end)
                with_context += bool(directive and (directive.prefix or directive.suffix))
                quote = text[start:end]
                first = start + len(quote) - len(quote.lstrip())
                last = end - (len(quote) - len(quote.rstrip()))
                exact += directive is not None and find_text(text, directive) == (first, last)
    timings.sort()
    micro = [t * 1e6 for t in timings]
    print(f"{cited} citations in {args.articles} articles")
    print(
        f"per citation: median {statistics.median(micro):.1f} µs, "
        f"p99 {micro[int(len(micro) * 0.99)]:.1f} µs, max {micro[-1]:.0f} µs"
    )
    print(f"with a prefix or suffix: {with_context / cited:.1%}")
    print(f"a browser's search (simulated) lands on the quote: {exact / cited:.2%}")


if __name__ == "__main__":
    main()
