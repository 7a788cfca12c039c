"""The job path's cheap cases (docs/protocol.md sections 5, 7 and 11): inline ops answered by the socket
thread with cancel, dedup and deadlines intact; progress events only for subscribed jobs, with sequence
numbers that still count every event; the dedup fingerprint hashed only when an id comes again."""
from __future__ import annotations

import time
import uuid

import pytest
import zmq

from inference.jobs import Fingerprint, ResultCache
from inference.ops.registry import register_op

from .wire import Client, Progress

SLOW = {"size": 256, "iterations": 100000}  # minutes on a CPU unless cancelled


def jid(prefix="job") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


@pytest.fixture(scope="module")
def server():
    from .conftest import serve_module
    yield from serve_module("--cpu", "--port", "0", "--id", "job-path", "--ops-module", "inference.tests.plugin_ops")


def test_ops_says_which_ops_are_inline(server):
    c = Client(server.bind)
    ops = {op["name"]: op for op in c.request({"type": "ops", "id": "o"})["result"]["ops"]}
    assert ops["echo"]["inline"] is True and ops["echo_worker"]["inline"] is False
    assert ops["gemm"]["inline"] is False and ops["pixelize"]["inline"] is False
    c.close()


def test_inline_job_keeps_dedup_and_cancel(server):
    c = Client(server.bind)
    job = jid("inline")
    msg = {"type": "submit", "id": job, "op": "echo", "params": {"k": 1}, "inputs": {"data": b"\x01" * 1024}}
    first = c.request(msg)
    assert first["ok"] and first["result"]["inputs"]["data"] == b"\x01" * 1024 and "dedup" not in first["meta"]
    assert first["meta"]["batch_size"] == 1 and first["meta"]["queued_ms"] == 0
    again = c.request(msg)
    assert again["meta"]["dedup"] == "cached" and again["result"] == first["result"]
    other = c.request({**msg, "inputs": {"data": b"\x02" * 1024}})
    assert other["error"]["code"] == "BAD_REQUEST" and "different request" in other["error"]["message"]
    other = c.request({**msg, "params": {"k": 2}})
    assert other["error"]["code"] == "BAD_REQUEST"
    # An inline job ends before the server reads the next request: a cancel finds it finished.
    assert c.request({"type": "cancel", "id": job})["result"]["state"] == "finished"
    # The same op through the worker thread gives the same result.
    worker = c.request({**msg, "id": jid("worker"), "op": "echo_worker"})
    assert worker["ok"] and worker["result"] == first["result"]
    c.close()


def test_inline_job_deadline_and_errors(server):
    c = Client(server.bind)
    late = c.request({"type": "submit", "id": jid("late"), "op": "spin_inline", "params": {"ms": 60}, "timeout_ms": 10})
    assert late["error"]["code"] == "TIMEOUT" and late["error"]["retryable"] is True
    failed = c.request({"type": "submit", "id": jid("fail"), "op": "spin_inline", "params": {"fail": True}})
    assert failed["error"]["code"] == "INTERNAL" and "told to fail" in failed["error"]["message"]
    assert c.request({"type": "ping", "id": "alive"})["ok"]
    c.close()


def test_inline_job_outcomes_and_counts(server):
    """An unwatched inline job (answered without a Job) replies, caches and counts like any other."""
    c = Client(server.bind)
    before = c.request({"type": "status", "id": "s1"})["result"]["jobs"]
    bad = jid("bad")
    first = c.request({"type": "submit", "id": bad, "op": "spin_inline", "params": {"bad_params": True}})
    assert first["error"] == {"code": "BAD_REQUEST", "message": "spin_inline was given bad params", "retryable": False}
    again = c.request({"type": "submit", "id": bad, "op": "spin_inline", "params": {"bad_params": True}})
    assert again["meta"]["dedup"] == "cached" and again["error"] == first["error"]  # not retryable: cached
    odd = c.request({"type": "submit", "id": jid("odd"), "op": "spin_inline", "params": {"unpackable": True}})
    assert odd["error"]["code"] == "INTERNAL" and "MessagePack cannot encode" in odd["error"]["message"]
    late = jid("late")
    msg = {"type": "submit", "id": late, "op": "spin_inline", "params": {"ms": 30}, "timeout_ms": 5}
    assert c.request(msg)["error"]["code"] == "TIMEOUT"
    retried = c.request({**msg, "timeout_ms": 1000})  # TIMEOUT is retryable: not cached, the retry runs
    assert retried["ok"] and retried["result"] == {"spun_ms": 30} and "dedup" not in retried["meta"]
    after = c.request({"type": "status", "id": "s2"})["result"]["jobs"]
    counted = {k: after[k] - before.get(k, 0) for k in after if after[k] != before.get(k, 0)}
    assert counted == {"BAD_REQUEST": 1, "INTERNAL": 1, "TIMEOUT": 1, "ok": 1}, counted
    c.close()


def test_a_long_run_of_requests_gets_every_reply_in_order(server):
    """Requests read in one run are answered together after it (replies held back, at most a run's
    worth): pipelined from one DEALER, several runs' worth, with bad requests in between, each inline
    job gets its one reply, in the order sent."""
    c = Client(server.bind)
    sent = []
    for i in range(300):
        if i % 50 == 7:
            c.send_raw(b"", b"not msgpack \xc1")
            sent.append(None)
        job = jid(f"run{i}")
        c.send({"v": 1, "type": "submit", "id": job, "op": "echo", "params": {"i": i}})
        sent.append((job, i))
    for expected in sent:
        reply = c.recv()
        if expected is None:
            assert reply["ok"] is False and reply["error"]["code"] == "BAD_REQUEST", reply
        else:
            assert reply["id"] == expected[0] and reply["result"]["params"] == {"i": expected[1]}, reply
    assert c.recv(timeout=0.2) is None  # one reply each, no more
    c.close()


def test_inline_job_waits_for_nothing_queued_before_it(server):
    """An inline job is answered while a worker job runs (it never waits in the queue)."""
    c = Client(server.bind)
    long_job = jid("long")
    c.send({"v": 1, "type": "submit", "id": long_job, "op": "gemm", "params": SLOW})
    time.sleep(0.2)
    t0 = time.monotonic()
    assert c.request({"type": "submit", "id": jid("quick"), "op": "echo"}, timeout=5)["ok"]
    assert time.monotonic() - t0 < 1.0
    assert c.request({"type": "cancel", "id": long_job})["result"]["state"] == "stopping"
    c.close()


def test_events_go_to_subscribers_and_seq_counts_unsent_ones(server):
    c = Client(server.bind)
    watched, sub = jid("watched"), Progress(server.pub, topic="watched-")
    time.sleep(0.3)
    for op in ("echo", "echo_worker"):
        job = f"{watched}-{op}"
        assert c.request({"type": "submit", "id": job, "op": op, "inputs": {"data": b"x"}})["ok"]
        sub.drain(0.3)
        events = sub.events[job]
        assert [e["stage"] for e in events] == ["queued", "running", "done"], events
        assert [e["seq"] for e in events] == [0, 1, 2]
    # A job nobody watched at first: events from the subscription on, numbered as if all had been sent.
    late = jid("late")
    c.send({"v": 1, "type": "submit", "id": late, "op": "gemm", "params": SLOW})
    time.sleep(0.4)
    sub2 = Progress(server.pub, topic=late)
    time.sleep(0.4)
    c.request({"type": "cancel", "id": late})
    sub2.drain(0.3)
    events = sub2.events[late]
    assert events and events[0]["seq"] > 0 and events[-1]["stage"] == "cancelled", events
    assert [e["seq"] for e in events] == list(range(events[0]["seq"], events[0]["seq"] + len(events)))
    sub.close()
    sub2.close()


def test_two_subscribers_to_one_topic_and_unsubscribe(server):
    """The server tracks topics, not subscribers: one leaving does not silence the other."""
    c = Client(server.bind)
    a, b = Progress(server.pub, topic="shared-"), Progress(server.pub, topic="shared-")
    time.sleep(0.3)
    a.close()
    time.sleep(0.2)
    job = jid("shared")
    assert c.request({"type": "submit", "id": job, "op": "echo"})["ok"]
    b.drain(0.3)
    assert [e["stage"] for e in b.events.get(job, [])] == ["queued", "running", "done"]
    # Unsubscribed: nothing more arrives (and subscribing again brings the events back).
    b.sock.setsockopt(zmq.UNSUBSCRIBE, b"shared-")
    time.sleep(0.2)
    quiet = jid("shared")
    assert c.request({"type": "submit", "id": quiet, "op": "echo"})["ok"]
    b.drain(0.3)
    assert quiet not in b.events
    b.sock.setsockopt(zmq.SUBSCRIBE, b"")
    time.sleep(0.2)
    loud = jid("any")
    assert c.request({"type": "submit", "id": loud, "op": "echo_worker"})["ok"]
    b.drain(0.3)
    assert [e["stage"] for e in b.events.get(loud, [])] == ["queued", "running", "done"]
    b.close()
    c.close()


def test_fingerprint_is_hashed_only_when_compared():
    inputs = {"b": [b"2", b"3"], "a": b"1"}
    fp = Fingerprint(b"head", inputs)
    assert fp.held_bytes() == 3
    same = Fingerprint(b"head", {"a": [b"1"], "b": [b"2", b"3"]})  # a bin and a one-item list are the same input
    assert fp == same and fp.held_bytes() == 0, "compared: hashed, the inputs let go"
    assert fp != Fingerprint(b"head", {"a": b"1", "b": [b"2", b"4"]})
    assert fp != Fingerprint(b"other", {"a": b"1", "b": [b"2", b"3"]})


def test_cache_counts_the_inputs_a_fingerprint_holds():
    cache = ResultCache(max_entries=10, max_bytes=3000)
    cache.put("a", Fingerprint(b"h", {"x": b"\0" * 1200}), {"ok": True}, 500)
    assert cache.get("a")[2] == 1700, "the reply's 500 bytes and the 1200 input bytes the fingerprint holds"
    cache.put("b", Fingerprint(b"h", {"x": b"\0" * 1200}), {"ok": True}, 500)
    assert cache.get("a") is None and cache.get("b") is not None, "1700 + 1700 bytes do not fit in 3000"


def test_an_op_cannot_be_inline_and_batchable():
    with pytest.raises(ValueError, match="inline"):
        register_op(jid("bad"), lambda ctx: {}, inline=True, batch_key=lambda p: 1, batch_handler=lambda ctxs: [])
