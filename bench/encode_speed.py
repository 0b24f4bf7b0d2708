"""Encoding throughput: plain `SentenceTransformer.encode` against `index.embedder.Embedder`.

Usage: .venv/bin/python bench/encode_speed.py [--passages 2000] [--slices 4] [--corpus PATH]
           [--device cuda]

Passages are paragraphs of the dev corpus packed to about 200 tokens, like the chunks a build
embeds. The methods take turns on slices of the passages so that other load on the machine
falls on all of them alike; CPU seconds are printed too (per-core efficiency).

`--device cuda` compares, on the GPU, plain `SentenceTransformer.encode` in float32 and in
float16 with `Embedder(device="cuda")` (float16, length-sorted batches of 512, tokenising
overlapped with encoding); cosines are against the float32 GPU vectors. The build end to end on
a GPU: `bench/index_build.py --device cuda`.
"""

from __future__ import annotations

import argparse
import gzip
import json
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from index.embedder import Embedder  # noqa: E402
from index.model_source import resolve_threads  # noqa: E402

DEV_CORPUS = REPO.parent / "shared" / "data" / "realtimeqa-2022" / "corpus.jsonl.gz"


def paragraphs(corpus: Path) -> Iterator[str]:
    with gzip.open(corpus, "rt", encoding="utf-8") as lines:
        for line in lines:
            for paragraph in json.loads(line).get("text", "").split("\n\n"):
                if len(paragraph.strip()) > 40:
                    yield " ".join(paragraph.split())


def pack(corpus: Path, embedder: Embedder, count: int, target: int = 200) -> list[str]:
    """Consecutive paragraphs joined until about `target` tokens; never over the model window."""
    passages: list[str] = []
    current: list[str] = []
    tokens = 0
    source = paragraphs(corpus)
    while len(passages) < count:
        block = [p for _, p in zip(range(512), source, strict=False)]
        if not block:
            break
        for paragraph, n in zip(block, embedder.count_tokens(block), strict=True):
            if n > embedder.max_tokens:
                continue
            content = n - 2  # without [CLS] and [SEP]
            if current and tokens + content > target - 2:
                passages.append(" ".join(current))
                current, tokens = [], 0
            current.append(paragraph)
            tokens += content
    return passages[:count]


def timed(
    encode: Callable[[list[str]], np.ndarray], texts: list[str]
) -> tuple[np.ndarray, float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    vectors = encode(texts)
    return vectors, time.perf_counter() - wall, time.process_time() - cpu


def time_in_slices(
    methods: dict[str, Callable[[list[str]], np.ndarray]], texts: list[str], slices: int
) -> tuple[dict[str, np.ndarray], dict[str, float], dict[str, float]]:
    """Each method's vectors of `texts` and its wall and CPU seconds, the methods taking turns
    slice by slice so that a change in the machine's load falls on all of them alike."""
    pieces: dict[str, list[np.ndarray]] = {name: [] for name in methods}
    wall = dict.fromkeys(methods, 0.0)
    cpu = dict.fromkeys(methods, 0.0)
    for piece in np.array_split(np.arange(len(texts)), max(1, slices)):
        batch = [texts[i] for i in piece]
        for name, encode in methods.items():
            out, w, c = timed(encode, batch)
            pieces[name].append(out)
            wall[name] += w
            cpu[name] += c
    vectors = {name: np.concatenate(parts) for name, parts in pieces.items()}
    return vectors, wall, cpu


def query_latency_ms(encode_query: Callable[[str], object], repeats: int = 50) -> float:
    questions = ["What did Blinken say about a multinational force?", "Who won the election?"]
    encode_query(questions[0])
    times = []
    for i in range(repeats):
        started = time.perf_counter()
        encode_query(questions[i % 2])
        times.append(time.perf_counter() - started)
    return 1000 * float(np.median(times))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--passages", type=int, default=2000)
    parser.add_argument("--slices", type=int, default=4, help="turns each method takes")
    parser.add_argument("--corpus", type=Path, default=DEV_CORPUS)
    parser.add_argument("--threads", type=int, default=0)
    parser.add_argument("--device", default="cpu", help="cpu, or cuda for the GPU encoders")
    args = parser.parse_args()
    if not args.corpus.exists():
        print(f"skipped: no dev corpus at {args.corpus}")
        return 0
    if args.device != "cpu":
        return gpu_main(args)

    threads = resolve_threads(args.threads)
    with tempfile.TemporaryDirectory() as cache:
        started = time.perf_counter()
        onnx = Embedder(threads=threads, cache_dir=Path(cache))
        onnx.encode(["warm up"])
        ready_s = time.perf_counter() - started
        torch_backend = Embedder(threads=threads, backend="torch")
        torch_backend.encode(["warm up"])
        openvino = Embedder(threads=threads, backend="openvino", cache_dir=Path(cache))
        openvino.encode(["warm up"])
        import torch
        from sentence_transformers import SentenceTransformer

        torch.set_num_threads(threads)
        plain = SentenceTransformer(onnx.model, device="cpu")

        texts = pack(args.corpus, onnx, args.passages)
        tokens = onnx.count_tokens(texts)
        print(f"{len(texts)} passages, {np.mean(tokens):.0f} tokens on average "
              f"(max {max(tokens)}), {threads} threads, model {onnx.model_id}")  # fmt: skip
        print(f"ONNX backend ready in {ready_s:.1f}s (export + checks on first use, then cached)")

        methods: dict[str, Callable[[list[str]], np.ndarray]] = {
            "SentenceTransformer.encode": lambda t: plain.encode(t, convert_to_numpy=True),
            "Embedder(onnx)": onnx.encode,
            "Embedder(torch)": torch_backend.encode,
        }
        if openvino.active_backend == "openvino":
            methods["Embedder(openvino)"] = openvino.encode
        else:
            print("openvino is not installed: Embedder(openvino) not measured")
        vectors, wall, cpu = time_in_slices(methods, texts, args.slices)

    reference = vectors["SentenceTransformer.encode"].copy()
    reference /= np.linalg.norm(reference, axis=1, keepdims=True)
    base = len(texts) / wall["SentenceTransformer.encode"]
    base_cpu = len(texts) / cpu["SentenceTransformer.encode"]
    header = ("method", "chunks/s", "ratio", "chunks/cpu-s", "ratio", "min cos")
    print("{:28} {:>9} {:>6} {:>13} {:>6} {:>9}".format(*header))
    for name in methods:
        got = vectors[name]
        rate, rate_cpu = len(texts) / wall[name], len(texts) / cpu[name]
        cosine = float((got * reference).sum(axis=1).min())
        print(f"{name:28} {rate:9.1f} {rate / base:6.2f} {rate_cpu:13.1f} "
              f"{rate_cpu / base_cpu:6.2f} {cosine:9.6f}")  # fmt: skip
    print(f"encode_query median latency: onnx {query_latency_ms(onnx.encode_query):.1f} ms, "
          f"openvino {query_latency_ms(openvino.encode_query):.1f} ms, "
          f"torch {query_latency_ms(torch_backend.encode_query):.1f} ms")  # fmt: skip
    return 0


def gpu_main(args: argparse.Namespace) -> int:
    """Plain sentence-transformers on the GPU (float32, float16) against the GPU Embedder."""
    import torch
    from sentence_transformers import SentenceTransformer

    if not torch.cuda.is_available():
        print(f"skipped: torch sees no CUDA device for --device {args.device}")
        return 0
    threads = resolve_threads(args.threads)
    embedder = Embedder(threads=threads, backend="torch", device=args.device)
    embedder.encode(["warm up"])
    plain = SentenceTransformer(embedder.model, device=args.device)
    half = SentenceTransformer(embedder.model, device=args.device).half()
    texts = pack(args.corpus, embedder, args.passages)
    tokens = embedder.count_tokens(texts)
    print(f"{len(texts)} passages, {np.mean(tokens):.0f} tokens on average, "
          f"{torch.cuda.get_device_name(0)}, model {embedder.model_id}")  # fmt: skip

    def on_device(model: Any) -> Callable[[list[str]], np.ndarray]:
        def encode(batch: list[str]) -> np.ndarray:
            out = model.encode(batch, batch_size=512, convert_to_numpy=True)
            torch.cuda.synchronize()
            return np.asarray(out, dtype=np.float32)

        return encode

    methods: dict[str, Callable[[list[str]], np.ndarray]] = {
        "SentenceTransformer.encode fp32": on_device(plain),
        "SentenceTransformer.encode fp16": on_device(half),
        "Embedder(cuda, fp16)": embedder.encode,
    }
    for encode in methods.values():  # kernels compiled, memory pools warm
        encode(texts[:512])
    vectors, wall, _ = time_in_slices(methods, texts, args.slices)
    reference = vectors["SentenceTransformer.encode fp32"].copy()
    reference /= np.linalg.norm(reference, axis=1, keepdims=True)
    base = len(texts) / wall["SentenceTransformer.encode fp32"]
    print("{:34} {:>10} {:>6} {:>9}".format("method", "chunks/s", "ratio", "min cos"))
    for name in methods:
        got = vectors[name] / np.linalg.norm(vectors[name], axis=1, keepdims=True)
        rate = len(texts) / wall[name]
        cosine = float((got * reference).sum(axis=1).min())
        print(f"{name:34} {rate:10.1f} {rate / base:6.2f} {cosine:9.6f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
