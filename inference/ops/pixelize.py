"""`pixelize`: sprite post-processing, the last stage of the DGX-Pixels pipeline.

PNG images in → each downscaled (area average) to a pixel grid → colours quantised with k-means to a
k-colour palette shared by all images of one job → PNGs (optionally upscaled, nearest) + the palette out.
Transparent pixels (alpha below `alpha_threshold`) stay transparent and do not vote for the palette.
Queued jobs with the same `colors` and `iterations` run as one batch: one batched k-means over all of
them (one palette per job), which is what keeps a GPU busy with small sprites.
"""
from __future__ import annotations

import io
import os

import numpy as np
from PIL import Image, UnidentifiedImageError

from .registry import BAD_REQUEST, JobContext, JobStopped, OpError, param_int, register_op

MAX_INPUT_PIXELS = 64 * 1024 * 1024


def _params(ctx: JobContext) -> dict:
    p = ctx.params
    out = {"width": param_int(p, "width", 32, 1, 1024), "colors": param_int(p, "colors", 8, 1, 256),
           "iterations": param_int(p, "iterations", 12, 1, 500), "scale": param_int(p, "scale", 1, 1, 64),
           "alpha_threshold": param_int(p, "alpha_threshold", 128, 0, 256)}
    out["height"] = param_int(p, "height", 0, 0, 1024) if p.get("height") is not None else 0
    return out


def _load(ctx: JobContext, params: dict):
    """Decodes and downscales one job's images → (pixels [N,3] float32, per-image (h, w, opaque mask))."""
    images = ctx.inputs.get("images")
    if not images:
        raise OpError(BAD_REQUEST, "inputs.images must hold at least one PNG")
    grids, pixels = [], []
    for i, png in enumerate(images):
        ctx.check()
        try:
            with Image.open(io.BytesIO(png)) as img:
                if img.width * img.height > MAX_INPUT_PIXELS:
                    raise OpError(BAD_REQUEST, f"inputs.images[{i}] is larger than {MAX_INPUT_PIXELS} pixels")
                rgba = img.convert("RGBA")
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
            raise OpError(BAD_REQUEST, f"inputs.images[{i}] is not a readable image: {exc}") from None
        w = params["width"]
        h = params["height"] or max(1, round(rgba.height * w / rgba.width))
        small = np.asarray(rgba.resize((w, h), Image.Resampling.BOX), dtype=np.float32)
        opaque = small[:, :, 3] >= params["alpha_threshold"]
        grids.append((h, w, opaque, small[:, :, :3]))
        pixels.append(small[:, :, :3][opaque])
        ctx.progress(i + 1, len(images), "decode")
    return np.concatenate(pixels) if pixels else np.zeros((0, 3), np.float32), grids


def _initial_centers(points: np.ndarray, k: int) -> np.ndarray:
    """Deterministic start: colours at k evenly spaced luminance quantiles (no seed, same answer every run)."""
    if len(points) == 0:
        return np.zeros((k, 3), np.float32)
    order = np.argsort(points @ np.array([0.299, 0.587, 0.114], np.float32), kind="stable")
    picks = order[((np.arange(k) + 0.5) * len(points) / k).astype(int).clip(0, len(points) - 1)]
    return points[picks].astype(np.float32)


def _sq_dist(points: np.ndarray, centers: np.ndarray) -> np.ndarray:
    """Squared distances [..., N, k] of points [..., N, 3] to centers [..., k, 3], channel by channel.

    Element-wise only (no reduction over a tiny axis, no BLAS), so each distance is computed the same
    way whatever the batch's shape: a batch gives bit-identical answers to its jobs run alone.
    """
    d = (points[..., :, None, 0] - centers[..., None, :, 0]) ** 2
    d += (points[..., :, None, 1] - centers[..., None, :, 1]) ** 2
    d += (points[..., :, None, 2] - centers[..., None, :, 2]) ** 2
    return d


def _kmeans_numpy(points, mask, centers, iterations, on_iteration):
    """Batched k-means: points [B, N, 3] (mask [B, N] marks real ones), centers [B, k, 3].

    Each job converges on its own (a converged job's centres stay fixed while the others go on) and
    its cluster sums add its own points in their order (bincount), so every job of a batch ends with
    exactly the centres it would get alone.
    """
    b, k = centers.shape[0], centers.shape[1]
    centers = centers.copy()
    active = np.ones(b, bool)
    offsets = (np.arange(b) * k)[:, None]
    for it in range(iterations):
        on_iteration(it)
        assign = _sq_dist(points, centers).argmin(-1)                              # [B, N]
        bins = (assign + offsets)[mask]                                            # row-major: job by job, in order
        counts = np.bincount(bins, minlength=b * k).reshape(b, k).astype(np.float32)
        sums = np.stack([np.bincount(bins, weights=points[..., c][mask], minlength=b * k) for c in range(3)], -1)
        sums = sums.reshape(b, k, 3).astype(np.float32)
        new = np.where(counts[..., None] > 0, sums / np.maximum(counts, 1)[..., None], centers)
        # np.allclose(new[j], centers[j], atol=1e-3) for every job at once
        close = (np.abs(new - centers) <= 1e-3 + 1e-5 * np.abs(centers)).all(axis=(1, 2))
        centers[active] = new[active]
        active &= ~close
        if not active.any():
            break
    return centers


def _kmeans_torch(torch, device, points, mask, centers, iterations, on_iteration):
    p = torch.from_numpy(points).to(device)
    m = torch.from_numpy(mask).to(device)
    c = torch.from_numpy(centers).to(device)
    ar = torch.arange(c.shape[1], device=device)
    active = torch.ones(c.shape[0], dtype=torch.bool, device=device)
    for it in range(iterations):
        on_iteration(it)
        assign = torch.cdist(p, c).argmin(-1)
        onehot = ((assign[..., None] == ar) & m[..., None]).float()
        counts = onehot.sum(1)
        sums = torch.einsum("bnk,bnc->bkc", onehot, p)
        new = torch.where(counts[..., None] > 0, sums / counts.clamp(min=1)[..., None], c)
        # Each job converges on its own, as in _kmeans_numpy (a converged job's centres stay fixed).
        close = ((new - c).abs() <= 1e-3 + 1e-5 * c.abs()).flatten(1).all(1)
        c = torch.where(active[:, None, None], new, c)
        active = active & ~close
        if not bool(active.any()):
            break
    return c.cpu().numpy()


def _encode(grid, palette: np.ndarray, scale: int) -> bytes:
    h, w, opaque, rgb = grid
    out = np.zeros((h, w, 4), np.uint8)
    if len(palette):
        idx = _sq_dist(rgb, palette.astype(np.float32)).argmin(-1)
        out[:, :, :3] = palette[idx]
    out[:, :, 3] = np.where(opaque, 255, 0)
    out[~opaque, :3] = 0
    img = Image.fromarray(out, "RGBA")
    if scale > 1:
        img = img.resize((w * scale, h * scale), Image.Resampling.NEAREST)
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


_POOL = None


def _cpu_threads() -> int:
    """Threads a CPU batch is split over: SPARKY_INFERENCE_CPU_THREADS, else the cores this process may use."""
    if os.environ.get("SPARKY_INFERENCE_CPU_THREADS", "").strip():
        return max(1, int(os.environ["SPARKY_INFERENCE_CPU_THREADS"]))
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


def pixelize_batch(ctxs: list[JobContext]) -> list:
    """Runs compatible jobs together; returns one result dict or exception per job, in order.

    On the CPU a batch is split into one part per core, run on a small thread pool: PNG decode and
    encode (Pillow) and the numpy work release the GIL, and each job's answer does not depend on the
    batch it is in, so the split changes nothing but the time. On a GPU the batch runs as one.
    """
    global _POOL
    threads = _cpu_threads()
    if len(ctxs) < 2 or threads < 2 or ctxs[0].device.backend == "torch":
        return _pixelize_part(ctxs)
    if _POOL is None:
        from concurrent.futures import ThreadPoolExecutor
        _POOL = ThreadPoolExecutor(threads, thread_name_prefix="sparky-pixelize")
    parts = [ctxs[i::threads] for i in range(min(threads, len(ctxs)))]
    results: list = [None] * len(ctxs)
    for i, part in enumerate(_POOL.map(_pixelize_part, parts)):
        results[i::threads] = part
    together = len(ctxs) - sum(isinstance(r, OpError) for r in results)  # as one part would count them
    for r in results:
        if isinstance(r, dict):
            r["batch_size"] = together
    return results


def _pixelize_part(ctxs: list[JobContext]) -> list:
    results: list = [None] * len(ctxs)
    live = []
    for i, ctx in enumerate(ctxs):
        try:
            params = _params(ctx)
            points, grids = _load(ctx, params)
            live.append((i, ctx, params, points, grids))
        except (OpError, JobStopped) as exc:
            results[i] = exc
    if not live:
        return results
    k, iterations = live[0][2]["colors"], live[0][2]["iterations"]
    n_max = max(1, max(len(item[3]) for item in live))
    points = np.zeros((len(live), n_max, 3), np.float32)
    mask = np.zeros((len(live), n_max), bool)
    centers = np.zeros((len(live), k, 3), np.float32)
    for b, (_, _, _, pts, _) in enumerate(live):
        points[b, :len(pts)], mask[b, :len(pts)] = pts, True
        centers[b] = _initial_centers(pts, k)

    def on_iteration(it):
        # A cancelled or timed-out job leaves the batch at the next iteration; the others go on.
        for _, ctx, _, _, _ in live:
            if not ctx.stopped():
                ctx.progress(it, iterations, "kmeans")
        if all(ctx.stopped() for _, ctx, _, _, _ in live):
            raise JobStopped("every job in the batch stopped")

    dev = live[0][1].device
    try:
        if dev.backend == "torch":
            centers = _kmeans_torch(dev.torch, dev.kind, points, mask, centers, iterations, on_iteration)
        else:
            centers = _kmeans_numpy(points, mask, centers, iterations, on_iteration)
    except JobStopped:
        pass
    for b, (i, ctx, params, pts, grids) in enumerate(live):
        try:
            ctx.check()
            palette = np.clip(np.rint(centers[b]), 0, 255).astype(np.uint8)
            if len(pts):
                # Most used colour first; centres no pixel chose (k above the colours present) are dropped.
                used = _sq_dist(pts, palette.astype(np.float32)).argmin(-1)
                counts = np.bincount(used, minlength=k)
                palette = palette[[c for c in np.argsort(-counts, kind="stable") if counts[c] > 0]]
            else:
                palette = palette[:0]
            images = []
            for g in grids:
                ctx.check()
                images.append(_encode(g, palette, params["scale"]))
            ctx.progress(iterations, iterations, "encoded")
            results[i] = {"images": images, "palette": palette.astype(int).tolist(), "count": len(images),
                          "width": grids[0][1] * params["scale"], "height": grids[0][0] * params["scale"],
                          "device": dev.label, "batch_size": len(live)}
        except JobStopped as exc:
            results[i] = exc
    return results


def pixelize(ctx: JobContext) -> dict:
    result = pixelize_batch([ctx])[0]
    if isinstance(result, Exception):
        raise result
    return result


def batch_key(params: dict):
    return ("pixelize", params.get("colors", 8), params.get("iterations", 12))


register_op("pixelize", pixelize, batch_key=batch_key, batch_handler=pixelize_batch,
            description="PNG sprites -> pixel grid + k-colour palette (k-means) -> PNGs + palette",
            params={"width": "grid width in pixels, default 32", "height": "default: keeps the aspect ratio",
                    "colors": "palette size k, default 8", "iterations": "k-means iterations, default 12",
                    "scale": "nearest-neighbour upscale of the output, default 1",
                    "alpha_threshold": "alpha below this is transparent, default 128",
                    "inputs.images": "one or more PNG files (bin)"})
