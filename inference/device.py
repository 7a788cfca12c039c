"""Which device this server computes on: CUDA through PyTorch when present, else the CPU.

Import this only after `--gpu N` has set CUDA_VISIBLE_DEVICES: importing torch initialises CUDA's
view of the devices, and it cannot be changed afterwards.
"""
from __future__ import annotations

import os


class Device:
    def __init__(self, kind: str, backend: str, torch=None, name: str = "cpu", gpu_index: int | None = None):
        self.kind, self.backend, self.torch, self.name, self.gpu_index = kind, backend, torch, name, gpu_index

    @property
    def label(self) -> str:
        """What results report as `device`: e.g. `cuda:0 (NVIDIA H100 80GB HBM3)` or `cpu (numpy)`."""
        return f"cuda:{self.gpu_index} ({self.name})" if self.kind == "cuda" else f"cpu ({self.backend})"

    def synchronize(self) -> None:
        if self.kind == "cuda":
            self.torch.cuda.synchronize()

    def memory(self) -> dict:
        if self.kind == "cuda":
            free, total = self.torch.cuda.mem_get_info()
            return {"total": int(total), "free": int(free), "used": int(total - free),
                    "allocated": int(self.torch.cuda.memory_allocated())}
        try:
            info = {}
            with open("/proc/meminfo") as f:
                for line in f:
                    key, value = line.split(":", 1)
                    info[key] = int(value.split()[0]) * 1024
            total, free = info["MemTotal"], info.get("MemAvailable", info["MemFree"])
            return {"total": total, "free": free, "used": total - free}
        except (OSError, KeyError, ValueError):
            return {"total": None, "free": None, "used": None}

    def describe(self) -> dict:
        return {"kind": self.kind, "name": self.name, "label": self.label, "backend": self.backend,
                "gpu_index": self.gpu_index, "cuda_visible_devices": os.environ.get("CUDA_VISIBLE_DEVICES"),
                "memory": self.memory()}


def detect(force_cpu: bool = False, gpu_index: int | None = None) -> Device:
    """torch + CUDA → cuda; torch without CUDA (or --cpu) → cpu/torch; no torch → cpu/numpy."""
    if os.environ.get("SPARKY_INFERENCE_NO_TORCH") == "1":
        return Device("cpu", "numpy")
    try:
        import torch  # noqa: PLC0415  (deliberately late: see the module docstring)
    except Exception:
        return Device("cpu", "numpy")
    if not force_cpu and torch.cuda.is_available():
        torch.cuda.set_device(0)  # with CUDA_VISIBLE_DEVICES=N, the pinned GPU is device 0
        return Device("cuda", "torch", torch, torch.cuda.get_device_name(0),
                      gpu_index if gpu_index is not None else 0)
    return Device("cpu", "torch", torch)
