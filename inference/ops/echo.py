"""`echo`: returns its inputs and params unchanged. The cheapest job there is: health checks and the
round-trip benchmark measure the server's own overhead with it.

`echo` is an inline op (it copies nothing and never blocks), so the socket thread answers it at once;
`echo_worker` is the same op run like every other job, queued for the worker thread: the benchmark
reports both, so the cost of the queue and the thread hand-offs stays in plain view."""
from __future__ import annotations

from .registry import JobContext, register_op


def echo(ctx: JobContext) -> dict:
    ctx.check()
    return {"inputs": {k: v[0] if len(v) == 1 else v for k, v in ctx.inputs.items()}, "params": ctx.params,
            "device": ctx.device.label}


register_op("echo", echo, description="returns inputs and params unchanged (overhead baseline); inline",
            params={"*": "anything; echoed back"}, inline=True)
register_op("echo_worker", echo, description="echo run on the worker thread (the queue and hand-off overhead)",
            params={"*": "anything; echoed back"})
