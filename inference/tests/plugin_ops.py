"""A plugin op for the tests: what a user's `--ops-module` looks like."""
from inference.ops.registry import register_op


def echo(ctx):
    ctx.check()
    ctx.progress(1, 1)
    return {"data": ctx.inputs["data"][0].upper(), "params": ctx.params}


register_op("echo", echo, description="upper-cases inputs.data")
