"""`echo`: returns its inputs and params unchanged. The cheapest job there is: health checks and the
round-trip benchmark measure the server's own overhead with it."""
from __future__ import annotations

from .registry import JobContext, register_op


def echo(ctx: JobContext) -> dict:
    ctx.check()
    return {"inputs": {k: v[0] if len(v) == 1 else v for k, v in ctx.inputs.items()}, "params": ctx.params,
            "device": ctx.device.label}


register_op("echo", echo, description="returns inputs and params unchanged (overhead baseline)",
            params={"*": "anything; echoed back"})
