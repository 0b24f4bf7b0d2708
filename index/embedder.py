"""The embedding model: sentence-transformers, optionally run through a one-time ONNX export.

Nothing loads until a vector, a token count or the model's shape is first asked for. The ONNX
export (`index.onnx_export`) holds the transformer with the model's own pooling modules; it is
made once per model and later runs without importing torch at all (fast start-up for the CLI
and the bot), either in onnxruntime (float32) or in OpenVINO (bfloat16 on CPUs with AMX or
AVX512-BF16 units). On a CUDA device the model runs in torch, in float16. The runners, one per
backend, live in `index.embedding_runners`; which one `auto` means, in `index.encoder_choice`.
Finding, naming and fingerprinting the model's files and sizing the thread pool live in
`index.model_source`. Only this package's embedder modules import sentence_transformers,
transformers, torch, onnxruntime and openvino.
"""

from __future__ import annotations

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import logging
import shutil
import threading
import time
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import Any, Literal

import numpy as np

from index.embedding_runners import (
    _CudaRunner,
    _ExportRunner,
    _OnnxRunner,
    _OpenVinoRunner,
    _TorchRunner,
    cpu_computes_bf16,
    normalise,
)
from index.errors import ModelLoadError
from index.model_source import (
    default_cache_dir,
    local_model_dir,
    model_id_for,
    packaged_model_path,
    resolve_threads,
)
from index.onnx_export import _export_is_current, _export_onnx

logger = logging.getLogger(__name__)

Backend = Literal["onnx", "openvino", "torch"]


class Embedder:
    """Texts → float32 L2-normalised vectors with one sentence-transformers model, loaded lazily.

    `backend="onnx"` or `"openvino"` falls back to plain torch (with a warning) when the model
    cannot be exported faithfully; `"openvino"` falls back to onnxruntime when OpenVINO is
    missing. A `device` other than "cpu" runs plain torch there: the exports are CPU runtimes;
    on a CUDA device ("cuda", "cuda:1") in float16, in large batches sorted by length. Thread-safe:
    the bot encodes queries from worker threads.
    """

    def __init__(
        self,
        model: str | Path | None = None,
        *,
        backend: Backend = "onnx",
        threads: int = 0,
        cache_dir: Path | None = None,
        batch_size: int = 32,
        device: str = "cpu",
    ) -> None:
        if backend not in ("onnx", "openvino", "torch"):
            raise ValueError(f"backend must be 'onnx', 'openvino' or 'torch', not {backend!r}")
        self.model = str(model) if model else str(packaged_model_path())
        self.backend: Backend = backend
        self.threads = resolve_threads(threads)
        self.cache_dir = Path(cache_dir) if cache_dir else default_cache_dir()
        self.batch_size = max(1, batch_size)
        self.device = device
        self._lock = threading.RLock()
        self._model_id: str | None = None
        self._local_dir: Path | None = None
        self._sentence_transformer: Any = None
        self._runner: _ExportRunner | _TorchRunner | _CudaRunner | None = None

    def __repr__(self) -> str:
        return f"Embedder({self.model!r}, backend={self.backend!r}, threads={self.threads})"

    @property
    def model_id(self) -> str:
        """Name plus a hash of the model's files: a different model at the same path is noticed."""
        with self._lock:
            if self._model_id is None:
                local = self._resolve_local_dir()
                if local is None:  # a hub model not downloaded yet: loading fetches it
                    self._load_sentence_transformer()
                    local = self._resolve_local_dir()
                self._model_id = model_id_for(self.model, local)
            return self._model_id

    @property
    def dimension(self) -> int:
        return self._ready().dimension

    @property
    def max_tokens(self) -> int:
        """The model's window in tokens, special tokens included; longer texts are truncated."""
        return self._ready().max_tokens

    @property
    def active_backend(self) -> Backend:
        """The backend actually running, after any fallback (e.g. "torch" if export failed)."""
        runner = self._ready()
        if isinstance(runner, _OpenVinoRunner):
            return "openvino"
        return "onnx" if isinstance(runner, _OnnxRunner) else "torch"

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        """Tokens per text by the model's tokenizer, special tokens included, none truncated."""
        if not texts:
            return []
        return [len(e.ids) for e in self._ready().counter.encode_batch(list(texts))]

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """(n, dimension) float32, L2-normalised; batched with texts of similar length together."""
        runner = self._ready()
        if not texts:
            return np.zeros((0, runner.dimension), dtype=np.float32)
        return normalise(runner.encode(list(texts), self.batch_size))

    def encode_query(self, text: str) -> np.ndarray:
        """(dimension,) vector for one question: no sorting or batching overhead."""
        return normalise(self._ready().encode([text], 1))[0]

    # -- loading ---------------------------------------------------------------------------------

    def _ready(self) -> _ExportRunner | _TorchRunner | _CudaRunner:
        runner = self._runner
        if runner is None:
            with self._lock:
                if self._runner is None:
                    started = time.perf_counter()
                    self._runner = self._load_runner()
                    where = f"on {self.device}" if self.device != "cpu" else "on the CPU"
                    logger.info(
                        "embedding model %s ready (%s %s, %d threads) in %.1fs",
                        self.model_id, self.active_backend, where, self.threads,
                        time.perf_counter() - started,
                    )  # fmt: skip
                runner = self._runner
        return runner

    def _load_runner(self) -> _ExportRunner | _TorchRunner | _CudaRunner:
        if self.backend != "torch" and self.device == "cpu":
            try:
                import onnxruntime  # noqa: F401  (checks every export before it is kept)
            except ImportError as error:
                logger.warning("onnxruntime is not importable (%s); using torch", error)
            else:
                export_dir = self.cache_dir / "onnx" / self.model_id
                if _export_is_current(export_dir, self.model_id):
                    try:
                        return self._export_runner(export_dir)
                    except Exception as error:  # a damaged cache: export again
                        logger.warning("ONNX export at %s is unusable (%s)", export_dir, error)
                        shutil.rmtree(export_dir, ignore_errors=True)
                try:
                    _export_onnx(self._load_sentence_transformer(), export_dir, self.model_id)
                    self._sentence_transformer = None  # the torch copy is no longer needed
                    return self._export_runner(export_dir)
                except Exception as error:
                    logger.warning("ONNX export of %s failed (%s); using torch", self.model, error)
        if self.device.startswith("cuda"):
            return _CudaRunner(self._load_sentence_transformer())
        return _TorchRunner(self._load_sentence_transformer(), self.threads)

    def _export_runner(self, export_dir: Path) -> _ExportRunner:
        if self.backend == "openvino":
            core = _openvino_core()
            if core is None:
                logger.warning("OpenVINO is not available; using onnxruntime")
            else:
                try:
                    return _OpenVinoRunner(export_dir, self.threads, core)
                except Exception as error:  # keep the export: onnxruntime may still run it
                    logger.warning(
                        "OpenVINO cannot run %s (%s); using onnxruntime", export_dir, error
                    )
        return _OnnxRunner(export_dir, self.threads)

    def _load_sentence_transformer(self) -> Any:
        if self._sentence_transformer is None:
            import torch
            from sentence_transformers import SentenceTransformer
            from transformers.utils import logging as transformers_logging

            torch.set_num_threads(self.threads)
            transformers_logging.disable_progress_bar()
            try:
                self._sentence_transformer = SentenceTransformer(self.model, device=self.device)
            except Exception as error:
                hint = (
                    " (offline: set HF_HUB_OFFLINE=0 to download it, or give a local path)"
                    if os.environ.get("HF_HUB_OFFLINE") == "1" and not Path(self.model).exists()
                    else ""
                )
                raise ModelLoadError(
                    f"Could not load the embedding model {self.model!r}{hint}: {error}"
                ) from error
            self._sentence_transformer.eval()
        return self._sentence_transformer

    def _resolve_local_dir(self) -> Path | None:
        if self._local_dir is None:
            self._local_dir = local_model_dir(self.model)
        return self._local_dir


# -- helpers ------------------------------------------------------------------------------------


def openvino_bf16_available() -> bool:
    """Whether OpenVINO is installed and this CPU computes bfloat16 natively (AMX/AVX512-BF16)."""
    core = _openvino_core()
    return core is not None and cpu_computes_bf16(core)


@cache
def _openvino_core() -> Any:
    """OpenVINO's runtime, or None where it is not installed or cannot start."""
    try:
        import openvino

        return openvino.Core()
    except ImportError:
        return None
    except Exception as error:
        logger.warning("OpenVINO is installed but cannot start (%s)", error)
        return None
