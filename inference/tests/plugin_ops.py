"""A plugin op for the tests: what a user's `--ops-module` looks like."""
from inference.ops.registry import register_op


def upper(ctx):
    ctx.check()
    ctx.progress(1, 1)
    return {"data": ctx.inputs["data"][0].upper(), "params": ctx.params}


register_op("upper", upper, description="upper-cases inputs.data")


RUNS: dict[str, int] = {}


def sleep(ctx):
    """Waits params.ms without progress events (a model that reports nothing), checking for cancel;
    returns how often this job id has started on this server (dedup tests)."""
    import time
    RUNS[ctx.id] = RUNS.get(ctx.id, 0) + 1
    end = time.monotonic() + ctx.params.get("ms", 100) / 1000
    while time.monotonic() < end:
        ctx.check()
        time.sleep(0.01)
    return {"runs": RUNS[ctx.id], "device": ctx.device.label}


register_op("sleep", sleep, description="waits params.ms, no progress")
