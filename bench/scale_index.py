"""A SYNTHETIC index of about a million chunks, written in minutes from an encoded index.

Encoding a million chunks takes two hours on two cores; measuring how serving scales does not
need new meanings, only more of them. This script copies an encoded development index (the
source, e.g. one built from ../shared/data/realtimeqa-2022/corpus.jsonl.gz) until the target
is reached, and writes the result in the real on-disk format, published through `index.layout`
so it opens through the normal open/validate path (manifest, file sizes, SQLite quick_check),
with the files a build of this size writes (the inverted file, trained here, and the chunk
table):

- copy 0 is the source's articles as they are (so the development questions keep their gold
  articles); copy c ≥ 1 has the id `<id>-r<c>`, the URL `<url>?r=<c>`, a date c × 91 days
  earlier, and changed wording: weekday names rotated (Monday → Friday → Sunday, Thursday ↔
  Saturday — same lengths, so the source's chunk offsets stay valid) and a last line
  "(Archive copy c.)" after the last chunk (no text is a duplicate that a build would skip);
- chunk ids are the real `chunk_id(article id, start, end)` of each copy's spans;
- vectors are the source chunk's vector plus Gaussian noise (σ = 0.015 per dimension, a cosine
  of about 0.96 to the original), renormalised: search behaves like real data, with each
  story told about 21 times at slightly different angles;
- BM25 term frequencies are the source rows copied, with the rotated weekday terms' columns
  moved to match the text (no re-tokenising);
- statements, story signatures, near-duplicate pairs and story clusters are copied within each
  copy (ids remapped), so who-said questions and story caps see archive-sized tables.

It also writes the corpus the index was made from (OUT/corpus/part-NNN.jsonl.gz, one file per
copy), so `newsdesk index update --corpus OUT/corpus --index-dir OUT/index` reuses everything
(content hashes match) and only embeds what is added.

    .venv/bin/python bench/scale_index.py /tmp/newsdesk-scale-1m --chunks 1000000 \
        --source /tmp/dev-index6
    .venv/bin/newsdesk index stats --index-dir /tmp/newsdesk-scale-1m/index

Stops at the first article that makes both ≥ N chunks and ≥ N/10 articles.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import sqlite3
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np
import scipy.sparse as sp

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from index import corpus_state, layout  # noqa: E402
from index.articles import text_digest  # noqa: E402
from index.chunk_table import ChunkTable  # noqa: E402
from index.chunking import chunk_id  # noqa: E402
from index.lexical import LexicalIndex  # noqa: E402
from index.manifest import (  # noqa: E402
    CHUNK_TABLE,
    FORMAT_VERSION,
    LEXICAL,
    METADATA,
    VECTORS,
    Manifest,
    generation_files,
    generation_times,
)
from index.store import create_metadata  # noqa: E402
from index.vectors import VectorIndex  # noqa: E402

NOISE = 0.015
DAYS_BACK = 91
ROTATIONS = (("Monday", "Friday", "Sunday"), ("Thursday", "Saturday"))
INDEX, CORPUS = "index", "corpus"


def rotated(text: str, copy: int) -> str:
    """`text` with each rotation's words moved `copy` places along it (lengths kept)."""
    if copy == 0:
        return text
    for words in ROTATIONS:
        for position, word in enumerate(words):
            text = text.replace(word, f"\x00{position}\x00")
        for position, _ in enumerate(words):
            text = text.replace(f"\x00{position}\x00", words[(position + copy) % len(words)])
    return text


def column_map(vocabulary: dict[str, int], copy: int) -> np.ndarray:
    """Column → column for the term frequencies of `copy` (rotated weekday terms moved)."""
    mapping = np.arange(len(vocabulary), dtype=np.int32)
    for words in ROTATIONS:
        terms = [w.lower() for w in words]
        if all(t in vocabulary for t in terms):
            for position, term in enumerate(terms):
                target = terms[(position + copy) % len(terms)]
                mapping[vocabulary[term]] = vocabulary[target]
    return mapping


def shifted(day: str | None, copy: int) -> str | None:
    if day is None or copy == 0:
        return day
    return (date.fromisoformat(day) - timedelta(days=DAYS_BACK * copy)).isoformat()


def suffix(copy: int) -> str:
    return "" if copy == 0 else f"-r{copy}"


def content_hash(article_id: str, title: str, source, day, url, text: str) -> str:
    """As `index.articles.Article.content_hash`, so an update sees the article unchanged."""
    fields = [article_id, title, source, day, url, text]
    return hashlib.sha256(json.dumps(fields, ensure_ascii=False).encode()).hexdigest()


def write_index(source_dir: Path, out: Path, target_chunks: int, seed: int = 0) -> dict:
    started = time.perf_counter()
    source_gen = layout.current_generation(source_dir)
    manifest = Manifest.load(source_gen)
    src = sqlite3.connect(f"file:{source_gen / METADATA}?mode=ro", uri=True)
    articles = src.execute(
        "SELECT id, title, source, date, url, text FROM articles ORDER BY rowid"
    ).fetchall()
    chunk_rows = src.execute(
        'SELECT id, article_id, ordinal, start, "end", sentences, tokens FROM chunks '
        "ORDER BY article_id, ordinal"
    ).fetchall()
    by_article: dict[str, list[tuple]] = {}
    for row in chunk_rows:
        by_article.setdefault(row[1], []).append(row)
    src.close()

    # Which (copy, article) pairs: whole copies, then a prefix of the last one.
    per_article = np.asarray([len(by_article.get(a[0], ())) for a in articles])
    chosen: list[tuple[int, int]] = []
    chunks_total = 0
    copy = 0
    while chunks_total < target_chunks or len(chosen) < target_chunks // 10:
        for position in range(len(articles)):
            chosen.append((copy, position))
            chunks_total += int(per_article[position])
            if chunks_total >= target_chunks and len(chosen) >= target_chunks // 10:
                break
        copy += 1
    copies = copy

    index_dir = out / INDEX
    corpus_dir = out / CORPUS
    corpus_dir.mkdir(parents=True, exist_ok=True)
    for stale in corpus_dir.glob("*"):
        stale.unlink()
    with layout.build_lock(index_dir):
        layout.remove_stale(index_dir)
        partial = layout.new_partial(index_dir)
        db = create_metadata(partial / METADATA)
        db.executescript(corpus_state.TABLE)  # so that `index update` of added files appends
        db.execute("ATTACH DATABASE ? AS src", (f"file:{source_gen / METADATA}?mode=ro",))
        db.execute(
            "CREATE TEMP TABLE chunk_map (copy INTEGER, old INTEGER, new INTEGER, "
            "PRIMARY KEY (copy, old))"
        )
        db.execute(
            "CREATE TEMP TABLE article_map (copy INTEGER, old TEXT, PRIMARY KEY (copy, old))"
        )
        fingerprint = hashlib.sha256()
        order: list[int] = []  # source chunk id of each new chunk, in chunk order
        new_ids: list[int] = []
        copy_of_chunk: list[int] = []
        tokens = 0
        corpus_files: dict[int, gzip.GzipFile] = {}
        lines: dict[int, int] = {}
        for copy, position in chosen:
            article_id, title, source, day, url, text = articles[position]
            new_id = article_id + suffix(copy)
            new_title, new_text = rotated(title, copy), rotated(text, copy)
            if copy:
                new_text += f"\n\n(Archive copy {copy}.)"
            new_day = shifted(day, copy)
            new_url = url if copy == 0 or url is None else f"{url}?r={copy}"
            name = f"part-{copy:03d}.jsonl.gz"
            if copy not in corpus_files:
                corpus_files[copy] = gzip.open(  # noqa: SIM115 (closed after the loop)
                    corpus_dir / name, "wt", encoding="utf-8", compresslevel=1
                )
                lines[copy] = 0
            record = {"id": new_id, "url": new_url, "title": new_title, "source": source,
                      "date": new_day, "text": new_text}  # fmt: skip
            corpus_files[copy].write(json.dumps(record, ensure_ascii=False) + "\n")
            lines[copy] += 1
            digest = content_hash(new_id, new_title, source, new_day, new_url, new_text)
            fingerprint.update(digest.encode())
            db.execute(
                "INSERT INTO articles VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (new_id, new_title, source, new_day, new_url, f"{name}:{lines[copy]}", digest,
                 new_text),
            )  # fmt: skip
            db.execute("INSERT INTO article_map VALUES (?, ?)", (copy, article_id))
            corpus_state.record_digest(db, new_id, text_digest(new_text))
            rows = by_article.get(article_id, [])
            fresh = [(chunk_id(new_id, r[3], r[4]) if copy else r[0], new_id, *r[2:]) for r in rows]
            db.executemany("INSERT INTO chunks VALUES (?, ?, ?, ?, ?, ?, ?)", fresh)
            db.executemany(
                "INSERT INTO chunk_map VALUES (?, ?, ?)",
                [(copy, r[0], f[0]) for r, f in zip(rows, fresh, strict=True)],
            )
            order.extend(r[0] for r in rows)
            new_ids.extend(f[0] for f in fresh)
            copy_of_chunk.extend([copy] * len(rows))
            tokens += sum(r[6] for r in rows)
        for handle in corpus_files.values():
            handle.close()
        corpus_state.record_files(db, corpus_state.scan(corpus_dir))
        for copy in range(copies):
            tail = suffix(copy)
            db.execute(
                "INSERT INTO statements SELECT s.article_id || ?, m.new, s.speaker_key, "
                "s.speaker, s.speaker_as_written, s.verb, s.kind, s.content_start, "
                "s.content_end, s.sentence_start, s.sentence_end FROM src.statements s "
                "JOIN chunk_map m ON m.copy = ? AND m.old = s.chunk_id",
                (tail, copy),
            )
            db.execute(
                "INSERT INTO story_signatures SELECT g.article_id || ?, g.signature "
                "FROM src.story_signatures g JOIN article_map a ON a.copy = ? AND a.old = "
                "g.article_id",
                (tail, copy),
            )
            for table, first, second in (
                ("near_duplicates", "article_id", "other_id"),
                ("story_clusters", "article_id", "cluster"),
            ):
                rest = ", similarity" if table == "near_duplicates" else ""
                db.execute(
                    f"INSERT INTO {table} SELECT t.{first} || ?1, t.{second} || ?1{rest} "
                    f"FROM src.{table} t JOIN article_map a ON a.copy = ?2 AND a.old = "
                    f"t.{first} JOIN article_map b ON b.copy = ?2 AND b.old = t.{second}",
                    (tail, copy),
                )
        db.commit()
        db.execute("DETACH DATABASE src")
        ChunkTable.from_metadata(db).save(partial / CHUNK_TABLE)
        db.close()

        # Vectors: the source's, perturbed per copy and renormalised, added a block at a time.
        source_vectors = VectorIndex.load(source_gen / VECTORS)
        ids_all = np.asarray(new_ids, dtype=np.int64)
        order_all = np.asarray(order, dtype=np.int64)
        copies_all = np.asarray(copy_of_chunk, dtype=np.int64)
        vectors = VectorIndex.empty(source_vectors.dimension)
        rng = np.random.default_rng(seed)
        for copy in range(copies):
            block = copies_all == copy
            base = source_vectors.vectors(order_all[block])
            if copy:
                base = base + rng.standard_normal(base.shape, dtype=np.float32) * NOISE
                base /= np.linalg.norm(base, axis=1, keepdims=True)
            vectors.add(ids_all[block], base)
        del source_vectors
        vectors.save(partial / VECTORS)  # with the inverted file, trained here as a build does
        del vectors

        # BM25: the source rows, weekday columns moved for each copy.
        lexical = LexicalIndex.load(source_gen / LEXICAL)
        row_of = {int(c): r for r, c in enumerate(lexical.chunk_ids)}
        pieces = []
        for copy in range(copies):
            block = copies_all == copy
            rows = lexical.rows(np.asarray([row_of[int(c)] for c in order_all[block]]))
            rows = rows.copy()
            rows.indices = column_map(lexical.vocabulary, copy)[rows.indices]
            rows.sum_duplicates()
            pieces.append(rows)
        matrix = sp.vstack(pieces, format="csr")
        LexicalIndex(ids_all, matrix, lexical.vocabulary).save(partial / LEXICAL)  # and weights
        del lexical, pieces

        Manifest(
            format_version=FORMAT_VERSION,
            model_id=manifest.model_id,
            dimension=manifest.dimension,
            chunker=manifest.chunker,
            articles=len(chosen),
            chunks=len(ids_all),
            tokens=tokens,
            skipped=0,
            corpus=str(corpus_dir),
            corpus_fingerprint=fingerprint.hexdigest(),
            built_at=datetime.now(UTC).isoformat(timespec="seconds"),
            build_seconds=round(time.perf_counter() - started, 3),
            files=generation_files(partial),
            modified_ns=generation_times(partial),
            statement_rules=manifest.statement_rules,
            cluster_rules=manifest.cluster_rules,
        ).save(partial)
        layout.publish(index_dir, partial)
    return {
        "index_dir": str(index_dir),
        "corpus": str(corpus_dir),
        "articles": len(chosen),
        "chunks": len(ids_all),
        "copies": copies,
        "seconds": round(time.perf_counter() - started, 1),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--chunks", type=int, default=1_000_000)
    parser.add_argument("--source", type=Path, required=True, help="an encoded index folder")
    args = parser.parse_args()
    if not layout.has_index(args.source):
        print(f"skipped: no index at {args.source}")
        return 0
    print(json.dumps(write_index(args.source, args.out_dir, args.chunks)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
