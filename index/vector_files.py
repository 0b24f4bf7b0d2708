"""The two vector files as bytes: where the inverted file sits beside the exact one, what each
starts with, and the exact file's layout, which lets an update append to it by copying bytes.

Separate from `index.vectors` because none of this goes through FAISS: it names a damaged file
before FAISS reads it, and writes the appended file without FAISS reading the old one.
"""

from __future__ import annotations

import errno
import os
import struct
from pathlib import Path

import numpy as np

FILE_MAGIC = b"IxM2"  # how FAISS starts an IndexIDMap2 on disk
IVF_MAGIC = b"IwFl"  # how FAISS starts an IndexIVFFlat on disk
APPROXIMATE_SUFFIX = ".ivf"  # vectors.faiss → vectors.ivf


def approximate_path(path: Path) -> Path:
    return path.with_suffix(APPROXIMATE_SUFFIX)


def file_problem(path: Path) -> str | None:
    """Why `path` (or the inverted file beside it) cannot be a saved VectorIndex, judged
    from its first bytes; None if it may be one (loading reads the rest)."""
    with path.open("rb") as handle:
        if handle.read(len(FILE_MAGIC)) != FILE_MAGIC:
            return "not a FAISS index file"
    stored = approximate_path(path)
    if stored.is_file():
        with stored.open("rb") as handle:
            if handle.read(len(IVF_MAGIC)) != IVF_MAGIC:
                return f"{stored.name} is not a FAISS inverted file"
    return None


# An exact index on disk (FAISS 1.x): "IxM2" and the IndexIDMap2's header, "IxFI" and the
# IndexFlatIP's (each: dimension int32, count int64, two int64 fields, is_trained byte, metric
# int32), the number of floats (uint64) and the vectors, then the number of ids and the ids.
_HEADER = 37
_COUNTS = (8, _HEADER + 8)  # where each header holds the count
_FLOATS = 2 * _HEADER  # where the number of floats is
_VECTORS = _FLOATS + 8


def append_exact(previous: Path, path: Path, ids: np.ndarray, vectors: np.ndarray) -> bool:
    """Write the exact index at `previous` with `vectors` added under `ids` to `path` by copying
    its bytes (in the kernel: at a million chunks FAISS's read, add and write took 30 s of an
    update's 85), when the file has the layout above; False, having written nothing, otherwise."""
    rows, dimension = vectors.shape
    with open(previous, "rb", buffering=0) as old:
        head = old.read(_VECTORS)
        size = os.fstat(old.fileno()).st_size
        if len(head) < _VECTORS or head[:4] != b"IxM2" or head[_HEADER : _HEADER + 4] != b"IxFI":
            return False
        held = struct.unpack_from("<q", head, _COUNTS[0])[0]
        facts = (
            struct.unpack_from("<i", head, 4)[0],
            struct.unpack_from("<i", head, _HEADER + 4)[0],
            struct.unpack_from("<q", head, _COUNTS[1])[0],
            struct.unpack_from("<Q", head, _FLOATS)[0],
            size,
        )
        codes = held * dimension * 4
        expected = (dimension, dimension, held, held * dimension, _VECTORS + codes + 8 + held * 8)
        if facts != expected or os.pread(old.fileno(), 8, _VECTORS + codes) != struct.pack(
            "<Q", held
        ):
            return False
        total = held + rows
        header = bytearray(head)
        for offset in _COUNTS:
            struct.pack_into("<q", header, offset, total)
        struct.pack_into("<Q", header, _FLOATS, total * dimension)
        with open(path, "wb", buffering=0) as out:
            out.write(header)
            _copy(old.fileno(), out.fileno(), _VECTORS, codes)
            out.write(vectors.astype("<f4").tobytes())
            out.write(struct.pack("<Q", total))
            _copy(old.fileno(), out.fileno(), _VECTORS + codes + 8, held * 8)
            out.write(ids.astype("<i8").tobytes())
    return True


def _copy(source: int, target: int, offset: int, count: int) -> None:
    """`count` bytes of `source` from `offset` to `target` at its position."""
    while count > 0:
        try:
            done = os.copy_file_range(source, target, count, offset)
        except OSError as error:
            if error.errno not in (errno.EXDEV, errno.ENOSYS, errno.EOPNOTSUPP, errno.EINVAL):
                raise
            done = os.write(target, os.pread(source, min(count, 1 << 26), offset))
        if done == 0:
            raise OSError(errno.EIO, "the previous vectors file ended early", str(target))
        offset += done
        count -= done
