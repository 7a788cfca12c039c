"""`gemm`: the matrix-multiply hardware baseline. size, dtype, iterations → achieved TFLOPS on this device."""
from __future__ import annotations

import time

import numpy as np

from .registry import BAD_REQUEST, JobContext, JobStopped, OpError, param_int, register_op

TORCH_DTYPES = ("float32", "float16", "bfloat16", "float64")
NUMPY_DTYPES = ("float32", "float64")  # numpy has no fast half-precision matmul on the CPU


def dtypes_on(device) -> tuple[str, ...]:
    """The dtypes gemm accepts on this device (what `ops` advertises and what a job is checked against)."""
    return TORCH_DTYPES if device is not None and device.backend == "torch" else NUMPY_DTYPES


def _params(ctx: JobContext) -> tuple[int, int, int, str]:
    n = param_int(ctx.params, "size", 1024, 1, 32768)
    iterations = param_int(ctx.params, "iterations", 10, 1, 100000)
    warmup = param_int(ctx.params, "warmup", 1, 0, 1000)
    dtype = ctx.params.get("dtype", "float32")
    allowed = dtypes_on(ctx.device)
    if dtype not in allowed:
        raise OpError(BAD_REQUEST, f"params.dtype must be one of {', '.join(allowed)} on {ctx.device.label}, got {dtype!r}")
    return n, iterations, warmup, dtype


def gemm_batch(ctxs: list[JobContext]) -> list:
    """Runs jobs with the same size, dtype, iterations and warmup (batch_key) as one batched multiply.

    Every job multiplies the same seeded matrices, so the batch stacks B copies and runs one batched
    matmul per iteration (torch.bmm-style on a GPU; numpy loops BLAS per matrix, so on the CPU each job's
    product is the very one it gets alone). A job that is cancelled or past its deadline leaves the batch
    at the next multiply (JobStopped for it alone); the rest go on. `tflops` is each job's own multiplies
    over the batch's time; `batch_tflops` what the device did for the whole batch.
    """
    results: list = [None] * len(ctxs)
    live: list[int] = []
    params = None
    for i, ctx in enumerate(ctxs):
        try:
            params = _params(ctx)
            live.append(i)
        except OpError as exc:
            results[i] = exc
    if not live:
        return results
    n, iterations, warmup, dtype = params
    dev = ctxs[live[0]].device
    a, b, matmul = _inputs(dev, n, dtype)
    stack = (lambda m, k: m.unsqueeze(0).expand(k, n, n).contiguous()) if dev.backend == "torch" else \
        (lambda m, k: np.ascontiguousarray(np.broadcast_to(m, (k, n, n))))
    big_a, big_b = stack(a, len(live)), stack(b, len(live))

    def prune() -> None:
        for i in [i for i in live if ctxs[i].stopped()]:
            live.remove(i)
            results[i] = JobStopped(ctxs[i].stop_reason)

    c = None
    for _ in range(warmup):
        prune()
        if not live:
            return results
        c = matmul(big_a[:len(live)], big_b[:len(live)])
    dev.synchronize()
    for i in live:
        ctxs[i].progress(0, iterations, "running")
    start = time.perf_counter()
    for it in range(iterations):
        prune()  # cancel / timeout take effect between multiplies, job by job
        if not live:
            return results
        c = matmul(big_a[:len(live)], big_b[:len(live)])
        if dev.kind == "cuda" and (it + 1) % 8 == 0:
            dev.synchronize()
        for i in live:
            ctxs[i].progress(it + 1, iterations)
    dev.synchronize()
    seconds = time.perf_counter() - start
    flops = 2.0 * n * n * n * iterations
    for j, i in enumerate(live):
        results[i] = {"tflops": flops / seconds / 1e12, "batch_tflops": flops * len(live) / seconds / 1e12,
                      "device": dev.label, "backend": dev.backend, "size": n, "dtype": dtype, "iterations": iterations,
                      "seconds": seconds, "checksum": float(c[j, 0, 0]), "batch_size": len(live)}
    return results


def _inputs(dev, n: int, dtype: str):
    if dev.backend == "torch":
        torch = dev.torch
        gen = torch.Generator(device=dev.kind).manual_seed(0)
        a = torch.randn(n, n, generator=gen, device=dev.kind, dtype=getattr(torch, dtype))
        b = torch.randn(n, n, generator=gen, device=dev.kind, dtype=getattr(torch, dtype))
        return a, b, torch.matmul
    rng = np.random.default_rng(0)
    a = rng.standard_normal((n, n), dtype=np.float32).astype(dtype)
    b = rng.standard_normal((n, n), dtype=np.float32).astype(dtype)
    return a, b, np.matmul


def gemm(ctx: JobContext) -> dict:
    n, iterations, warmup, dtype = _params(ctx)
    dev = ctx.device
    a, b, matmul = _inputs(dev, n, dtype)
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


def batch_key(params: dict):
    return ("gemm", repr(params.get("size", 1024)), repr(params.get("dtype", "float32")),
            repr(params.get("iterations", 10)), repr(params.get("warmup", 1)))


register_op("gemm", gemm, batch_key=batch_key, batch_handler=gemm_batch, description="matrix-multiply baseline: size, dtype, iterations -> achieved TFLOPS",
            params=lambda device: {"size": "int 1-32768, default 1024 (n x n matrices)",
                                   "dtype": " | ".join(dtypes_on(device)) + ", default float32",
                                   "iterations": "int 1-100000, default 10", "warmup": "int 0-1000, default 1"})
