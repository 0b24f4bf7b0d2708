"""`NEWSDESK_ENCODER=auto`: CUDA where torch sees a device, the CPU encoders elsewhere, and the
reason in the log. The GPU's vectors are compared with the CPU's only where a GPU exists."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from index import embedding_runners
from index.embedder import Embedder, openvino_bf16_available
from index.encoder_choice import NVIDIA_DRIVER, choose_encoder, cuda_available
from index.onnx_export import PROBE_TEXTS

REPO = Path(__file__).resolve().parents[2]
HAS_CUDA = cuda_available()
NO_CUDA = "no CUDA device on this machine: the GPU encoder is compared with the CPU's only there"


@pytest.mark.skipif(HAS_CUDA, reason="this machine has a CUDA device: auto picks it")
def test_auto_picks_a_cpu_encoder_where_there_is_no_cuda(caplog: pytest.LogCaptureFixture):
    with caplog.at_level(logging.INFO, logger="index.encoder_choice"):
        choice = choose_encoder("auto")
    expected = "openvino" if openvino_bf16_available() else "onnx"
    assert (choice.backend, choice.device) == (expected, "cpu")
    assert "encoder auto: no CUDA device" in caplog.text


def test_a_configured_encoder_is_used_as_it_is():
    for backend in ("onnx", "openvino", "torch"):
        assert choose_encoder(backend).backend == backend
        assert choose_encoder(backend).device == "cpu"


def test_hidden_devices_keep_auto_on_the_cpu():
    script = "from index.encoder_choice import choose_encoder; print(choose_encoder('auto'))"
    env = {**os.environ, "CUDA_VISIBLE_DEVICES": "", "PYTHONPATH": str(REPO)}
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "device='cpu'" in done.stdout


@pytest.mark.skipif(
    any(path.exists() for path in NVIDIA_DRIVER), reason="an NVIDIA driver is present"
)
def test_without_a_driver_choosing_does_not_import_torch():
    """A CPU machine's commands start without paying for torch's import."""
    script = (
        "import sys; from index.encoder_choice import choose_encoder; choose_encoder('auto'); "
        "print('torch' in sys.modules)"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False"


def test_the_gpu_runner_puts_each_vector_back_in_its_texts_place(
    embedder: Embedder, monkeypatch: pytest.MonkeyPatch
):
    """The GPU runner's length-sorted batches and tokenising thread, run here on the CPU (in
    float16 too): batches of three, so texts of mixed lengths cross batch boundaries."""
    from tests.index.test_embedder import TEXTS

    monkeypatch.setattr(embedding_runners, "CUDA_BATCH", 3)
    model = Embedder(embedder.model, backend="torch")._load_sentence_transformer()
    runner = embedding_runners._CudaRunner(model)
    texts = [*TEXTS, *PROBE_TEXTS]
    vectors = embedding_runners.normalise(runner.encode(texts, 1))
    assert float((vectors * embedder.encode(texts)).sum(axis=1).min()) >= 0.999


@pytest.mark.skipif(not HAS_CUDA, reason=NO_CUDA)
def test_auto_picks_cuda_where_there_is_one():
    choice = choose_encoder("auto")
    assert (choice.backend, choice.device) == ("torch", "cuda")


@pytest.mark.skipif(not HAS_CUDA, reason=NO_CUDA)
def test_gpu_vectors_match_the_cpu_path(embedder: Embedder):
    """float16 on the GPU, batches sorted by length: within cosine 0.999 of the CPU's float32,
    each text's vector in its own place."""
    from tests.index.test_embedder import TEXTS

    texts = [*TEXTS, *PROBE_TEXTS] * 40  # several batches of mixed lengths
    gpu = Embedder(embedder.model, backend="torch", device="cuda")
    on_gpu = gpu.encode(texts)
    on_cpu = embedder.encode(texts)
    assert on_gpu.shape == on_cpu.shape
    assert np.allclose(np.linalg.norm(on_gpu, axis=1), 1.0, atol=1e-3)
    assert float((on_gpu * on_cpu).sum(axis=1).min()) >= 0.999
    assert gpu.count_tokens(["harbour"]) == embedder.count_tokens(["harbour"])
