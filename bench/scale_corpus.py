"""A corpus of N articles (default 10,000) from the development articles, for scale runs.

The development set holds 4,790 articles; the rest are copies with a changed id, URL and first
words, so that none is dropped as a duplicate text. Writes OUT_DIR/corpus.jsonl.gz, then:

    .venv/bin/python bench/scale_corpus.py /tmp/scale-corpus
    /usr/bin/time -v .venv/bin/newsdesk index build --corpus /tmp/scale-corpus \
        --index-dir /tmp/scale-index
    .venv/bin/python bench/query.py --index-dir /tmp/scale-index

Skips (exit 0) when the development corpus is absent.
"""

from __future__ import annotations

import argparse
import gzip
import itertools
import json
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEV_CORPUS = REPO.parent / "shared" / "data" / "realtimeqa-2022" / "corpus.jsonl.gz"


def scaled_articles(articles: list[dict], count: int) -> list[dict]:
    """`count` articles: the originals, then numbered copies that differ in id, URL and text."""
    out = []
    for copy in itertools.count():
        for article in articles:
            if len(out) == count:
                return out
            if copy == 0:
                out.append(article)
            else:
                out.append(article | {
                    "id": f"{article['id']}-copy{copy}",
                    "url": f"{article.get('url') or ''}#copy{copy}",
                    "text": f"(Republished {copy}.) {article['text']}",
                })  # fmt: skip
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--articles", type=int, default=10_000)
    parser.add_argument("--corpus", type=Path, default=DEV_CORPUS)
    args = parser.parse_args()
    if not args.corpus.exists():
        print(f"skipped: no dev corpus at {args.corpus}")
        return 0
    with gzip.open(args.corpus, "rt", encoding="utf-8") as lines:
        articles = [json.loads(line) for line in lines if line.strip()]
    args.out_dir.mkdir(parents=True, exist_ok=True)
    target = args.out_dir / "corpus.jsonl.gz"
    with gzip.open(target, "wt", encoding="utf-8") as out:
        for article in scaled_articles(articles, args.articles):
            out.write(json.dumps(article, ensure_ascii=False) + "\n")
    print(f"wrote {args.articles} articles ({len(articles)} originals) to {target}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
