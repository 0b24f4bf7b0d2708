"""Story clusters on the development corpus: library speed, thresholds, hand-labelled pairs.

Usage:
    .venv/bin/python bench/clusters.py compare   # datasketch against rensa, MinHash and LSH
    .venv/bin/python bench/clusters.py sweep     # pairs by Jaccard, and the rule on the labels
    .venv/bin/python bench/clusters.py params    # shingle size and permutations, on the labels
    .venv/bin/python bench/clusters.py sample --index-dir DIR  # (re)write the labelled pairs
    .venv/bin/python bench/clusters.py show      # the sampled pairs' texts, for labelling
    .venv/bin/python bench/clusters.py score     # precision and recall of the index's rule
    .venv/bin/python bench/clusters.py timing --index-dir DIR  # cluster the corpus, and one update

`sample` takes every candidate pair of the loose LSH whose Jaccard (word 5-grams, photo galleries
left out) is at least NEAR_FLOOR — on the development corpus that is every pair the rule could
cluster (its `REVISION_FLOOR` is the same) — and keeps the labels already in the file (`whole` is
the Jaccard with the galleries left in, for comparison). `clustered` says whether the index's rule
(`index.clusters`, run over the whole corpus with the chunk vectors of the index built from it,
`--index-dir`) puts the two in one story. A label says whether the two articles are versions of one
piece of copy (`same: true`: republished, syndicated, updated, or re-topped with the earlier body
kept) or not (`same: false`: template text shared by newsletter issues, listings or annual
explainers, or separate reports sharing some background), judged by reading both;
bench/data/README.md has the guide and the changes. A note starting "borderline" marks a hard call;
`score` reports the figures with and without those. Skips (exit 0) when the development corpus is
absent.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from rensa import RMinHash, RMinHashLSH  # noqa: E402

from index import clusters  # noqa: E402
from index.articles import Article, read_corpus  # noqa: E402
from index.manifest import METADATA  # noqa: E402
from index.store import IndexReader, create_metadata, open_index  # noqa: E402

DEV_CORPUS = REPO.parent / "shared" / "data" / "realtimeqa-2022" / "corpus.jsonl.gz"
LABELS = REPO / "bench" / "data" / "cluster_pairs.jsonl"
NEAR_FLOOR = 0.2  # candidate pairs at or above this Jaccard are sampled for labelling
ROWS = clusters.PERMUTATIONS // clusters.BANDS


def load(corpus: Path) -> list[Article]:
    return list(read_corpus(corpus))


def candidate_pairs(articles: list[Article], bands: int = 64) -> set[tuple[int, int]]:
    """Pairs a loose LSH (64 bands of 2 rows: Jaccard 0.2 → p ≈ 0.93) proposes."""
    signatures = [clusters.signature(a.text) for a in articles]
    lsh = RMinHashLSH(0.2, clusters.PERMUTATIONS, bands)
    lsh.insert_pairs(list(enumerate(signatures)))
    pairs = set()
    for i, minhash in enumerate(signatures):
        pairs.update((min(i, j), max(i, j)) for j in lsh.query(minhash) if j != i)
    return pairs


def scored_pairs(articles: list[Article]) -> list[dict[str, object]]:
    """Every loose candidate pair with its exact Jaccard, galleries left out and left in."""
    story = [clusters.shingles(clusters.words(a.text)) for a in articles]
    raw = [clusters.shingles(clusters.WORD.findall(a.text.lower())) for a in articles]
    rows = []
    for i, j in sorted(candidate_pairs(articles)):
        rows.append({
            "a": articles[i].id, "b": articles[j].id,
            "story": round(clusters.jaccard(story[i], story[j]), 4),
            "whole": round(clusters.jaccard(raw[i], raw[j]), 4),
        })  # fmt: skip
    return rows


def pair_row(a: Article, b: Article) -> dict[str, object]:
    raw = [clusters.shingles(clusters.WORD.findall(x.text.lower())) for x in (a, b)]
    return {
        "a": a.id,
        "b": b.id,
        "story": round(clusters.similarity(a.text, b.text), 4),
        "whole": round(clusters.jaccard(*raw), 4),
    }


def article_db(articles: list[Article], built: IndexReader) -> sqlite3.Connection:
    """An in-memory index database holding the articles and the chunks `built` cut them into."""
    db = create_metadata(Path(":memory:"))
    db.executemany(
        "INSERT INTO articles VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [(a.id, a.title, a.source, a.date, a.url, a.origin, "", a.text) for a in articles],
    )
    db.execute("ATTACH DATABASE ? AS built", (str(built.directory / METADATA),))
    db.execute("INSERT INTO chunks SELECT * FROM built.chunks WHERE article_id IN "
               "(SELECT id FROM articles)")  # fmt: skip
    db.commit()
    db.execute("DETACH DATABASE built")
    return db


def story_db(articles: list[Article], built: IndexReader) -> sqlite3.Connection:
    """The articles clustered by the index's own rule, with `built`'s chunk vectors."""
    db = article_db(articles, built)
    clusters.cluster_articles(
        db, [a.id for a in articles], built.vectors.vectors, previous_attached=False
    )
    return db


def stories(articles: list[Article], built: IndexReader) -> dict[str, str]:
    """Article id → its story under the index's rule (only articles in stories of two or more)."""
    db = story_db(articles, built)
    return dict(db.execute("SELECT article_id, cluster FROM story_clusters").fetchall())


def together(story: dict[str, str], row: dict[str, object]) -> bool:
    one, other = story.get(str(row["a"])), story.get(str(row["b"]))
    return one is not None and one == other


def compare(articles: list[Article]) -> None:
    texts = [list(clusters.shingles(clusters.words(a.text))) for a in articles]
    print(f"{len(articles)} articles, {sum(map(len, texts)) / len(texts):.0f} shingles each")
    started = time.perf_counter()
    for text in texts:
        minhash = RMinHash(clusters.PERMUTATIONS, clusters.SEED)
        minhash.update(text)
    rensa_s = time.perf_counter() - started
    signatures = [clusters.signature(a.text) for a in articles]
    started = time.perf_counter()
    lsh = RMinHashLSH(clusters.THRESHOLD, clusters.PERMUTATIONS, clusters.BANDS)
    lsh.insert_pairs(list(enumerate(signatures)))
    found = sum(len(lsh.query(m)) - 1 for m in signatures)
    rensa_lsh = time.perf_counter() - started
    print(f"rensa 0.5      MinHash {rensa_s:.2f} s, LSH insert+query all {rensa_lsh:.3f} s "
          f"({found // 2} candidate pairs)")  # fmt: skip
    try:
        from datasketch import MinHash, MinHashLSH
    except ImportError:
        print("datasketch     not installed (pip install datasketch to compare)")
        return
    started = time.perf_counter()
    sketches = []
    for text in texts:
        minhash = MinHash(num_perm=clusters.PERMUTATIONS, seed=1)
        minhash.update_batch([s.encode() for s in text])
        sketches.append(minhash)
    datasketch_s = time.perf_counter() - started
    started = time.perf_counter()
    index = MinHashLSH(num_perm=clusters.PERMUTATIONS, params=(clusters.BANDS, ROWS))
    for n, minhash in enumerate(sketches):
        index.insert(n, minhash)
    found = sum(len(index.query(m)) - 1 for m in sketches)
    datasketch_lsh = time.perf_counter() - started
    print(f"datasketch 2.0 MinHash {datasketch_s:.2f} s, LSH insert+query all "
          f"{datasketch_lsh:.3f} s ({found // 2} candidate pairs)")  # fmt: skip
    started = time.perf_counter()
    for article in articles:
        clusters.shingles(clusters.words(article.text))
    print(f"shingling alone (both)   {time.perf_counter() - started:.2f} s")
    print(f"MinHash speed-up of rensa {datasketch_s / rensa_s:.0f}x")


def lsh_recall(articles: list[Article], rows: list[dict[str, object]]) -> None:
    """How many of the pairs at or above the revision floor the index's own LSH proposes."""
    position = {a.id: n for n, a in enumerate(articles)}
    signatures = [clusters.signature(a.text) for a in articles]
    lsh = RMinHashLSH(clusters.THRESHOLD, clusters.PERMUTATIONS, clusters.BANDS)
    lsh.insert_pairs(list(enumerate(signatures)))
    wanted = [r for r in rows if r["story"] >= clusters.REVISION_FLOOR]  # type: ignore[operator]
    hit = sum(position[str(r["b"])] in lsh.query(signatures[position[str(r["a"])]]) for r in wanted)
    print(f"LSH ({clusters.BANDS} bands × {ROWS} rows) proposes {hit} of the {len(wanted)} pairs "
          f"at or above {clusters.REVISION_FLOOR}")  # fmt: skip


def read_labels() -> dict[tuple[str, str], dict[str, object]]:
    if not LABELS.exists():
        return {}
    records = [json.loads(line) for line in LABELS.read_text().splitlines() if line.strip()]
    return {(r["a"], r["b"]): r for r in records}


def sample(articles: list[Article], rows: list[dict[str, object]], built: IndexReader) -> None:
    by_id = {a.id: a for a in articles}
    labels = read_labels()
    story = stories(articles, built)
    labelled = {frozenset(pair): pair for pair in labels}
    chosen = []
    for row in rows:  # a labelled pair keeps the order it was labelled in
        pair = labelled.pop(frozenset((row["a"], row["b"])), None)
        if pair is not None:
            chosen.append(pair_row(by_id[pair[0]], by_id[pair[1]]))
        elif row["story"] >= NEAR_FLOOR:  # type: ignore[operator]
            chosen.append(row)
    for a, b in labelled.values():  # labelled before, no longer a candidate: kept
        chosen.append(pair_row(by_id[a], by_id[b]))
    ordered = sorted(chosen, key=lambda r: (not together(story, r), -r["story"]))  # type: ignore[operator]
    LABELS.parent.mkdir(parents=True, exist_ok=True)
    with LABELS.open("w") as out:
        for row in ordered:
            a, b = by_id[str(row["a"])], by_id[str(row["b"])]
            old = labels.get((a.id, b.id), {})
            record = row | {
                "clustered": together(story, row),
                "titles": [a.title, b.title],
                "dates": [a.date, b.date],
                "same": old.get("same"),
                "note": old.get("note", ""),
            }
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
    inside = sum(together(story, r) for r in chosen)
    print(f"wrote {len(chosen)} pairs ({inside} clustered) to {LABELS}")


def show(articles: list[Article], width: int = 600) -> None:
    by_id = {a.id: a for a in articles}
    for n, record in enumerate(read_labels().values()):
        a, b = by_id[str(record["a"])], by_id[str(record["b"])]
        print(f"#{n} story {record['story']} whole {record['whole']} "
              f"clustered {record['clustered']} same {record['same']}")  # fmt: skip
        for article in (a, b):
            print(f"  [{article.source} {article.date}] {article.title}")
            print("   ", " ".join(article.text.split())[:width])
        print()


def score(rows: list[dict[str, object]] | None = None) -> None:
    """Precision and recall of the `clustered` flags (the index's rule, written by `sample`),
    then of a Jaccard threshold alone, on the labelled pairs."""
    labels = list(read_labels().values())
    if any(r["same"] is None for r in labels):
        print(f"{sum(r['same'] is None for r in labels)} pairs are not labelled yet")
    labelled = [r for r in labels if r["same"] is not None]
    clear = [r for r in labelled if not str(r["note"]).startswith("borderline")]
    for name, group in (("all labelled pairs", labelled), ("without borderline", clear)):
        _report(f"index rule, {name}", group, lambda r: bool(r["clustered"]))
    for threshold in (0.3, 0.4, 0.5, 0.6):
        _report(f"Jaccard >= {threshold:.2f} alone", labelled,
                lambda r, t=threshold: r["story"] >= t)  # type: ignore[misc]  # fmt: skip
    with_galleries = [r for r in labelled if r["whole"] >= clusters.THRESHOLD]  # type: ignore[operator]
    true = sum(bool(r["same"]) for r in with_galleries)
    print(f"galleries left in, Jaccard >= {clusters.THRESHOLD}: {len(with_galleries)} pairs, "
          f"precision {true / max(len(with_galleries), 1):.3f}")  # fmt: skip
    inside = sum(bool(r["clustered"]) for r in labelled)
    print(f"labelled pairs: {len(labelled)} ({inside} clustered, "
          f"{len(labelled) - inside} near the threshold, not clustered; "
          f"{len(labelled) - len(clear)} borderline)")  # fmt: skip


def _report(name: str, labelled: list[dict[str, object]], taken_by) -> None:  # type: ignore[no-untyped-def]
    taken = [r for r in labelled if taken_by(r)]
    true = sum(bool(r["same"]) for r in taken)
    same = sum(bool(r["same"]) for r in labelled)
    precision = true / len(taken) if taken else 1.0
    recall = true / same if same else 1.0
    print(f"{name}: {len(taken)} clustered, {true} of them same: precision {precision:.3f}, "
          f"recall {recall:.3f} ({true} of {same} labelled same)")  # fmt: skip


def timing(articles: list[Article], built: IndexReader) -> None:
    """Seconds to cluster the corpus but its last article, and then to add that one the way
    `index update` does: the others' signatures copied, the previous generation's pairs kept."""
    started = time.perf_counter()
    db = story_db(articles[:-1], built)
    full = time.perf_counter() - started
    pairs = db.execute("SELECT count(*) FROM near_duplicates").fetchone()[0]
    print(f"cluster {len(articles) - 1} articles: {full:.2f} s ({pairs} pairs)")
    with tempfile.TemporaryDirectory() as folder:
        previous = Path(folder) / "previous.sqlite"
        db.commit()  # a backup waits for the source's open transaction
        with sqlite3.connect(previous) as copy:
            db.backup(copy)
        update = article_db(articles, built)
        update.execute("ATTACH DATABASE ? AS previous", (str(previous),))
        update.execute("INSERT INTO story_signatures SELECT * FROM previous.story_signatures")
        started = time.perf_counter()
        clusters.cluster_articles(
            update, [articles[-1].id], built.vectors.vectors, previous_attached=True
        )
        one = time.perf_counter() - started
        kept = update.execute("SELECT count(*) FROM near_duplicates").fetchone()[0]
        update.close()
    print(f"add one article to them: {one:.3f} s ({kept} pairs)")


def params(articles: list[Article]) -> None:
    """Shingle sizes by the best recall at precision >= 0.95 on the labelled pairs, and how
    many permutations (in bands of 4 rows) the LSH needs to propose every clustered pair."""
    by_id = {a.id: a for a in articles}
    labelled = [r for r in read_labels().values() if r["same"] is not None]
    same = sum(bool(r["same"]) for r in labelled)
    chosen = clusters.SHINGLE_WORDS
    for size in (3, 4, 5, 7, 9):
        clusters.SHINGLE_WORDS = size
        scores = [clusters.similarity(by_id[r["a"]].text, by_id[r["b"]].text) for r in labelled]
        best = (0.0, 0.0, 0.0)
        for threshold in (t / 100 for t in range(30, 91, 5)):
            taken = [r for r, score in zip(labelled, scores, strict=True) if score >= threshold]
            true = sum(bool(r["same"]) for r in taken)
            precision = true / len(taken) if taken else 1.0
            if precision >= 0.95 and true / same > best[2]:
                best = (threshold, precision, true / same)
        print(f"{size}-word shingles: best recall at precision >= 0.95 is {best[2]:.3f} "
              f"(threshold {best[0]:.2f}, precision {best[1]:.3f})")  # fmt: skip
    clusters.SHINGLE_WORDS = chosen
    wanted = [r for r in labelled if r["story"] >= clusters.REVISION_FLOOR]  # type: ignore[operator]
    for permutations in (64, 128, 256):
        started = time.perf_counter()
        signatures = {}
        for article in articles:
            minhash = RMinHash(permutations, clusters.SEED)
            minhash.update(list(clusters.shingles(clusters.words(article.text))))
            signatures[article.id] = minhash
        keys = list(signatures)
        lsh = RMinHashLSH(clusters.THRESHOLD, permutations, permutations // ROWS)
        lsh.insert_pairs([(n, signatures[key]) for n, key in enumerate(keys)])
        seconds = time.perf_counter() - started
        found = sum(keys.index(str(r["b"])) in lsh.query(signatures[str(r["a"])]) for r in wanted)
        print(f"{permutations} permutations ({permutations // ROWS} bands of {ROWS} rows): "
              f"{found} of {len(wanted)} clustered pairs proposed; {seconds:.1f} s "
              f"with shingling")  # fmt: skip


def sweep(articles: list[Article], rows: list[dict[str, object]]) -> None:
    print(f"{len(rows)} loose candidate pairs among {len(articles)} articles")
    bins = Counter(int(r["story"] * 20) / 20 for r in rows)  # type: ignore[operator]
    for low in sorted(bins):
        if low >= 0.2:
            print(f"  Jaccard in [{low:.2f}, {low + 0.05:.2f}): {bins[low]}")
    lsh_recall(articles, rows)
    score(rows)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = ["compare", "sweep", "params", "sample", "show", "score", "timing"]
    parser.add_argument("command", choices=commands)
    parser.add_argument("--corpus", type=Path, default=DEV_CORPUS)
    parser.add_argument("--index-dir", type=Path, default=REPO / ".newsdesk" / "dev-index",
                        help="an index built from --corpus: `sample` and `timing` read its "
                             "chunk vectors for the rule's topic check")  # fmt: skip
    args = parser.parse_args()
    if args.command == "score":
        score()
        return 0
    if not args.corpus.exists():
        print(f"skipped: development corpus not found at {args.corpus}")
        return 0
    articles = load(args.corpus)
    if args.command == "compare":
        compare(articles)
    elif args.command == "params":
        params(articles)
    elif args.command == "show":
        show(articles)
    elif args.command == "sweep":
        sweep(articles, scored_pairs(articles))
    else:
        if not (args.index_dir / "current").exists():
            print(f"no index at {args.index_dir}: build one from {args.corpus} first "
                  "(newsdesk index build --corpus ... --index-dir ...)")  # fmt: skip
            return 1
        built = open_index(args.index_dir)
        if args.command == "timing":
            timing(articles, built)
        else:
            sample(articles, scored_pairs(articles), built)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
