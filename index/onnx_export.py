"""The ONNX export of a sentence-transformers model: the transformer *with the model's own
pooling modules*, made once per model (keyed by `model_id`), checked against
`SentenceTransformer.encode` before it is kept, and swapped into the cache atomically. Later runs
load it without torch (`index.embedding_runners._OnnxRunner`, `_OpenVinoRunner`).
"""

from __future__ import annotations

import json
import logging
import shutil
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

from index.embedding_runners import _OnnxRunner, normalise

logger = logging.getLogger("index.embedder")  # the embedder's log: one place for its story

ONNX_FORMAT = 1  # bump when the export's graph or files change; older exports are redone
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

        exported = normalise(_OnnxRunner(staging, 1).encode(list(PROBE_TEXTS), 4))
        cosine = float((exported * normalise(reference)).sum(axis=1).min())
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
