"""Dynamic batching (protocol §2 `status`, §6): compatible jobs that queue up run as one batch, with the
same results as alone; cancel and deadlines still act on one job; the settings show in `status`."""
from __future__ import annotations

import time

from .test_conformance import jid
from .wire import Client, Progress

PLUGIN = ("--ops-module", "inference.tests.plugin_ops")


def sprite(seed: int, size: int = 48) -> bytes:
    import io

    import numpy as np
    from PIL import Image
    rng = np.random.default_rng(seed)
    rgba = rng.integers(0, 256, (size, size, 4), dtype=np.uint8)
    rgba[:, :, 3] = np.where(rng.random((size, size)) < 0.9, 255, 0)
    buf = io.BytesIO()
    Image.fromarray(rgba, "RGBA").save(buf, "PNG")
    return buf.getvalue()


def blocker(c: Client, ms: int = 300) -> str:
    """A non-batchable job that holds the worker, so the jobs sent next queue up together."""
    job = jid("blocker")
    c.send({"v": 1, "type": "submit", "id": job, "op": "sleep", "params": {"ms": ms}})
    return job


def wait_in_flight(c: Client, n: int, timeout: float = 20.0) -> None:
    until = time.monotonic() + timeout
    while time.monotonic() < until:
        if c.request({"type": "status", "id": jid("s")})["result"]["in_flight"] == n:
            return
        time.sleep(0.02)
    raise AssertionError(f"no batch of {n} running within {timeout}s")


def test_settings_show_in_status(start_server):
    server = start_server("--cpu", "--port", "0", "--max-batch", "4", "--batch-wait-ms", "7.5")
    status = Client(server.bind).request({"type": "status", "id": "s"})["result"]
    assert status["limits"]["max_batch"] == 4 and status["limits"]["batch_wait_ms"] == 7.5
    assert status["batching"]["max_batch"] == 4 and status["batching"]["max_wait_ms"] == 7.5
    assert {"gemm", "pixelize"} <= set(status["batching"]["ops"]) and "echo" not in status["batching"]["ops"]
    from_env = start_server("--cpu", "--port", "0", env={"SPARKY_INFERENCE_MAX_BATCH": "3", "SPARKY_INFERENCE_BATCH_WAIT_MS": "2"})
    status = Client(from_env.bind).request({"type": "status", "id": "s"})["result"]
    assert status["batching"] == {**status["batching"], "max_batch": 3, "max_wait_ms": 2.0}
    default = start_server("--cpu", "--port", "0")
    assert Client(default.bind).request({"type": "status", "id": "s"})["result"]["batching"]["max_batch"] == 1


def test_bad_settings_are_refused(start_server):
    import pytest
    with pytest.raises(RuntimeError, match="--max-batch must be at least 1"):
        start_server("--cpu", "--port", "0", "--max-batch", "0")
    with pytest.raises(RuntimeError, match="SPARKY_INFERENCE_BATCH_WAIT_MS"):
        start_server("--cpu", "--port", "0", env={"SPARKY_INFERENCE_BATCH_WAIT_MS": "soon"})


def test_batched_results_are_identical_to_unbatched(start_server):
    server = start_server("--cpu", "--port", "0", "--max-batch", "8", *PLUGIN)
    c = Client(server.bind)
    params = {"width": 24, "colors": 6, "iterations": 20}
    ids = [jid("pix") for _ in range(4)]
    # Different images and sizes: one batch, one palette per job. Made before the blocker starts.
    msgs = [{"v": 1, "type": "submit", "id": job, "op": "pixelize", "params": {**params, "width": 16 + 8 * i},
             "inputs": {"images": [sprite(i), sprite(10 + i)]}} for i, job in enumerate(ids)]
    blocker(c)
    for msg in msgs:
        c.send(msg)
    gemms = [jid("gemm") for _ in range(3)]
    for job in gemms:
        c.send({"v": 1, "type": "submit", "id": job, "op": "gemm", "params": {"size": 96, "iterations": 3}})
    batched = [c.wait_for("submit", job) for job in ids]
    assert all(r["ok"] for r in batched), batched
    assert [r["meta"]["batch_size"] for r in batched] == [4] * 4
    for i, reply in enumerate(batched):
        alone = c.request({"type": "submit", "id": jid("alone"), "op": "pixelize", "params": {**params, "width": 16 + 8 * i},
                           "inputs": {"images": [sprite(i), sprite(10 + i)]}})
        assert alone["meta"]["batch_size"] == 1
        assert alone["result"]["palette"] == reply["result"]["palette"]
        assert alone["result"]["images"] == reply["result"]["images"], f"job {i}: a batch changed the pixels"
    gemm_replies = [c.wait_for("submit", job) for job in gemms]
    assert [r["meta"]["batch_size"] for r in gemm_replies] == [3] * 3
    alone = c.request({"type": "submit", "id": jid("gemm-alone"), "op": "gemm", "params": {"size": 96, "iterations": 3}})
    assert {r["result"]["checksum"] for r in gemm_replies} == {alone["result"]["checksum"]}
    c.close()


def test_jobs_arriving_within_the_wait_join_a_batch(start_server):
    server = start_server("--cpu", "--port", "0", "--max-batch", "4", "--batch-wait-ms", "400", *PLUGIN)
    c = Client(server.bind)
    blocker(c, 200)
    first = [jid("t") for _ in range(2)]
    for job in first:  # a batch of 2: from now on the server expects company for "ticks"
        c.send({"v": 1, "type": "submit", "id": job, "op": "ticks", "params": {"ms": 50}})
    assert [c.wait_for("submit", job)["meta"]["batch_size"] for job in first] == [2, 2]
    late = [jid("late") for _ in range(3)]
    for job in late:  # sent 50 ms apart, all within the 400 ms window of the first
        c.send({"v": 1, "type": "submit", "id": job, "op": "ticks", "params": {"ms": 50}})
        time.sleep(0.05)
    assert [c.wait_for("submit", job)["meta"]["batch_size"] for job in late] == [3, 3, 3]
    c.close()


def test_a_cancelled_job_inside_a_batch_is_cancelled_alone(start_server):
    server = start_server("--cpu", "--port", "0", "--max-batch", "4", *PLUGIN)
    c = Client(server.bind)
    blocker(c)
    a, b, d = jid("a"), jid("b"), jid("d")
    for job in (a, b, d):
        c.send({"v": 1, "type": "submit", "id": job, "op": "ticks", "params": {"ms": 1500}})
    wait_in_flight(c, 3)
    assert c.request({"type": "cancel", "id": b})["result"]["state"] == "stopping"
    assert c.wait_for("submit", b)["error"]["code"] == "CANCELLED"
    for job in (a, d):
        reply = c.wait_for("submit", job)
        assert reply["ok"] is True, reply
        assert reply["meta"]["batch_size"] == 3
        assert reply["result"]["started_with"] == 3 and reply["result"]["ended_with"] == 2
    c.close()


def test_a_job_past_its_deadline_inside_a_batch_fails_alone(start_server):
    server = start_server("--cpu", "--port", "0", "--max-batch", "4", *PLUGIN)
    c = Client(server.bind)
    blocker(c, 200)
    a, b, d = jid("a"), jid("b"), jid("d")
    for job in (a, b, d):
        c.send({"v": 1, "type": "submit", "id": job, "op": "ticks", "params": {"ms": 1500},
                **({"timeout_ms": 900} if job == b else {})})
    assert c.wait_for("submit", b)["error"]["code"] == "TIMEOUT"
    for job in (a, d):
        reply = c.wait_for("submit", job)
        assert reply["ok"] is True, reply
        assert reply["meta"]["batch_size"] == 3, "the late job was in the batch when its deadline passed"
        assert reply["result"]["ended_with"] == 2
    c.close()


def test_cancel_inside_a_gemm_batch_leaves_the_others_running(start_server):
    server = start_server("--cpu", "--port", "0", "--max-batch", "4", *PLUGIN)
    c, sub = Client(server.bind), Progress(server.pub)
    time.sleep(0.3)
    blocker(c)
    jobs = [jid("g") for _ in range(3)]
    for job in jobs:
        c.send({"v": 1, "type": "submit", "id": job, "op": "gemm", "params": {"size": 256, "iterations": 100000}})
    wait_in_flight(c, 3)
    assert c.request({"type": "cancel", "id": jobs[1]})["result"]["state"] == "stopping"
    assert c.wait_for("submit", jobs[1])["error"]["code"] == "CANCELLED"
    # The cancel stopped one job, not the batch: the other two finish with their results.
    for job in (jobs[0], jobs[2]):
        reply = c.wait_for("submit", job, timeout=120)
        assert reply["ok"] is True, reply
        assert reply["result"]["iterations"] == 100000
    sub.drain(0.3)
    assert sub.events[jobs[0]][-1]["stage"] == "done" and sub.events[jobs[1]][-1]["stage"] == "cancelled"
    c.close()
    sub.close()
