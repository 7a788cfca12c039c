"""The op registry: what `submit {op}` can name.

A plugin is any importable Python module that calls `register_op` when imported; start the server
with `--ops-module mypkg.myops` (repeatable) to load it. See docs/protocol.md, "Adding an op".

    from inference.ops.registry import register_op, OpError

    def upper(ctx):                      # ctx: JobContext
        text = ctx.inputs["text"][0]     # inputs are lists of bytes
        ctx.check()                      # raises JobStopped when cancelled or timed out
        ctx.progress(1, 1)
        return {"text": text.upper()}    # plain MessagePack-able values (bytes become bin)

    register_op("upper", upper, description="upper-cases bytes")
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Callable

BAD_REQUEST = "BAD_REQUEST"


class OpError(Exception):
    """An op's way to fail a job with a protocol error code (BAD_REQUEST for bad params)."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code, self.message = code, message


class JobStopped(Exception):
    """Raised by ctx.check() when the job was cancelled or ran past its deadline."""


@dataclass
class OpSpec:
    name: str
    handler: Callable[["JobContext"], dict]
    description: str = ""
    # {name: text}, or a function of the server's device returning it (when what is accepted depends on it)
    params: dict | Callable[[Any], dict] = field(default_factory=dict)
    # Jobs whose params give the same non-None batch_key may run together through batch_handler.
    batch_key: Callable[[dict], Any] | None = None
    batch_handler: Callable[[list["JobContext"]], list] | None = None
    # Inline ops are cheap and never block (microseconds, no I/O, no waiting): the socket thread runs
    # them the moment they are accepted, instead of queueing them for the worker thread
    # (docs/protocol.md, "Inline ops"). Anything that can take longer must not be inline: it would
    # stop the server from reading requests while it runs.
    inline: bool = False

    def describe(self, device=None) -> dict:
        params = self.params(device) if callable(self.params) else self.params
        return {"name": self.name, "description": self.description, "params": params,
                "batchable": self.batch_handler is not None, "inline": self.inline}


_REGISTRY: dict[str, OpSpec] = {}


def register_op(name: str, handler=None, *, description: str = "", params: dict | Callable[[Any], dict] | None = None,
                batch_key=None, batch_handler=None, inline: bool = False, replace: bool = False):
    """Registers an op; usable as `register_op("x", fn)` or as a decorator `@register_op("x")`.

    `inline=True` declares the op cheap and non-blocking: it runs on the socket thread (see OpSpec.inline)."""
    def add(fn):
        if name in _REGISTRY and not replace:
            raise ValueError(f"op {name!r} is already registered (pass replace=True to override)")
        if inline and batch_handler is not None:
            raise ValueError(f"op {name!r}: an inline op runs alone at once, so it cannot be batchable too")
        _REGISTRY[name] = OpSpec(name, fn, description or (fn.__doc__ or "").strip().split("\n")[0],
                                 params or {}, batch_key, batch_handler, inline)
        return fn
    return add(handler) if handler is not None else add


def get_op(name: str) -> OpSpec | None:
    return _REGISTRY.get(name)


def list_ops() -> list[OpSpec]:
    return [_REGISTRY[name] for name in sorted(_REGISTRY)]


def load_builtin_ops() -> None:
    from . import echo, gemm, pixelize  # noqa: F401  (importing registers them)


def load_ops_module(module: str) -> None:
    import importlib
    importlib.import_module(module)


class JobContext:
    """What an op sees of one job. Thread-safe where it must be: cancel() comes from the socket thread."""

    def __init__(self, job_id: str, op: str, params: dict, inputs: dict, device, model: str | None = None,
                 on_progress: Callable[[str, Any, Any], None] | None = None, deadline: float | None = None):
        self.id, self.op, self.params, self.model, self.device = job_id, op, params, model, device
        # Inputs are always lists of bytes, whatever shape the client sent; the op gets its own lists
        # (the request's stay as they came: the dedup fingerprint reads them, see jobs.Fingerprint).
        self.inputs = {k: (list(v) if isinstance(v, list) else [v]) for k, v in inputs.items()}
        self.deadline = deadline
        self._on_progress = on_progress
        # A plain flag (set once, never cleared: safe under the GIL), cheaper than a threading.Event per job.
        self._stop = False
        self.stop_reason: str | None = None
        self._last_progress = 0.0

    def cancel(self, reason: str = "cancelled") -> None:
        self.stop_reason = self.stop_reason or reason
        self._stop = True

    def stopped(self) -> bool:
        if not self._stop and self.deadline is not None and time.monotonic() > self.deadline:
            self.cancel("timeout")
        return self._stop

    def check(self) -> None:
        """Call once per iteration: raises JobStopped if the job was cancelled or timed out."""
        if self.stopped():
            raise JobStopped(self.stop_reason)

    def progress(self, done, total, stage: str = "running") -> None:
        # At most one event per 20 ms per job, but always the last one: progress is for people and
        # heartbeats, not a data channel.
        now = time.monotonic()
        on_progress = self._on_progress  # read once: the server drops it when the job is answered
        if on_progress and (done == total or now - self._last_progress >= 0.02):
            self._last_progress = now
            on_progress(stage, done, total)


def param_int(params: dict, name: str, default: int, lo: int, hi: int) -> int:
    value = params.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise OpError(BAD_REQUEST, f"params.{name} must be an integer from {lo} to {hi}, got {value!r}")
    return value
