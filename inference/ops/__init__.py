"""Ops the inference server runs. Importable without pyzmq: `python -m inference.ops.bench` times them directly."""
from .registry import JobContext, JobStopped, OpError, get_op, list_ops, load_builtin_ops, load_ops_module, register_op

__all__ = ["JobContext", "JobStopped", "OpError", "get_op", "list_ops", "load_builtin_ops", "load_ops_module",
           "register_op"]
