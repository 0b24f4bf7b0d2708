"""Story clusters: articles whose texts are near-duplicates (wire copies, updated versions).

The same story often reaches the archive several times — a wire copy under another headline, a
version with its first paragraph rewritten, a paragraph dropped or a correction appended, or the
story re-topped a day later with the earlier body kept below. Each article gets a MinHash
signature over its word 5-grams (`rensa`); a loose LSH index over the signatures proposes
candidate pairs (and each article's neighbours), and the exact Jaccard similarity of the pair's
5-gram sets decides:

- at or above `THRESHOLD` the two are near-duplicates;
- from `REVISION_FLOOR` up, they are a revision (a story re-topped or updated with the earlier
  body kept) only when both are dated within `REVISION_DAYS` of each other, once their template
  text is left out at least `REVISION_CONTAINMENT` of the shorter one's 5-grams are in the
  other, and the two are about one subject: the cosine of their topic vectors (the mean of each
  article's chunk vectors) is at least `REVISION_TOPIC`. From `SURE_REVISION_FLOOR` and
  `SURE_REVISION_CONTAINMENT` up the text alone decides: a transcript or a long update can
  drift in topic while keeping most of the copy. Template text is the 5-grams that a neighbour
  published at another time (more than `REVISION_DAYS` from both) also carries: daily
  newsletters, monthly listings and annual explainers share their boilerplate with issues weeks
  or years apart; a revision shares its body with nothing else. Two reports that only reuse
  some background stay apart, and so do two stories on other subjects that carry the same
  paragraphs (a background section, a captured "related story").

Photo galleries are left out of the comparison (a line of captions with photo credits, CNN's
"Hide Caption 3 of 40"): pages of different stories often carry the same long gallery, which alone
can make them look alike. The thresholds were chosen on hand-labelled pairs of the development
corpus (`bench/clusters.py`). Clusters are the connected groups of near-duplicate pairs.

Signatures and pairs are stored in the index, so `index update` hashes only new or changed
articles and pairs them, and their neighbours (whose template evidence may have changed), against
the stored signatures; the pairs between the other articles are kept.
"""

from __future__ import annotations

import logging
import re
import sqlite3
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np
from rensa import RMinHash, RMinHashLSH

logger = logging.getLogger(__name__)

# Articles whose 5-gram sets are kept while pairing (about 100 KB each): articles are paired in
# id order, and an article's neighbours are mostly paired near it, so a bounded cache serves
# nearly every lookup; an unbounded one held about 10 GB while pairing 100,000 articles.
SHINGLE_CACHE = 4096

# Raise when anything below changes, so `index update` hashes and pairs every article again.
RULES_VERSION = 4
SHINGLE_WORDS = 5
PERMUTATIONS = 128
BANDS = 64  # 64 bands of 2 rows: a pair at Jaccard 0.3 becomes a candidate with p ≈ 0.998
SEED = 1729
THRESHOLD = 0.6  # near-duplicates whatever their dates
REVISION_FLOOR = 0.2  # the least Jaccard of a revision
REVISION_DAYS = 21  # a revision is dated within this many days of the other version
REVISION_CONTAINMENT = 0.55  # share of the shorter text (template left out) in the other
REVISION_TOPIC = 0.9  # least cosine of the two articles' topic vectors
SURE_REVISION_FLOOR = 0.3  # from this Jaccard, and
SURE_REVISION_CONTAINMENT = 0.65  # this share, a revision needs no topic check

TABLE = """
CREATE TABLE story_signatures (
    article_id TEXT PRIMARY KEY REFERENCES articles(id), signature BLOB NOT NULL
);
CREATE TABLE near_duplicates (
    article_id TEXT NOT NULL, other_id TEXT NOT NULL, similarity REAL NOT NULL,
    PRIMARY KEY (article_id, other_id)
);
CREATE TABLE story_clusters (
    article_id TEXT PRIMARY KEY REFERENCES articles(id), cluster TEXT NOT NULL
);
CREATE INDEX story_clusters_by_cluster ON story_clusters(cluster);
"""
WORD = re.compile(r"\w+")
GALLERY_CAPTION = re.compile(r"Hide Caption \d+ of \d+")
PHOTO_CREDIT = re.compile(r"Getty Images|/(?:AP|AFP|Reuters|EPA)\b|Shutterstock")
GALLERY_CREDITS = 3  # photo credits in one line that make it a gallery

# The stored vectors of chunks, by chunk id, in the order asked.
ChunkVectors = Callable[[Sequence[int]], np.ndarray]


@dataclass(frozen=True)
class ClusterTally:
    signed: int  # articles hashed in this build (new, changed, or all when the rules changed)
    pairs: int  # near-duplicate pairs in the index
    clusters: int  # clusters of two or more articles
    clustered: int  # articles in them


def words(text: str) -> list[str]:
    """The text's words, lower-cased, without its photo galleries."""
    kept = (line for line in text.split("\n") if not _is_gallery(line))
    return WORD.findall("\n".join(kept).lower())


def _is_gallery(line: str) -> bool:
    return bool(GALLERY_CAPTION.search(line)) or (
        len(PHOTO_CREDIT.findall(line)) >= GALLERY_CREDITS
    )


def shingles(tokens: Sequence[str]) -> set[str]:
    """The text's word 5-grams (a text shorter than that is its one shingle)."""
    k = SHINGLE_WORDS
    if len(tokens) <= k:
        return {" ".join(tokens)}
    return {" ".join(tokens[i : i + k]) for i in range(len(tokens) - k + 1)}


def signature(text: str) -> RMinHash:
    minhash = RMinHash(PERMUTATIONS, SEED)
    minhash.update(list(shingles(words(text))))
    return minhash


def jaccard(one: set[str], other: set[str]) -> float:
    union = len(one | other)
    return len(one & other) / union if union else 0.0


def containment(one: set[str], other: set[str]) -> float:
    """How much of the smaller set is in the other."""
    smaller = min(len(one), len(other))
    return len(one & other) / smaller if smaller else 0.0


def similarity(text: str, other: str) -> float:
    """The pair's exact similarity: the Jaccard of their 5-gram sets."""
    return jaccard(shingles(words(text)), shingles(words(other)))


def store_signature(db: sqlite3.Connection, article_id: str, minhash: RMinHash) -> None:
    db.execute(
        "INSERT INTO story_signatures VALUES (?, ?)", (article_id, bytes(minhash.__getstate__()))
    )


def copy_signature(db: sqlite3.Connection, article_id: str) -> bool:
    """Copy an unchanged article's signature from the attached previous generation."""
    cursor = db.execute(
        "INSERT INTO story_signatures SELECT article_id, signature FROM previous.story_signatures "
        "WHERE article_id = ?",
        (article_id,),
    )
    return cursor.rowcount == 1


def _loaded(state: bytes) -> RMinHash | None:
    minhash = RMinHash(PERMUTATIONS, SEED)
    try:
        minhash.__setstate__(state)
    except Exception:  # written by another rensa: hash the article again
        return None
    return minhash


def cluster_articles(
    db: sqlite3.Connection,
    fresh: Iterable[str],
    chunk_vectors: ChunkVectors,
    *,
    previous_attached: bool,
) -> ClusterTally:
    """Pair the `fresh` articles (new, changed or unsigned) and their neighbours with every
    signed article, keep the previous generation's pairs between the others, and write the
    clusters.

    Every article in `articles` must have a signature row or be in `fresh`; fresh articles
    without one are hashed here. `chunk_vectors` gives the vectors of the chunks in `chunks`
    (read only for the few pairs that could be revisions).
    """
    fresh = set(fresh)
    signatures: dict[str, RMinHash] = {}
    for article_id, state in db.execute("SELECT article_id, signature FROM story_signatures"):
        loaded = _loaded(state)
        if loaded is None:
            fresh.add(article_id)
        else:
            signatures[article_id] = loaded
    signed = 0
    for article_id in sorted(fresh - signatures.keys()):
        row = db.execute("SELECT text FROM articles WHERE id = ?", (article_id,)).fetchone()
        signatures[article_id] = signature(row[0])
        db.execute("DELETE FROM story_signatures WHERE article_id = ?", (article_id,))
        store_signature(db, article_id, signatures[article_id])
        signed += 1
    lsh = RMinHashLSH(THRESHOLD, PERMUTATIONS, BANDS)
    keys = sorted(signatures)
    lsh.insert_pairs([(n, signatures[key]) for n, key in enumerate(keys)])
    pairing = _Pairing(db, lsh, keys, signatures, chunk_vectors)
    touched = set(fresh)
    for article_id in fresh:
        touched |= pairing.neighbours(article_id)
    if previous_attached:
        touched |= _previous_neighbours(db, pairing, fresh)
        _keep_previous_pairs(db, touched)
    for article_id in sorted(touched):
        for other in sorted(pairing.neighbours(article_id)):
            if other in touched and other < article_id:
                continue  # a touched pair already checked from the other side
            score = pairing.decide(article_id, other)
            if score is not None:
                pair = (min(article_id, other), max(article_id, other), round(score, 4))
                db.execute("INSERT OR IGNORE INTO near_duplicates VALUES (?, ?, ?)", pair)
    return _write_clusters(db, signed)


class _Pairing:
    """Neighbours, 5-gram sets and dates of the articles being paired, each read once."""

    def __init__(
        self,
        db: sqlite3.Connection,
        lsh: RMinHashLSH,
        keys: list[str],
        signatures: dict[str, RMinHash],
        chunk_vectors: ChunkVectors,
    ) -> None:
        self._db, self._lsh, self._keys, self._signatures = db, lsh, keys, signatures
        self._chunk_vectors = chunk_vectors
        self._neighbours: dict[str, set[str]] = {}
        self._shingles: OrderedDict[str, set[str]] = OrderedDict()  # the latest SHINGLE_CACHE
        self._dates: dict[str, date | None] = {}

    def neighbours(self, article_id: str, minhash: RMinHash | None = None) -> set[str]:
        """The articles the loose LSH proposes for this one (itself left out)."""
        if minhash is not None:
            return {self._keys[n] for n in self._lsh.query(minhash)} - {article_id}
        if article_id not in self._neighbours:
            found = self._lsh.query(self._signatures[article_id])
            self._neighbours[article_id] = {self._keys[n] for n in found} - {article_id}
        return self._neighbours[article_id]

    def decide(self, one: str, other: str) -> float | None:
        """The pair's Jaccard when they are near-duplicates or a revision, else None."""
        first, second = self.shingles(one), self.shingles(other)
        score = jaccard(first, second)
        if score >= THRESHOLD:
            return score
        if score < REVISION_FLOOR or not self._close_in_time(one, other):
            return None
        template: set[str] = set()
        for neighbour in (self.neighbours(one) | self.neighbours(other)) - {one, other}:
            if self._far_in_time(neighbour, one) and self._far_in_time(neighbour, other):
                template |= (first | second) & self.shingles(neighbour)
        shared = containment(first - template, second - template)
        if score >= SURE_REVISION_FLOOR and shared >= SURE_REVISION_CONTAINMENT:
            return score
        if shared >= REVISION_CONTAINMENT and self._one_subject(one, other):
            return score
        return None

    def _one_subject(self, one: str, other: str) -> bool:
        """Whether the cosine of the two articles' topic vectors reaches `REVISION_TOPIC`."""
        first, second = self._topic(one), self._topic(other)
        return first is not None and second is not None and float(first @ second) >= REVISION_TOPIC

    def _topic(self, article_id: str) -> np.ndarray | None:
        """The mean of the article's chunk vectors, of unit length (None without chunks)."""
        ids = [row[0] for row in self._db.execute(
            "SELECT id FROM chunks WHERE article_id = ? ORDER BY ordinal", (article_id,)
        )]  # fmt: skip
        if not ids:
            return None
        mean = np.asarray(self._chunk_vectors(ids), dtype=np.float32).mean(axis=0)
        norm = float(np.linalg.norm(mean))
        return mean / norm if norm else None

    def shingles(self, article_id: str) -> set[str]:
        found = self._shingles.get(article_id)
        if found is not None:
            self._shingles.move_to_end(article_id)
            return found
        row = self._db.execute("SELECT text FROM articles WHERE id = ?", (article_id,)).fetchone()
        found = self._shingles[article_id] = shingles(words(row[0]))
        if len(self._shingles) > SHINGLE_CACHE:
            self._shingles.popitem(last=False)
        return found

    def date(self, article_id: str) -> date | None:
        if article_id not in self._dates:
            row = self._db.execute(
                "SELECT date FROM articles WHERE id = ?", (article_id,)
            ).fetchone()
            self._dates[article_id] = _day(row[0] if row else None)
        return self._dates[article_id]

    def _close_in_time(self, one: str, other: str) -> bool:
        first, second = self.date(one), self.date(other)
        if first is None or second is None:
            return False
        return abs(first - second).days <= REVISION_DAYS

    def _far_in_time(self, neighbour: str, article_id: str) -> bool:
        """Undated neighbours count as far: their shared text is evidence of a template."""
        return not self._close_in_time(neighbour, article_id)


def _day(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value[:10]) if value else None
    except ValueError:
        return None


def _previous_neighbours(db: sqlite3.Connection, pairing: _Pairing, fresh: set[str]) -> set[str]:
    """Articles near a removed article or near a changed article's previous text: the template
    evidence their pairs were decided on may have changed."""
    near: set[str] = set()
    removed = db.execute(
        "SELECT article_id, signature FROM previous.story_signatures "
        "WHERE article_id NOT IN (SELECT id FROM articles)"
    ).fetchall()
    changed = []
    for article_id in fresh:
        row = db.execute(
            "SELECT signature FROM previous.story_signatures WHERE article_id = ?", (article_id,)
        ).fetchone()
        if row is not None:
            changed.append((article_id, row[0]))
    for article_id, state in removed + changed:
        minhash = _loaded(state)
        if minhash is not None:
            near |= pairing.neighbours(article_id, minhash)
    return near


def _keep_previous_pairs(db: sqlite3.Connection, fresh: set[str]) -> None:
    """The previous generation's pairs whose articles are both still here and unchanged."""
    db.execute("CREATE TEMP TABLE fresh_articles (id TEXT PRIMARY KEY)")
    db.executemany("INSERT INTO fresh_articles VALUES (?)", ((a,) for a in fresh))
    db.execute(
        "INSERT INTO near_duplicates SELECT p.article_id, p.other_id, p.similarity "
        "FROM previous.near_duplicates p "
        "JOIN articles a ON a.id = p.article_id JOIN articles b ON b.id = p.other_id "
        "WHERE p.article_id NOT IN fresh_articles AND p.other_id NOT IN fresh_articles"
    )
    db.execute("DROP TABLE fresh_articles")


def _write_clusters(db: sqlite3.Connection, signed: int) -> ClusterTally:
    """Connected groups of pairs; each is named by its first member (earliest date, then the
    longest text, then the id), which is the one cited for the story."""
    parent: dict[str, str] = {}

    def root(node: str) -> str:
        parent.setdefault(node, node)
        while parent[node] != node:
            parent[node] = parent[parent[node]]
            node = parent[node]
        return node

    pairs = db.execute("SELECT article_id, other_id FROM near_duplicates").fetchall()
    for one, other in pairs:
        parent[root(one)] = root(other)
    groups: dict[str, list[str]] = {}
    for node in parent:
        groups.setdefault(root(node), []).append(node)
    rows = []
    for members in groups.values():
        ordered = order_members(db, members)
        rows.extend((member, ordered[0]) for member in ordered)
    db.executemany("INSERT INTO story_clusters VALUES (?, ?)", rows)
    return ClusterTally(signed=signed, pairs=len(pairs), clusters=len(groups), clustered=len(rows))


def order_members(db: sqlite3.Connection, members: Sequence[str]) -> list[str]:
    """Members in the order they are cited: earliest date first (undated last), then the
    longest text, then the id."""
    marks = ",".join("?" * len(members))
    rows = db.execute(
        f"SELECT id, date, length(text) FROM articles WHERE id IN ({marks})", list(members)
    ).fetchall()
    rows.sort(key=lambda row: (row[1] is None, row[1] or "", -row[2], row[0]))
    return [row[0] for row in rows]


def read_clusters(db: sqlite3.Connection) -> dict[str, tuple[str, ...]]:
    """Article id → every member of its cluster (itself included), in citing order; only
    articles in clusters of two or more."""
    by_cluster: dict[str, list[str]] = {}
    for article_id, cluster in db.execute("SELECT article_id, cluster FROM story_clusters"):
        by_cluster.setdefault(cluster, []).append(article_id)
    members: dict[str, tuple[str, ...]] = {}
    for group in by_cluster.values():
        ordered = tuple(order_members(db, group))
        for article_id in ordered:
            members[article_id] = ordered
    return members
