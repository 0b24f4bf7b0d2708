"""What one index generation is made of on disk and what its build recorded about it.

manifest.json   format version, model id, dimension, chunker settings, counts, fingerprint
meta.sqlite     articles (with full text and content hash), chunks (offsets), statements (who
                said what, see `index.stored_statements`), story clusters (near-duplicate
                articles, see `index.clusters`), skipped inputs
vectors.faiss   FAISS index keyed by chunk id (exact)
vectors.ivf     the same vectors in an inverted file trained at build time (≥ 20,000 chunks);
                served memory-mapped instead of vectors.faiss (see `index.vectors`)
chunks.npz      every chunk's id, article, span and sentence spans as flat arrays (`ChunkTable`),
                read at open instead of a million rows of SQLite and JSON
bm25/           BM25 over the same chunks: term counts by chunk (what an update copies) and
                the BM25 weights by term (what a search reads, memory-mapped at open)

Separate from the reader (`index.store`) because builds, updates and the Qdrant publisher write
and read these names and the manifest without loading a generation.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

from index.errors import IndexCorrupt, IndexIncompatible, brief

FORMAT_VERSION = 5  # 3: statements; 4: story clusters; 5: vectors.ivf, chunks.npz
# Version 2 lacks only the statements table, version 3 only the story clusters, version 4 only
# the inverted file and the chunk table: they still serve (no statement is found, every article
# is its own story, the inverted file is trained in memory at open, the chunk table read from
# SQLite), and `index update` upgrades them by finding what is missing without re-embedding.
READABLE_VERSIONS = (2, 3, 4, FORMAT_VERSION)
MANIFEST = "manifest.json"
METADATA = "meta.sqlite"
VECTORS = "vectors.faiss"
CHUNK_TABLE = "chunks.npz"
LEXICAL = "bm25"


@dataclass(frozen=True)
class Manifest:
    format_version: int
    model_id: str
    dimension: int
    chunker: dict[str, object]
    articles: int
    chunks: int
    tokens: int
    skipped: int
    corpus: str
    corpus_fingerprint: str
    built_at: str
    build_seconds: float = 0.0
    # Each file's size in bytes as the build wrote it (path relative to the generation), so a
    # truncated file is caught when the index is opened. Empty in manifests written before.
    files: dict[str, int] = field(default_factory=dict)
    # Each file's modification time (ns) as the build left it. The metadata file, read only in
    # part while serving, gets SQLite's full quick_check at open only when it has changed since
    # (seconds at a million chunks); unchanged, a check of its header and schema. Empty before.
    modified_ns: dict[str, int] = field(default_factory=dict)
    statement_rules: int = 0  # the `stored_statements.RULES_VERSION` its statements were found by
    cluster_rules: int = 0  # the `clusters.RULES_VERSION` its story clusters were found by

    def save(self, directory: Path) -> None:
        (directory / MANIFEST).write_text(json.dumps(asdict(self), indent=2) + "\n")

    @classmethod
    def load(cls, directory: Path) -> Manifest:
        """The generation's manifest; IndexCorrupt when it is missing or unreadable,
        IndexIncompatible when another format version wrote it. Unknown fields are ignored."""
        path, index_dir = directory / MANIFEST, directory.parent
        try:
            data = json.loads(path.read_bytes())
        except FileNotFoundError:
            raise IndexCorrupt(path, "missing", index_dir) from None
        except (OSError, ValueError) as error:  # ValueError: bad JSON or not UTF-8
            raise IndexCorrupt(path, f"not valid JSON ({brief(error)})", index_dir) from None
        if not isinstance(data, dict):
            raise IndexCorrupt(path, "not a JSON object", index_dir)
        if data.get("format_version") not in READABLE_VERSIONS:
            raise IndexIncompatible(
                f"The index at {index_dir} has format version {data.get('format_version')} "
                f"(in {path}), this newsdesk reads versions "
                f"{', '.join(map(str, READABLE_VERSIONS))}; "
                f"rebuild it with `newsdesk index build --index-dir {index_dir}`."
            )
        known = {f.name for f in fields(cls)}
        try:
            manifest = cls(**{key: value for key, value in data.items() if key in known})
        except TypeError:
            missing = sorted(known - data.keys())
            raise IndexCorrupt(path, f"incomplete (no {', '.join(missing)})", index_dir) from None
        if not all(isinstance(f, dict) for f in (manifest.files, manifest.modified_ns)) or (
            not isinstance(manifest.chunks, int)
        ):
            raise IndexCorrupt(path, "malformed (fields of the wrong type)", index_dir)
        return manifest


def generation_files(directory: Path) -> dict[str, int]:
    """Every file of a generation but the manifest, with its size: what `Manifest.files` holds."""
    return {
        path.relative_to(directory).as_posix(): path.stat().st_size
        for path in sorted(directory.rglob("*"))
        if path.is_file() and path.name != MANIFEST
    }


def generation_times(directory: Path) -> dict[str, int]:
    """Every file of a generation but the manifest, with its modification time in nanoseconds:
    what `Manifest.modified_ns` holds (taken when the files are final, before publishing)."""
    return {
        path.relative_to(directory).as_posix(): path.stat().st_mtime_ns
        for path in sorted(directory.rglob("*"))
        if path.is_file() and path.name != MANIFEST
    }
