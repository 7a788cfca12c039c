"""A plugin op for the tests: what a user's `--ops-module` looks like."""
from inference.ops.registry import OpError, register_op


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


def ticks_batch(ctxs):
    """A batchable op that runs in 10 ms ticks for params.ms (the batch tests): each tick drops the jobs
    that were cancelled or ran past their deadline; the rest report how many started and ended together."""
    import time

    from inference.ops.registry import JobStopped
    live = list(range(len(ctxs)))
    out: list = [None] * len(ctxs)
    end = time.monotonic() + ctxs[0].params.get("ms", 100) / 1000
    ticks = 0
    while time.monotonic() < end and live:
        for i in [i for i in live if ctxs[i].stopped()]:
            live.remove(i)
            out[i] = JobStopped(ctxs[i].stop_reason)
        for i in live:
            ctxs[i].progress(ticks, None, "tick")
        time.sleep(0.01)
        ticks += 1
    for i in live:
        out[i] = {"started_with": len(ctxs), "ended_with": len(live), "ticks": ticks}
    return out


def ticks(ctx):
    result = ticks_batch([ctx])[0]
    if isinstance(result, Exception):
        raise result
    return result


register_op("ticks", ticks, batch_key=lambda params: ("ticks", params.get("ms", 100)), batch_handler=ticks_batch,
            description="runs params.ms in 10 ms ticks; batchable")


def spin_inline(ctx):
    """An inline op for the tests only (inline ops must be cheap; this one busy-waits params.ms, so a
    test can see an inline job's deadline and errors). params.fail raises instead; params.unpackable
    returns a value MessagePack cannot encode; params.bad_params fails with OpError BAD_REQUEST."""
    import time
    if ctx.params.get("fail"):
        raise RuntimeError("spin_inline was told to fail")
    if ctx.params.get("unpackable"):
        return {"value": object()}
    if ctx.params.get("bad_params"):
        raise OpError("BAD_REQUEST", "spin_inline was given bad params")
    end = time.monotonic() + ctx.params.get("ms", 0) / 1000
    while time.monotonic() < end:
        pass
    ctx.check()
    ctx.progress(1, 1)
    return {"spun_ms": ctx.params.get("ms", 0)}


register_op("spin_inline", spin_inline, inline=True, description="busy-waits params.ms on the socket thread (tests)")
