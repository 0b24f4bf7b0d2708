"""Which encoder `NEWSDESK_ENCODER=auto` means on this machine.

A CUDA device first: sentence-transformers in torch, float16 (`index.embedding_runners
._CudaRunner`); else OpenVINO where the CPU computes bfloat16 (AMX or AVX512-BF16); else the
ONNX export in onnxruntime. Looking for CUDA imports torch, which costs a second or two, so it
is only done where an NVIDIA driver is present: on a machine without one the CLI and the bot
start as fast as before. `CUDA_VISIBLE_DEVICES=""` (or -1) keeps a machine with a GPU on its CPU.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path

from index.embedder import Backend, openvino_bf16_available

logger = logging.getLogger(__name__)

NVIDIA_DRIVER = (Path("/proc/driver/nvidia/version"), Path("/dev/nvidiactl"))


@dataclass(frozen=True)
class EncoderChoice:
    backend: Backend
    device: str  # "cpu" or "cuda"
    reason: str  # one line for the log


def choose_encoder(configured: str) -> EncoderChoice:
    """The backend and device for the `encoder` setting; `auto` is decided here, and the
    decision logged (INFO) with its reason."""
    if configured != "auto":
        return EncoderChoice(configured, "cpu", f"encoder {configured} (as configured)")  # type: ignore[arg-type]
    if cuda_available():
        choice = EncoderChoice("torch", "cuda", "encoder auto: a CUDA device, torch in float16")
    elif openvino_bf16_available():
        choice = EncoderChoice(
            "openvino", "cpu", "encoder auto: no CUDA device; OpenVINO (this CPU computes bfloat16)"
        )
    else:
        choice = EncoderChoice(
            "onnx", "cpu", "encoder auto: no CUDA device, no bfloat16 units; onnxruntime"
        )
    logger.info(choice.reason)
    return choice


def cuda_available() -> bool:
    """Whether torch sees a CUDA device; torch is not imported where no NVIDIA driver is."""
    if os.environ.get("CUDA_VISIBLE_DEVICES", "unset").strip() in ("", "-1"):
        return False
    if not any(path.exists() for path in NVIDIA_DRIVER):
        return False
    try:
        import torch
    except ImportError:
        return False
    return bool(torch.cuda.is_available())
