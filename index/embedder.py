"""The embedding model: sentence-transformers, optionally run through a one-time ONNX export.

The only module that imports sentence_transformers, transformers, torch, onnxruntime and
openvino. Nothing loads until a vector, a token count or the model's shape is first asked for.
The ONNX export holds the transformer *with the model's own pooling modules*; it is made once per
model (keyed by `model_id`), checked against `SentenceTransformer.encode` before it is kept, and
later runs without importing torch at all (fast start-up for the CLI and the bot), either in
onnxruntime (float32) or in OpenVINO (bfloat16 on CPUs with AMX or AVX512-BF16 units).
Finding, naming and fingerprinting the model's files and sizing the thread pool live in
`index.model_source`, which imports none of these.
"""

from __future__ import annotations

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import json
import logging
import queue
import shutil
import tempfile
import threading
import time
import warnings
from abc import ABC, abstractmethod
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import cache
from pathlib import Path
from typing import Any, Literal

import numpy as np

from index.errors import ModelLoadError
from index.model_source import (
    available_cores,
    default_cache_dir,
    local_model_dir,
    model_id_for,
    packaged_model_path,
    resolve_threads,
)

logger = logging.getLogger(__name__)

Backend = Literal["onnx", "openvino", "torch"]

ONNX_FORMAT = 1  # bump when the export's graph or files change; older exports are redone
TOKENS_PER_CALL = 512  # padded tokens per runtime call; see _ExportRunner
EXPORT_MIN_COSINE = 0.9999  # an export is kept only if it reproduces the torch vectors this well
EXPORTABLE_MODULES = {"Pooling", "Dense", "Normalize"}  # modules after the transformer
PROBE_TEXTS = (
    "Blinken discussed a multinational force for Haiti.",
    "Hi",
    "Ünïcödé — «quotes», emoji 🙂, 中文 and العربية in one line.",
    "The central bank raised rates by a quarter point on Wednesday, its third increase this year, "
    "and signalled that more tightening could follow if inflation stays high. " * 3,
    "word " * 400,  # longer than any model window: checks truncation
)


class Embedder:
    """Texts → float32 L2-normalised vectors with one sentence-transformers model, loaded lazily.

    `backend="onnx"` or `"openvino"` falls back to plain torch (with a warning) when the model
    cannot be exported faithfully; `"openvino"` falls back to onnxruntime when OpenVINO is
    missing. A `device` other than "cpu" (a GPU, "cuda") runs plain torch there: the exports are
    CPU runtimes. Thread-safe: the bot encodes queries from worker threads.
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
        self._runner: _ExportRunner | _TorchRunner | None = None

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
        return _normalise(runner.encode(list(texts), self.batch_size))

    def encode_query(self, text: str) -> np.ndarray:
        """(dimension,) vector for one question: no sorting or batching overhead."""
        return _normalise(self._ready().encode([text], 1))[0]

    # -- loading ---------------------------------------------------------------------------------

    def _ready(self) -> _ExportRunner | _TorchRunner:
        runner = self._runner
        if runner is None:
            with self._lock:
                if self._runner is None:
                    started = time.perf_counter()
                    self._runner = self._load_runner()
                    logger.info(
                        "embedding model %s ready (%s, %d threads) in %.1fs",
                        self.model_id, self.active_backend, self.threads,
                        time.perf_counter() - started,
                    )  # fmt: skip
                runner = self._runner
        return runner

    def _load_runner(self) -> _ExportRunner | _TorchRunner:
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


# -- runners: the loaded model, one per backend -------------------------------------------------


class _TorchRunner:
    def __init__(self, model: Any, threads: int) -> None:
        import torch
        from tokenizers import Tokenizer

        torch.set_num_threads(threads)
        self.model = model
        self.dimension = int(model.get_embedding_dimension())
        self.max_tokens = int(model.max_seq_length)
        self.counter = Tokenizer.from_str(model.tokenizer.backend_tokenizer.to_str())
        self.counter.no_truncation()
        self.counter.no_padding()

    def encode(self, texts: list[str], batch_size: int) -> np.ndarray:
        # SentenceTransformer.encode already sorts by length and restores the order.
        vectors = self.model.encode(
            texts, batch_size=batch_size, convert_to_numpy=True, show_progress_bar=False
        )
        return np.asarray(vectors, dtype=np.float32)


class _ExportRunner(ABC):
    """Runs the export on single-threaded calls spread over the cores.

    Batches over independent texts scale across cores with no per-operator barriers, and small
    calls (about TOKENS_PER_CALL padded tokens) keep the activations in cache: measured 1.3x the
    per-core throughput of 64-text calls. Subclasses supply `_infer` for one padded batch, and
    may round widths up to a multiple of `width_step`.
    """

    width_step = 1

    def __init__(self, export_dir: Path, threads: int) -> None:
        from tokenizers import Tokenizer

        meta = json.loads((export_dir / "meta.json").read_text())
        self.dimension = int(meta["dimension"])
        self.max_tokens = int(meta["max_tokens"])
        self.pad_id = int(meta["pad_id"])
        self.input_names = list(meta["input_names"])
        self.counter = Tokenizer.from_file(str(export_dir / "tokenizer.json"))
        self.counter.no_truncation()
        self.counter.no_padding()
        self.tokenizer = Tokenizer.from_file(str(export_dir / "tokenizer.json"))
        self.tokenizer.no_padding()
        self.tokenizer.enable_truncation(max_length=self.max_tokens)
        self.pool = ThreadPoolExecutor(threads, "embedder") if threads > 1 else None

    def encode(self, texts: list[str], batch_size: int) -> np.ndarray:
        encodings = self.tokenizer.encode_batch(texts)
        lengths = np.array([len(e.ids) for e in encodings])
        order = np.argsort(-lengths, kind="stable")  # similar lengths together: little padding
        groups = []
        start = 0
        while start < len(order):
            size = max(1, min(batch_size, TOKENS_PER_CALL // max(1, lengths[order[start]])))
            groups.append(order[start : start + size])
            start += size
        out = np.empty((len(texts), self.dimension), dtype=np.float32)

        def run(rows: np.ndarray) -> None:
            width = -(-int(lengths[rows].max()) // self.width_step) * self.width_step
            out[rows] = self._infer(self._feeds([encodings[i] for i in rows], width))

        if self.pool is None or len(groups) == 1:
            for rows in groups:
                run(rows)
        else:
            list(self.pool.map(run, groups))
        return out

    def _feeds(self, encodings: list[Any], width: int) -> dict[str, np.ndarray]:
        shape = (len(encodings), int(width))
        arrays = {
            "input_ids": np.full(shape, self.pad_id, dtype=np.int64),
            "attention_mask": np.zeros(shape, dtype=np.int64),
            "token_type_ids": np.zeros(shape, dtype=np.int64),
        }
        for row, encoding in enumerate(encodings):
            n = len(encoding.ids)
            arrays["input_ids"][row, :n] = encoding.ids
            arrays["attention_mask"][row, :n] = 1
            arrays["token_type_ids"][row, :n] = encoding.type_ids
        return {name: arrays[name] for name in self.input_names}

    @abstractmethod
    def _infer(self, feeds: dict[str, np.ndarray]) -> np.ndarray:
        """(rows, dimension) vectors for one padded batch."""


class _OnnxRunner(_ExportRunner):
    """onnxruntime in float32: the same vectors as torch."""

    def __init__(self, export_dir: Path, threads: int) -> None:
        import onnxruntime as ort

        super().__init__(export_dir, threads)
        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.log_severity_level = 3
        self.session = ort.InferenceSession(
            str(export_dir / "model.onnx"), sess_options=options, providers=["CPUExecutionProvider"]
        )

    def _infer(self, feeds: dict[str, np.ndarray]) -> np.ndarray:
        return self.session.run(["sentence_embedding"], feeds)[0]


class _OpenVinoRunner(_ExportRunner):
    """OpenVINO, in bfloat16 where the CPU has the units for it (float32 elsewhere).

    One single-threaded stream per usable core, and as many infer requests: like onnxruntime
    calls, concurrent callers (a pool of `threads`, or server workers with one thread each) run
    in parallel, and a call waits for a free request, so never more model threads than cores.
    Measured here (AMX): 2.5x onnxruntime's speed on questions in batches of 8, 3.6x plain
    `SentenceTransformer.encode` on passages. Widths padded to a multiple of 16 make calls repeat
    a few shapes, whose compiled kernels OpenVINO keeps: 1.2x the passages/s and 15-25 % less
    CPU per question in batches of 4 (onnxruntime gains nothing from it and pays the padding).
    """

    width_step = 16

    def __init__(self, export_dir: Path, threads: int, core: Any) -> None:
        super().__init__(export_dir, threads)
        streams = available_cores()
        compiled = core.compile_model(
            str(export_dir / "model.onnx"),
            "CPU",
            {
                "INFERENCE_PRECISION_HINT": "bf16" if _cpu_computes_bf16(core) else "f32",
                "PERFORMANCE_HINT": "THROUGHPUT",
                "NUM_STREAMS": streams,
                "INFERENCE_NUM_THREADS": streams,
            },
        )
        self.requests: queue.SimpleQueue[Any] = queue.SimpleQueue()
        # Each request runs once here, one after the other: two requests running for the first
        # time at once (two server workers, or the HTTP API and the bot, taking their first
        # questions together) could hang both for good inside OpenVINO.
        warm_up = self._feeds([self.tokenizer.encode("warm up")], self.width_step)
        for _ in range(streams):
            request = compiled.create_infer_request()
            request.infer(warm_up)
            self.requests.put(request)

    def _infer(self, feeds: dict[str, np.ndarray]) -> np.ndarray:
        request = self.requests.get()
        try:
            return request.infer(feeds)["sentence_embedding"]
        finally:
            self.requests.put(request)


# -- the ONNX export ----------------------------------------------------------------------------


def _export_is_current(export_dir: Path, model_id: str) -> bool:
    try:
        meta = json.loads((export_dir / "meta.json").read_text())
    except (OSError, ValueError):
        return False
    return meta.get("format") == ONNX_FORMAT and meta.get("model_id") == model_id


def _export_onnx(model: Any, export_dir: Path, model_id: str) -> None:
    """Export transformer + pooling once, keep it only if it matches torch, then swap it in."""
    import torch
    from tokenizers import Tokenizer

    modules = list(model)
    transformer = modules[0]
    auto_model = getattr(transformer, "auto_model", None)
    tokenizer = getattr(transformer, "tokenizer", None)
    layout = [type(m).__name__ for m in modules]
    if (
        auto_model is None
        or not getattr(tokenizer, "is_fast", False)
        or any(name not in EXPORTABLE_MODULES for name in layout[1:])
    ):
        raise ValueError(f"unsupported model layout {layout}")
    if getattr(model, "default_prompt_name", None):
        raise ValueError("models with a default prompt are not exported")
    input_names = [
        name
        for name in ("input_ids", "attention_mask", "token_type_ids")
        if name in tokenizer.model_input_names
    ]
    if input_names[:2] != ["input_ids", "attention_mask"]:
        raise ValueError(f"unexpected model inputs {tokenizer.model_input_names}")

    started = time.perf_counter()
    reference = model.encode(
        list(PROBE_TEXTS), batch_size=4, convert_to_numpy=True, show_progress_bar=False
    )
    export_dir.parent.mkdir(parents=True, exist_ok=True)
    _remove_stale_exports(export_dir.parent)
    staging = Path(tempfile.mkdtemp(prefix=".export-", dir=export_dir.parent))
    attention = auto_model.config._attn_implementation
    try:
        # Eager attention traces to plain ops that onnxruntime fuses; SDPA traces to a slower graph.
        auto_model.set_attn_implementation("eager")
        graph = _pooled_transformer(auto_model, modules[1:], input_names).eval()
        example = tokenizer(["a short one", "and a longer text, so that one row is padded"],
                            padding=True, return_tensors="pt")  # fmt: skip
        dynamic = {name: {0: "batch", 1: "sequence"} for name in input_names}
        with warnings.catch_warnings(), torch.no_grad():
            warnings.simplefilter("ignore")  # tracer and deprecation chatter
            torch.onnx.export(
                graph,
                tuple(example[name] for name in input_names),
                str(staging / "model.onnx"),
                input_names=input_names,
                output_names=["sentence_embedding"],
                dynamic_axes={**dynamic, "sentence_embedding": {0: "batch"}},
                opset_version=17,
                dynamo=False,
            )
        plain = Tokenizer.from_str(tokenizer.backend_tokenizer.to_str())
        plain.no_truncation()
        plain.no_padding()
        plain.save(str(staging / "tokenizer.json"))
        meta = {
            "format": ONNX_FORMAT,
            "model_id": model_id,
            "dimension": int(model.get_embedding_dimension()),
            "max_tokens": int(model.max_seq_length),
            "pad_id": int(tokenizer.pad_token_id or 0),
            "input_names": input_names,
            "torch": torch.__version__,
        }
        (staging / "meta.json").write_text(json.dumps(meta, indent=2) + "\n")

        exported = _normalise(_OnnxRunner(staging, 1).encode(list(PROBE_TEXTS), 4))
        cosine = float((exported * _normalise(reference)).sum(axis=1).min())
        if cosine < EXPORT_MIN_COSINE:
            raise ValueError(f"export differs from torch (cosine {cosine:.6f})")
        if not _export_is_current(export_dir, model_id):  # else a concurrent export won
            shutil.rmtree(export_dir, ignore_errors=True)
            try:
                staging.rename(export_dir)  # atomic: readers see all files or none
            except OSError:
                if not _export_is_current(export_dir, model_id):
                    raise
    finally:
        auto_model.set_attn_implementation(attention)
        shutil.rmtree(staging, ignore_errors=True)
    logger.info("exported %s to ONNX at %s in %.1fs (probe cosine %.6f)",
                model_id, export_dir, time.perf_counter() - started, cosine)  # fmt: skip


def _pooled_transformer(auto_model: Any, tail: list[Any], input_names: list[str]) -> Any:
    import torch

    class PooledTransformer(torch.nn.Module):
        """The transformer followed by the model's own pooling/dense/normalise modules."""

        def __init__(self, auto_model: Any, tail: list[Any], input_names: list[str]) -> None:
            super().__init__()
            self.auto_model = auto_model
            self.tail = torch.nn.ModuleList(tail)
            self.input_names = input_names

        def forward(self, *inputs: Any) -> Any:
            named = dict(zip(self.input_names, inputs, strict=True))
            hidden = self.auto_model(**named, return_dict=True).last_hidden_state
            features = {"token_embeddings": hidden, "attention_mask": named["attention_mask"]}
            for module in self.tail:
                features = module(features)
            return features["sentence_embedding"]

    return PooledTransformer(auto_model, tail, input_names)


def _remove_stale_exports(cache_root: Path, max_age_s: float = 3600.0) -> None:
    """Staging folders of exports that died (killed process) are removed after an hour."""
    for stale in cache_root.glob(".export-*"):
        try:
            if time.time() - stale.stat().st_mtime > max_age_s:
                shutil.rmtree(stale, ignore_errors=True)
        except OSError:
            pass


# -- helpers ------------------------------------------------------------------------------------


def openvino_bf16_available() -> bool:
    """Whether OpenVINO is installed and this CPU computes bfloat16 natively (AMX/AVX512-BF16)."""
    core = _openvino_core()
    return core is not None and _cpu_computes_bf16(core)


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


def _cpu_computes_bf16(core: Any) -> bool:
    return "BF16" in core.get_property("CPU", "OPTIMIZATION_CAPABILITIES")


def _normalise(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)
