"""Statement extraction: speed per article, and speaker precision/recall on the labelled set.

Usage: .venv/bin/python bench/statements.py [--articles N] [--gold PATH] [--show]

Speed is measured over the first N development articles, with the sentence split included (as
a build that had not split them yet would pay) and with the index's sentence spans given. The
extractor may add at most 25 % to an index build (about 72 ms per article here, so ≤ 18 ms).

A prediction matches a labelled statement when their content spans overlap by at least half
of the labelled span. Precision: matched predictions with the right resolved speaker
(case-insensitive, exact) over all predictions in the labelled articles; recall: labelled
statements matched with the right speaker over all labelled ones. Targets: 0.92 and 0.80.

About a third of the labelled articles (those whose id's SHA-1 is 2 modulo 3) are held out: their
figures are printed apart, and `--show`, which prints every miss and every wrong prediction by
category, leaves them out, so that rules are written against the rest and checked on them.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from index.chunking import split_sentences  # noqa: E402
from index.statements import Statement, extract_statements  # noqa: E402

DEV_CORPUS = REPO.parent / "shared" / "data" / "realtimeqa-2022" / "corpus.jsonl.gz"
GOLD = REPO / "tests" / "data" / "who_said" / "statements.jsonl"
BUDGET_MS = 18.0


def load_texts(limit: int | None = None, wanted: set[str] | None = None) -> dict[str, str]:
    """Article id → text for the first `limit` articles, or for the `wanted` ids."""
    texts: dict[str, str] = {}
    with gzip.open(DEV_CORPUS, "rt", encoding="utf-8") as lines:
        for line in lines:
            record = json.loads(line)
            if wanted is None or record["id"] in wanted:
                texts[record["id"]] = record["text"]
            if (limit and len(texts) >= limit) or (wanted and len(texts) == len(wanted)):
                break
    return texts


def speed(texts: list[str]) -> None:
    extract_statements(texts[0])  # warm the regex caches
    spans = [split_sentences(text) for text in texts]
    timings: dict[str, list[float]] = {"with sentence split": [], "sentence spans given": []}
    count = 0
    for text, sentence_spans in zip(texts, spans, strict=True):
        started = time.perf_counter()
        count += len(extract_statements(text))
        middle = time.perf_counter()
        extract_statements(text, sentence_spans)
        timings["with sentence split"].append((middle - started) * 1000)
        timings["sentence spans given"].append((time.perf_counter() - middle) * 1000)
    words = sum(len(text.split()) for text in texts) / len(texts)
    print(
        f"speed over {len(texts)} articles ({words:.0f} words each on average), "
        f"{count / len(texts):.1f} statements per article"
    )
    for name, millis in timings.items():
        ordered = sorted(millis)
        p95 = ordered[round(0.95 * (len(ordered) - 1))]
        mean = statistics.fmean(ordered)
        verdict = "within" if mean <= BUDGET_MS else "OVER"
        print(
            f"  {name:<22} mean {mean:5.2f} ms   median {statistics.median(ordered):5.2f} ms"
            f"   p95 {p95:5.2f} ms   max {ordered[-1]:6.2f} ms   ({verdict} the {BUDGET_MS:.0f} ms"
            " budget)"
        )


def held_out(article_id: str) -> bool:
    """The fixed third of the labelled articles that rules are checked on, never written on."""
    return int(hashlib.sha1(article_id.encode()).hexdigest(), 16) % 3 == 2


def _overlaps(predicted: Statement, gold: dict) -> bool:
    shared = min(predicted.content_end, gold["content_end"]) - max(
        predicted.content_start, gold["content_start"]
    )
    return shared * 2 >= gold["content_end"] - gold["content_start"]


def score(gold: list[dict], predictions: dict[str, list[Statement]]) -> dict[str, list[int]]:
    """Per kind (and "all"): [correct predictions, predictions, correct gold, gold]."""
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    by_article: dict[str, list[dict]] = defaultdict(list)
    for row in gold:
        by_article[row["article_id"]].append(row)
    for article_id, rows in by_article.items():
        for predicted in predictions[article_id]:
            right = any(
                _overlaps(predicted, row) and predicted.speaker.lower() == row["speaker"].lower()
                for row in rows
            )
            for kind in ("all", predicted.kind):
                counts[kind][0] += right
                counts[kind][1] += 1
        for row in rows:
            right = any(
                _overlaps(p, row) and p.speaker.lower() == row["speaker"].lower()
                for p in predictions[article_id]
            )
            for kind in ("all", row["kind"]):
                counts[kind][2] += right
                counts[kind][3] += 1
    return counts


def _figures(label: str, counts: list[int]) -> str:
    right, predicted, found, labelled = counts
    precision = right / predicted if predicted else 0.0
    recall = found / labelled if labelled else 0.0
    return (
        f"  {label:<9} precision {precision:.3f} ({right}/{predicted})   "
        f"recall {recall:.3f} ({found}/{labelled})"
    )


def quality(gold_path: Path, show: bool) -> None:
    gold = [json.loads(line) for line in gold_path.read_text().splitlines() if line.strip()]
    texts = load_texts(wanted={row["article_id"] for row in gold})
    predictions = {article_id: extract_statements(text) for article_id, text in texts.items()}
    counts = score(gold, predictions)
    print(
        f"speakers against {gold_path.relative_to(REPO)}: {len(gold)} labelled statements "
        f"in {len(texts)} articles (targets: precision ≥ 0.92, recall ≥ 0.80)"
    )
    for kind in ("all", "direct", "reported"):
        print(_figures(kind, counts[kind]))
    for label, wanted in (("developed", False), ("held out", True)):
        rows = [row for row in gold if held_out(row["article_id"]) is wanted]
        ids = {row["article_id"] for row in rows}
        part = score(rows, {article_id: predictions[article_id] for article_id in ids})
        print(_figures(label, part["all"]) + f"   ({len(ids)} articles)")
    if show:
        development = [row for row in gold if not held_out(row["article_id"])]
        show_errors(development, texts, predictions)


def _category(row: dict) -> str:
    """A rough reason a labelled statement can be missed, from how it is written."""
    written = row["speaker_as_written"]
    if row["verb"] == "according to":
        return "according to"
    if written.split()[0].lower() in ("he", "she", "it", "they", "him", "her"):
        return f"{row['kind']}: pronoun"
    if written.lower() != row["speaker"].lower() and written.lower().startswith(("the ", "a ")):
        return f"{row['kind']}: organisation or role"
    if row["verb"] in ("told", "tells"):
        return f"{row['kind']}: told"
    return f"{row['kind']}: {row['verb']}"


def show_errors(
    gold: list[dict], texts: dict[str, str], predictions: dict[str, list[Statement]]
) -> None:
    """Every labelled statement missed and every wrong prediction, grouped by category."""
    misses: dict[str, list[str]] = defaultdict(list)
    wrong: dict[str, list[str]] = defaultdict(list)
    by_article: dict[str, list[dict]] = defaultdict(list)
    for row in gold:
        by_article[row["article_id"]].append(row)
    for article_id, rows in by_article.items():
        text = texts[article_id]
        for row in rows:
            near = [p for p in predictions[article_id] if _overlaps(p, row)]
            if any(p.speaker.lower() == row["speaker"].lower() for p in near):
                continue
            got = f" (got {near[0].speaker!r})" if near else ""
            misses[_category(row) + (", wrong speaker" if near else "")].append(
                f"{article_id} {row['speaker_as_written']!r} → {row['speaker']!r}{got}: "
                + text[row["sentence_start"] : row["sentence_end"]].replace("\n", " ¶ ")[:300]
            )
        for p in predictions[article_id]:
            near = [row for row in rows if _overlaps(p, row)]
            if any(p.speaker.lower() == row["speaker"].lower() for row in near):
                continue
            label = f"wrong speaker (labelled {near[0]['speaker']!r})" if near else "unlabelled"
            wrong[label.split(" (")[0]].append(
                f"{article_id} {p.speaker_as_written!r} → {p.speaker!r} {p.verb} [{label}]: "
                + text[p.content_start : p.content_end].replace("\n", " ¶ ")[:200]
            )
    for title, groups in (("missed", misses), ("wrong predictions", wrong)):
        print(f"\n{title}: {sum(len(v) for v in groups.values())}")
        for category, lines in sorted(groups.items(), key=lambda item: -len(item[1])):
            print(f"  {category}: {len(lines)}")
            for line in lines:
                print(f"    {line}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=500)
    parser.add_argument("--gold", type=Path, default=GOLD)
    parser.add_argument(
        "--show", action="store_true", help="print misses and wrong predictions (held-out hidden)"
    )
    args = parser.parse_args()
    if not DEV_CORPUS.exists():
        print(f"skipped: development corpus not found at {DEV_CORPUS}")
        return 0
    speed(list(load_texts(limit=args.articles).values()))
    if args.gold.exists():
        quality(args.gold, args.show)
    else:
        print(f"precision/recall skipped: no labelled statements at {args.gold}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
