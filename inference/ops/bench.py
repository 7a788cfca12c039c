"""Times the ops directly, without ZeroMQ (the GPU hosts have torch but no pyzmq):

    python -m inference.ops.bench [--cpu] [--gpu N] [--json]

Rows: gemm TFLOPS through the op against a bare torch.matmul loop (GPU) or numpy (CPU), and pixelize
images/s on this device and on the CPU (the GPU/CPU ratio when a GPU is there).
"""
from __future__ import annotations

import argparse
import io
import json
import os
import sys
import time


def sprite(seed: int, size: int = 256) -> bytes:
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:size, 0:size]
    rgba = np.zeros((size, size, 4), np.uint8)
    for c in range(3):
        rgba[:, :, c] = (127 + 120 * np.sin(x / (9 + 7 * rng.random()) + y / (13 + 5 * rng.random()) + c)).astype(np.uint8)
    rgba[:, :, 3] = np.where((x - size / 2) ** 2 + (y - size / 2) ** 2 < (size * 0.45) ** 2, 255, 0)
    buf = io.BytesIO()
    Image.fromarray(rgba, "RGBA").save(buf, "PNG")
    return buf.getvalue()


def run_gemm(device, size: int, dtype: str, iterations: int) -> dict:
    from .gemm import gemm
    from .registry import JobContext

    return gemm(JobContext("bench", "gemm", {"size": size, "dtype": dtype, "iterations": iterations}, {}, device))


def raw_matmul_tflops(device, size: int, dtype: str, iterations: int) -> float:
    """The floor: the same multiply with nothing of ours around it."""
    if device.backend == "torch":
        torch = device.torch
        a = torch.randn(size, size, device=device.kind, dtype=getattr(torch, dtype))
        b = torch.randn(size, size, device=device.kind, dtype=getattr(torch, dtype))
        torch.matmul(a, b)
        device.synchronize()
        t0 = time.perf_counter()
        for _ in range(iterations):
            torch.matmul(a, b)
        device.synchronize()
    else:
        import numpy as np
        a = np.random.default_rng(0).standard_normal((size, size), dtype=np.float32).astype(dtype)
        b = a.copy()
        a @ b
        t0 = time.perf_counter()
        for _ in range(iterations):
            a @ b
    return 2.0 * size ** 3 * iterations / (time.perf_counter() - t0) / 1e12


def pixelize_rate(device, images: list[bytes], jobs: int, batch: int) -> float:
    """Images per second through pixelize, `batch` jobs of one image per batch."""
    from .pixelize import pixelize_batch
    from .registry import JobContext

    params = {"width": 64, "colors": 16, "iterations": 12}
    ctxs = [JobContext(f"b{i}", "pixelize", params, {"images": [images[i % len(images)]]}, device) for i in range(jobs)]
    pixelize_batch(ctxs[:1])  # warm-up (CUDA context, kernels)
    t0 = time.perf_counter()
    for i in range(0, jobs, batch):
        for r in pixelize_batch(ctxs[i:i + batch]):
            if isinstance(r, Exception):
                raise r
    return jobs / (time.perf_counter() - t0)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m inference.ops.bench")
    p.add_argument("--cpu", action="store_true")
    p.add_argument("--gpu", type=int)
    p.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    p.add_argument("--quick", action="store_true", help="small sizes (for tests)")
    args = p.parse_args(argv)
    if args.gpu is not None:
        os.environ["CUDA_VISIBLE_DEVICES"] = str(args.gpu)
    from ..device import Device, detect

    device = detect(force_cpu=args.cpu, gpu_index=args.gpu)
    cpu = Device("cpu", "numpy")
    images = [sprite(i) for i in range(8)]
    rows: dict = {"device": device.label}
    if device.kind == "cuda":
        for dtype in ("float16", "bfloat16", "float32"):
            op = run_gemm(device, 8192, dtype, 50)
            raw = raw_matmul_tflops(device, 8192, dtype, 50)
            rows[f"gemm_{dtype}_8192"] = {"op_tflops": op["tflops"], "torch_matmul_tflops": raw,
                                          "ratio": op["tflops"] / raw}
        gpu_rate = pixelize_rate(device, images, 256, 8)
        cpu_rate = pixelize_rate(cpu, images, 32, 1)
        rows["pixelize"] = {"gpu_images_per_s": gpu_rate, "cpu_images_per_s": cpu_rate, "gpu_cpu_ratio": gpu_rate / cpu_rate}
    else:
        size, iters = (256, 5) if args.quick else (1024, 10)
        op = run_gemm(device, size, "float32", iters)
        raw = raw_matmul_tflops(device, size, "float32", iters)
        rows[f"gemm_float32_{size}"] = {"op_tflops": op["tflops"], "raw_matmul_tflops": raw, "ratio": op["tflops"] / raw}
        rows["pixelize"] = {"cpu_images_per_s": pixelize_rate(device, images, 4 if args.quick else 32, 1),
                            "gpu": "no GPU here"}
    print(json.dumps(rows) if args.json else "\n".join(f"{k}: {v}" for k, v in rows.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
