"""The ops without the server: importable and runnable with no pyzmq (as on the GPU hosts)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BLOCK_ZMQ = "import sys; sys.modules['zmq'] = None; sys.modules['prometheus_client'] = None; "


def test_ops_bench_runs_without_pyzmq():
    code = BLOCK_ZMQ + "from inference.ops.bench import main; main(['--cpu', '--json', '--quick'])"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120,
                         env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert out.returncode == 0, out.stderr
    rows = json.loads(out.stdout.strip().splitlines()[-1])
    assert rows["gemm_float32_256"]["op_tflops"] > 0 and rows["pixelize"]["cpu_images_per_s"] > 0
    assert rows["pixelize"]["gpu"] == "no GPU here"
