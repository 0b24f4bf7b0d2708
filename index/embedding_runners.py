"""The loaded embedding model, one runner per backend; `index.embedder` chooses and loads them.

- `_TorchRunner`: plain sentence-transformers on the CPU (the fallback, and the reference);
- `_CudaRunner`: the same on a CUDA device in float16, in large length-sorted batches;
- `_OnnxRunner`, `_OpenVinoRunner`: the ONNX export (`index.onnx_export`) on the CPU.

Each has `dimension`, `max_tokens`, `counter` (a tokenizer that counts without truncating) and
`encode(texts, batch_size)`: vectors in the texts' order, not yet normalised.
"""

from __future__ import annotations

import json
import queue
from abc import ABC, abstractmethod
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from index.model_source import available_cores

TOKENS_PER_CALL = 512  # padded tokens per runtime call; see _ExportRunner
CUDA_BATCH = 512  # texts per model call on a CUDA device (at least)


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


class _CudaRunner:
    """sentence-transformers on a CUDA device in float16, for builds.

    Texts are sorted by length into large batches (little padding), restored to their order at
    the end; the next batch is tokenised on a thread while the device encodes this one, and the
    vectors stay on the device until the last batch is queued, so the device never waits for
    the CPU between batches.
    """

    def __init__(self, model: Any) -> None:
        from tokenizers import Tokenizer

        self.model = model.half()
        self.dimension = int(model.get_embedding_dimension())
        self.max_tokens = int(model.max_seq_length)
        self.counter = Tokenizer.from_str(model.tokenizer.backend_tokenizer.to_str())
        self.counter.no_truncation()
        self.counter.no_padding()
        self.tokenizing = ThreadPoolExecutor(1, "cuda-tokenizer")

    def encode(self, texts: list[str], batch_size: int) -> np.ndarray:
        import torch

        size = max(batch_size, CUDA_BATCH)
        order = np.argsort([-len(text) for text in texts], kind="stable")
        batches = [order[start : start + size] for start in range(0, len(order), size)]

        # sentence-transformers 6 renamed tokenize to preprocess
        prepare = getattr(self.model, "preprocess", None) or self.model.tokenize

        def features(rows: np.ndarray) -> dict[str, Any]:
            return prepare([texts[i] for i in rows])

        device = self.model.device
        results = []
        pending = self.tokenizing.submit(features, batches[0])
        for number in range(len(batches)):
            batch = pending.result()
            if number + 1 < len(batches):
                pending = self.tokenizing.submit(features, batches[number + 1])
            with torch.inference_mode():
                inputs = {
                    name: value.to(device) if hasattr(value, "to") else value
                    for name, value in batch.items()
                }
                results.append(self.model(inputs)["sentence_embedding"])
        with torch.inference_mode():
            vectors = torch.cat(results).float().cpu().numpy()
        out = np.empty((len(texts), self.dimension), dtype=np.float32)
        out[order] = vectors
        return out


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
                "INFERENCE_PRECISION_HINT": "bf16" if cpu_computes_bf16(core) else "f32",
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


def cpu_computes_bf16(core: Any) -> bool:
    return "BF16" in core.get_property("CPU", "OPTIMIZATION_CAPABILITIES")


def normalise(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)
