"""`gemm`: the matrix-multiply hardware baseline. size, dtype, iterations → achieved TFLOPS on this device."""
from __future__ import annotations

import time

import numpy as np

from .registry import BAD_REQUEST, JobContext, OpError, param_int, register_op

TORCH_DTYPES = ("float32", "float16", "bfloat16", "float64")
NUMPY_DTYPES = ("float32", "float64")  # numpy has no fast half-precision matmul on the CPU


def dtypes_on(device) -> tuple[str, ...]:
    """The dtypes gemm accepts on this device (what `ops` advertises and what a job is checked against)."""
    return TORCH_DTYPES if device is not None and device.backend == "torch" else NUMPY_DTYPES


def gemm(ctx: JobContext) -> dict:
    n = param_int(ctx.params, "size", 1024, 1, 32768)
    iterations = param_int(ctx.params, "iterations", 10, 1, 100000)
    warmup = param_int(ctx.params, "warmup", 1, 0, 1000)
    dtype = ctx.params.get("dtype", "float32")
    dev = ctx.device
    allowed = dtypes_on(dev)
    if dtype not in allowed:
        raise OpError(BAD_REQUEST, f"params.dtype must be one of {', '.join(allowed)} on {dev.label}, got {dtype!r}")

    if dev.backend == "torch":
        torch = dev.torch
        gen = torch.Generator(device=dev.kind).manual_seed(0)
        a = torch.randn(n, n, generator=gen, device=dev.kind, dtype=getattr(torch, dtype))
        b = torch.randn(n, n, generator=gen, device=dev.kind, dtype=getattr(torch, dtype))
        matmul = torch.matmul
    else:
        rng = np.random.default_rng(0)
        a = rng.standard_normal((n, n), dtype=np.float32).astype(dtype)
        b = rng.standard_normal((n, n), dtype=np.float32).astype(dtype)
        matmul = np.matmul

    for _ in range(warmup):
        ctx.check()
        c = matmul(a, b)
    dev.synchronize()
    ctx.progress(0, iterations, "running")
    start = time.perf_counter()
    for i in range(iterations):
        ctx.check()  # cancel / timeout take effect between multiplies
        c = matmul(a, b)
        if dev.kind == "cuda" and (i + 1) % 8 == 0:
            dev.synchronize()  # keep the queue short so a cancel lands within a few multiplies
        ctx.progress(i + 1, iterations)
    dev.synchronize()
    seconds = time.perf_counter() - start
    flops = 2.0 * n * n * n * iterations
    checksum = float(c[0, 0])  # element [0, 0] of the last product (inputs seeded: a cheap sanity value)
    return {"tflops": flops / seconds / 1e12, "device": dev.label, "backend": dev.backend, "size": n,
            "dtype": dtype, "iterations": iterations, "seconds": seconds, "checksum": checksum}


register_op("gemm", gemm, description="matrix-multiply baseline: size, dtype, iterations -> achieved TFLOPS",
            params=lambda device: {"size": "int 1-32768, default 1024 (n x n matrices)",
                                   "dtype": " | ".join(dtypes_on(device)) + ", default float32",
                                   "iterations": "int 1-100000, default 10", "warmup": "int 0-1000, default 1"})
