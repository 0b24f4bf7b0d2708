"""Encoding on a thread of its own while a build goes on reading, chunking and finding
statements, so that neither waits for the other.

Reading is Python under the GIL (one core); the encoder's runtimes (OpenVINO, onnxruntime,
torch) release the GIL while they compute, so the two overlap: on two cores a build costs about
the encoding plus half the reading instead of both in turn. The queue holds a few batches at
most: reading never runs far ahead, and memory stays bounded.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Sequence

import numpy as np

Encode = Callable[[Sequence[int], Sequence[str]], np.ndarray]


class BackgroundEncoder:
    """Batches of (chunk ids, texts) in, their vectors out in the same order."""

    def __init__(self, encode: Encode, ahead: int = 4) -> None:
        self._encode = encode
        self._waiting: queue.Queue[tuple[list[int], list[str]] | None] = queue.Queue(ahead)
        self._done: list[tuple[list[int], list[str], np.ndarray]] = []
        self._error: BaseException | None = None
        self.encoded = 0  # chunks encoded so far (read from the building thread for progress)
        self._thread = threading.Thread(target=self._run, name="build-encoder", daemon=True)
        self._thread.start()

    def submit(self, ids: list[int], texts: list[str]) -> None:
        """Queue a batch; waits while `ahead` batches are already waiting. Raises what the
        encoder raised on an earlier batch."""
        if self._error is not None:
            raise self._error
        self._waiting.put((ids, texts))

    def finish(
        self, waiting: Callable[[int], None] = lambda _: None
    ) -> list[tuple[list[int], list[str], np.ndarray]]:
        """Every batch with its vectors, once all are encoded; `waiting(encoded)` is called
        about once a second meanwhile (progress)."""
        self._waiting.put(None)
        while self._thread.is_alive():
            self._thread.join(timeout=1.0)
            waiting(self.encoded)
        if self._error is not None:
            raise self._error
        return self._done

    def abandon(self) -> None:
        """Stop after the batch in hand (the build failed); what is queued is dropped."""
        self._error = self._error or RuntimeError("build abandoned")
        self._waiting.put(None)
        self._thread.join()

    def _run(self) -> None:
        while (batch := self._waiting.get()) is not None:
            if self._error is not None:
                continue  # drain, so that a waiting submit returns and sees the error
            ids, texts = batch
            try:
                vectors = self._encode(ids, texts)
            except BaseException as error:  # handed to the building thread
                self._error = error
                continue
            self._done.append((ids, texts, vectors))
            self.encoded += len(ids)
