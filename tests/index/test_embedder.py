"""The embedder against the real packaged MiniLM: the ONNX export must reproduce torch's vectors."""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import index.embedder as embedder_module
from index.embedder import Embedder
from index.errors import ModelLoadError
from index.model_source import available_cores, packaged_model_path, resolve_threads

REPO = Path(__file__).resolve().parents[2]

TEXTS = [
    "Blinken said the multinational force would be led by Kenya.",
    "Hi",
    "U.S. Dr. Smith's $1.5bn plan: 3% growth in Q4?!",
    "Ünïcödé — «guillemets», emoji 🙂🚀, 中文新闻 and العربية, Ελληνικά, नमस्ते.",
    "  leading and trailing whitespace\n\nwith blank lines\t",
    "The central bank raised its key rate by a quarter point, its third increase this year. " * 12,
    "overflow " * 400,  # past the 256-token window: truncated the same way by both
]


def cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    a = a / np.linalg.norm(a, axis=1, keepdims=True)
    b = b / np.linalg.norm(b, axis=1, keepdims=True)
    return (a * b).sum(axis=1)


@pytest.fixture(scope="module")
def reference():
    """Plain sentence-transformers, the yardstick every backend is held to."""
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(packaged_model_path()), device="cpu")


@pytest.fixture(scope="module")
def reference_vectors(reference) -> np.ndarray:
    return reference.encode(TEXTS, convert_to_numpy=True, show_progress_bar=False)


@pytest.fixture(scope="module")
def fresh_export(tmp_path_factory: pytest.TempPathFactory) -> Embedder:
    """An embedder that exports here, whatever the user's cache already holds."""
    return Embedder(cache_dir=tmp_path_factory.mktemp("cache"))


def test_onnx_export_reproduces_sentence_transformers(fresh_export: Embedder, reference_vectors):
    vectors = fresh_export.encode(TEXTS)
    assert fresh_export.active_backend == "onnx"
    assert cosines(vectors, reference_vectors).min() >= 0.999
    assert np.abs(vectors - reference_vectors).max() < 1e-4
    export = fresh_export.cache_dir / "onnx" / fresh_export.model_id
    assert sorted(p.name for p in export.iterdir()) == ["meta.json", "model.onnx", "tokenizer.json"]
    assert not list(export.parent.glob(".export-*"))  # staging folder renamed into place


def test_cached_export_matches_too(embedder: Embedder, reference_vectors):
    assert embedder.active_backend == "onnx"
    assert cosines(embedder.encode(TEXTS), reference_vectors).min() >= 0.999


def test_mixed_length_batch_equals_one_by_one(embedder: Embedder):
    texts = TEXTS * 3 + [f"Headline number {i} about the harbour." for i in range(40)]
    together = embedder.encode(texts)
    alone = np.stack([embedder.encode([text])[0] for text in texts])
    assert np.allclose(together, alone, atol=1e-5)  # an update must equal a fresh build


def test_vectors_are_float32_and_normalised(embedder: Embedder):
    vectors = embedder.encode(TEXTS)
    assert vectors.dtype == np.float32
    assert vectors.shape == (len(TEXTS), embedder.dimension) == (len(TEXTS), 384)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert embedder.encode([]).shape == (0, 384)


def test_shape_of_the_model(embedder: Embedder):
    assert (embedder.dimension, embedder.max_tokens) == (384, 256)


def test_count_tokens_uses_the_model_tokenizer_with_special_tokens(embedder: Embedder, reference):
    expected = [
        len(ids) for ids in reference.tokenizer(TEXTS, add_special_tokens=True)["input_ids"]
    ]
    assert embedder.count_tokens(TEXTS) == expected
    assert embedder.count_tokens(["Hi"]) == [3]  # [CLS] hi [SEP]
    assert embedder.count_tokens(["overflow " * 400])[0] > embedder.max_tokens  # not truncated
    assert embedder.count_tokens([]) == []


def test_encode_query_equals_encode(embedder: Embedder):
    question = "What did Blinken say about a multinational force?"
    vector = embedder.encode_query(question)
    assert vector.shape == (384,)
    assert np.allclose(vector, embedder.encode([question])[0], atol=1e-6)
    assert np.allclose(vector, embedder.encode([question, *TEXTS])[0], atol=1e-5)


def test_model_id_names_the_model_and_hashes_its_files(embedder: Embedder, tmp_path: Path):
    assert embedder.model_id.startswith("all-MiniLM-L6-v2-")
    assert Embedder(embedder.model).model_id == embedder.model_id

    copy = tmp_path / "my-model"
    shutil.copytree(packaged_model_path(), copy, copy_function=os.symlink)
    same_files = Embedder(str(copy)).model_id
    assert same_files.startswith("my-model-")
    assert same_files.split("-")[-1] == embedder.model_id.split("-")[-1]

    config = copy / "config.json"
    text = config.read_text()
    config.unlink()
    config.write_text(text.replace('"hidden_dropout_prob": 0.1', '"hidden_dropout_prob": 0.2'))
    assert Embedder(str(copy)).model_id != same_files  # another model at the same path


def test_missing_model_is_a_domain_error(tmp_path: Path):
    missing = Embedder(str(tmp_path / "no-such-model"))
    with pytest.raises(ModelLoadError, match="no-such-model"):
        missing.encode(["text"])


def test_threads_follow_the_machine_and_omp_num_threads(monkeypatch: pytest.MonkeyPatch):
    cores = available_cores()
    assert 1 <= cores <= (os.cpu_count() or 1)
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    assert resolve_threads(0) == cores
    assert resolve_threads(1) == 1
    assert resolve_threads(cores + 7) == cores  # never more threads than cores
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    assert resolve_threads(0) == 1
    assert Embedder(threads=0).threads == 1
    monkeypatch.setenv("OMP_NUM_THREADS", str(cores + 7))
    assert resolve_threads(0) == cores
    monkeypatch.setenv("OMP_NUM_THREADS", "not a number")
    assert resolve_threads(0) == cores
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0})
    assert available_cores() == 1


def test_cached_export_is_reused_without_torch(embedder: Embedder, model_cache: Path):
    embedder.encode(["load it"])
    script = (
        "import sys; from index.embedder import Embedder; "
        f"e = Embedder(cache_dir={str(model_cache)!r}); v = e.encode_query('harbour'); "
        "assert e.active_backend == 'onnx' and v.shape == (384,); "
        f"o = Embedder(backend='openvino', cache_dir={str(model_cache)!r}); o.encode(['port']); "
        "assert o.active_backend == 'openvino'; "
        "assert 'torch' not in sys.modules and 'sentence_transformers' not in sys.modules"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    result = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_failed_export_falls_back_to_torch(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, caplog, reference_vectors
):
    def broken_export(*args: object) -> None:
        raise RuntimeError("exporter exploded")

    monkeypatch.setattr(embedder_module, "_export_onnx", broken_export)
    fallback = Embedder(cache_dir=tmp_path)
    with caplog.at_level(logging.WARNING, logger="index.embedder"):
        vectors = fallback.encode(TEXTS)
    assert fallback.active_backend == "torch"
    assert "exporter exploded" in caplog.text
    assert cosines(vectors, reference_vectors).min() >= 0.9999


def test_damaged_export_is_discarded(
    embedder: Embedder, model_cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    embedder.encode(["load it"])
    damaged = tmp_path / "onnx" / embedder.model_id
    shutil.copytree(model_cache / "onnx" / embedder.model_id, damaged)
    (damaged / "model.onnx").write_bytes(b"not a model")
    exports = []

    def failing_export(*args: object) -> None:
        exports.append(args)
        raise RuntimeError("no export in this test")

    monkeypatch.setattr(embedder_module, "_export_onnx", failing_export)
    fresh = Embedder(cache_dir=tmp_path)
    assert fresh.active_backend == "torch"
    assert exports and not damaged.exists()  # the broken export was dropped, a new one tried


def test_openvino_backend_stays_close_to_float32(reference_vectors):
    openvino = Embedder(backend="openvino")
    vectors = openvino.encode(TEXTS)
    assert openvino.active_backend == "openvino"
    assert cosines(vectors, reference_vectors).min() >= 0.999
    alone = np.stack([openvino.encode_query(text) for text in TEXTS])
    assert cosines(alone, vectors).min() >= 0.99999  # a text's vector hardly depends on its batch


def test_openvino_missing_falls_back_to_onnxruntime(
    monkeypatch: pytest.MonkeyPatch, model_cache: Path, caplog, reference_vectors
):
    monkeypatch.setattr(embedder_module, "_openvino_core", lambda: None)  # as if not installed
    with caplog.at_level(logging.WARNING, logger="index.embedder"):
        fallback = Embedder(backend="openvino", cache_dir=model_cache)
        vectors = fallback.encode(TEXTS)
    assert fallback.active_backend == "onnx"
    assert "OpenVINO is not available" in caplog.text
    assert cosines(vectors, reference_vectors).min() >= 0.99999


def test_openvino_failing_on_the_export_keeps_it_for_onnxruntime(
    monkeypatch: pytest.MonkeyPatch, model_cache: Path, caplog, embedder: Embedder
):
    embedder.encode(["load it"])  # the export exists
    export = model_cache / "onnx" / embedder.model_id / "model.onnx"
    exported_at = export.stat().st_mtime_ns

    def refuse(*args: object) -> None:
        raise RuntimeError("no plugin for this CPU")

    monkeypatch.setattr(embedder_module._OpenVinoRunner, "__init__", refuse)
    with caplog.at_level(logging.WARNING, logger="index.embedder"):
        fallback = Embedder(backend="openvino", cache_dir=model_cache)
        assert fallback.active_backend == "onnx"
    assert "no plugin for this CPU" in caplog.text
    assert export.stat().st_mtime_ns == exported_at  # not discarded and exported again


def test_unknown_backend_is_refused():
    with pytest.raises(ValueError, match="backend"):
        Embedder(backend="tensorflow")  # type: ignore[arg-type]
