"""What an index's on-disk generation holds, read back for comparing two builds of the same
corpus (tests/index/test_ray_build.py and bench/ray_build.py compare the Ray build with the
in-process one this way)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import numpy as np

from index.layout import current_generation
from index.manifest import METADATA
from index.store import open_index


def contents(index_dir: Path) -> tuple[dict[str, list], dict[int, np.ndarray]]:
    """Every table row the build wrote, in order, and the vector of each chunk."""
    db = sqlite3.connect(current_generation(index_dir) / METADATA)
    tables = [row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
    rows = {name: db.execute(f"SELECT * FROM {name} ORDER BY rowid").fetchall() for name in tables}
    db.close()
    reader = open_index(index_dir)
    ids = reader.chunk_ids()
    vectors = dict(zip(ids.tolist(), reader.vectors.vectors(ids), strict=True))
    reader.close()
    return rows, vectors
