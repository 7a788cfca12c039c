"""Conformance: drive a real server with the plain client in wire.py, checking docs/protocol.md point by point."""
from __future__ import annotations

import io
import threading
import time
import uuid
import urllib.request

import zmq
from PIL import Image

from .wire import Client, Progress, pack, unpack

CODES = {"BAD_REQUEST", "UNKNOWN_OP", "TOO_LARGE", "BUSY", "CANCELLED", "TIMEOUT", "INTERNAL"}
SLOW = {"size": 384, "iterations": 100000}  # runs for minutes on a CPU unless cancelled or timed out


def jid(prefix="job") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def png(width=40, height=20, split=(255, 0, 0, 255), rest=(0, 0, 255, 255), transparent_row=False) -> bytes:
    img = Image.new("RGBA", (width, height), rest)
    for x in range(width // 2):
        for y in range(height):
            img.putpixel((x, y), split)
    if transparent_row:  # the top 4 rows: one whole grid row once downscaled 4x
        for x in range(width):
            for y in range(4):
                img.putpixel((x, y), (0, 0, 0, 0))
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


def test_ping_status_ops(shared_server):
    c = Client(shared_server.bind)
    pong = c.request({"type": "ping", "id": "p-1"})
    assert pong["ok"] is True and pong["v"] == 1 and pong["result"]["server_id"] == "conformance"
    status = c.request({"type": "status", "id": "s-1"})["result"]
    assert status["protocol"] == 1 and status["server_id"] == "conformance"
    assert status["devices"][0]["kind"] == "cpu" and status["devices"][0]["memory"]["total"] > 0
    assert {"gemm", "pixelize"} <= set(status["ops"])
    assert status["queue"]["max"] == 64 and status["in_flight"] == 0 and status["limits"]["max_frame_bytes"] > 0
    ops = {op["name"]: op for op in c.request({"type": "ops", "id": "o-1"})["result"]["ops"]}
    assert ops["pixelize"]["batchable"] is True and "size" in ops["gemm"]["params"]
    # Without an id, the reply's id is nil.
    c.send({"v": 1, "type": "ping"})
    assert c.wait_for("ping", None)["ok"] is True
    c.close()


def test_gemm_and_progress_sequence(shared_server):
    c, sub = Client(shared_server.bind), Progress(shared_server.pub)
    time.sleep(0.3)  # a SUB connection takes a moment; events before it are lost (that is what seq shows)
    job = jid("gemm")
    reply = c.request({"type": "submit", "id": job, "op": "gemm", "params": {"size": 128, "iterations": 50}})
    assert reply["ok"] is True, reply
    assert reply["result"]["tflops"] > 0 and reply["result"]["device"].startswith("cpu")
    assert reply["meta"]["server_id"] == "conformance"
    sub.drain(0.5)
    events = sub.events[job]
    assert [e["seq"] for e in events] == list(range(len(events))), "seq grows by exactly one per event"
    assert events[0]["stage"] == "queued" and events[-1]["stage"] == "done"
    c.close()
    sub.close()


def test_many_requests_in_flight_on_one_dealer(shared_server):
    c = Client(shared_server.bind)
    ids = [jid("many") for _ in range(12)]
    for i, job in enumerate(ids):
        c.send({"v": 1, "type": "submit", "id": job, "op": "gemm", "params": {"size": 32 + i, "iterations": 2}})
    c.send({"v": 1, "type": "ping", "id": "between"})
    assert c.wait_for("ping", "between")["ok"]
    for i, job in enumerate(ids):
        assert c.wait_for("submit", job)["result"]["size"] == 32 + i
    c.close()


def test_pixelize_output(shared_server):
    c = Client(shared_server.bind)
    reply = c.request({"type": "submit", "id": jid("px"), "op": "pixelize",
                       "params": {"width": 10, "colors": 4, "scale": 3},
                       "inputs": {"images": [png(transparent_row=True), png(split=(0, 255, 0, 255))]}})
    assert reply["ok"], reply
    result = reply["result"]
    assert result["count"] == 2 and len(result["images"]) == 2 and 1 <= len(result["palette"]) <= 4
    img = Image.open(io.BytesIO(result["images"][0])).convert("RGBA")
    assert img.size == (30, 15)  # 10 x 5 grid (aspect kept), upscaled 3x
    colours = {tuple(px[:3]) for px in __import__('numpy').asarray(img).reshape(-1, 4) if px[3] == 255}
    assert colours <= {tuple(p) for p in result["palette"]}
    assert img.getpixel((0, 0))[3] == 0, "transparent pixels stay transparent"
    c.close()


def test_dedup_joins_running_job_and_returns_cached_result(shared_server):
    a, b = Client(shared_server.bind), Client(shared_server.bind)
    job = jid("dedup")
    msg = {"v": 1, "type": "submit", "id": job, "op": "gemm", "params": {"size": 256, "iterations": 1500}}
    before = a.request({"type": "status", "id": "before"})["result"]["jobs"].get("ok", 0)
    a.send(msg)
    time.sleep(0.05)
    b.send(msg)  # a retry from another connection while it runs: joins, never runs twice
    ra, rb = a.wait_for("submit", job), b.wait_for("submit", job)
    assert ra["ok"] and rb["ok"] and ra["result"] == rb["result"]
    assert "dedup" not in ra["meta"] and rb["meta"]["dedup"] == "joined", "a joined reply says so"
    after = a.request({"type": "status", "id": "after"})["result"]["jobs"].get("ok", 0)
    assert after == before + 1, "the job ran once"
    rc = a.request(msg)
    assert rc["meta"]["dedup"] == "cached" and rc["result"] == ra["result"]
    other = a.request({**msg, "params": {"size": 8}})
    assert other["ok"] is False and other["error"]["code"] == "BAD_REQUEST" and "different request" in other["error"]["message"]
    a.close()
    b.close()


def test_cancel_running_and_queued(start_server):
    server = start_server("--cpu", "--port", "0")
    c, sub = Client(server.bind), Progress(server.pub)
    running, queued = jid("run"), jid("queued")
    c.send({"v": 1, "type": "submit", "id": running, "op": "gemm", "params": SLOW})
    c.send({"v": 1, "type": "submit", "id": queued, "op": "gemm", "params": {"size": 8}})
    time.sleep(0.5)
    assert c.request({"type": "cancel", "id": queued})["result"]["state"] == "removed"
    assert c.wait_for("submit", queued)["error"]["code"] == "CANCELLED"
    t0 = time.monotonic()
    assert c.request({"type": "cancel", "id": running})["result"]["state"] == "stopping"
    reply = c.wait_for("submit", running, timeout=5)
    assert reply["error"]["code"] == "CANCELLED" and reply["error"]["retryable"] is False
    # The op really stopped: the next job runs at once instead of waiting minutes behind it.
    after = c.request({"type": "submit", "id": jid("next"), "op": "gemm", "params": {"size": 16}}, timeout=10)
    assert after["ok"] and time.monotonic() - t0 < 10
    assert c.request({"type": "cancel", "id": running})["result"]["state"] == "finished"
    assert c.request({"type": "cancel", "id": "never-seen"})["result"]["state"] == "unknown"
    # A retried submit of a cancelled id gets CANCELLED from the cache, it does not run again.
    again = c.request({"type": "submit", "id": running, "op": "gemm", "params": SLOW}, timeout=5)
    assert again["error"]["code"] == "CANCELLED"
    sub.drain(0.3)
    c.close()
    sub.close()


def test_busy_when_queue_full_and_timeout(start_server):
    server = start_server("--cpu", "--port", "0", "--max-queue", "2")
    c = Client(server.bind)
    first = jid("busy-run")
    c.send({"v": 1, "type": "submit", "id": first, "op": "gemm", "params": SLOW, "timeout_ms": 1500})
    time.sleep(0.4)  # running now: the queue is empty again
    waiting = [jid("busy-q") for _ in range(2)]
    for job in waiting:
        c.send({"v": 1, "type": "submit", "id": job, "op": "gemm", "params": {"size": 8}})
    busy = c.request({"type": "submit", "id": jid("busy-x"), "op": "gemm", "params": {"size": 8}})
    assert busy["ok"] is False and busy["error"]["code"] == "BUSY" and busy["error"]["retryable"] is True
    timed_out = c.wait_for("submit", first, timeout=10)
    assert timed_out["error"]["code"] == "TIMEOUT" and timed_out["error"]["retryable"] is True
    for job in waiting:
        assert c.wait_for("submit", job, timeout=10)["ok"]
    c.close()


def test_too_large_unknown_op_and_malformed(start_server):
    server = start_server("--cpu", "--port", "0", "--max-frame-bytes", "65536")
    c = Client(server.bind)
    big = c.request({"type": "submit", "id": "big-1", "op": "pixelize", "inputs": {"images": [b"\0" * 70000]}})
    assert big["error"]["code"] == "TOO_LARGE" and big["id"] == "big-1"
    unknown = c.request({"type": "submit", "id": "u-1", "op": "no-such-op"})
    assert unknown["error"]["code"] == "UNKNOWN_OP" and "gemm" in unknown["error"]["message"]
    bad = [
        b"\xc1",                                   # never-used msgpack byte
        pack([1, 2, 3]),                           # not a map
        pack({"v": 2, "type": "ping", "id": "x"}),  # wrong version
        pack({"v": 1, "type": "launch", "id": "x"}),
        pack({"v": 1, "type": "submit", "op": "gemm"}),  # no id
        pack({"v": 1, "type": "submit", "id": "s", "op": "gemm", "inputs": {"a": "text, not bin"}}),
        pack({"v": 1, "type": "submit", "id": "s2", "op": "gemm", "params": {"size": "huge"}}),
        pack({"v": 1, "type": "cancel", "id": 7}),
    ]
    for frame in bad:
        c.send_raw(frame)
        reply = c.recv(5)
        assert reply is not None and reply["ok"] is False and reply["error"]["code"] == "BAD_REQUEST", (frame, reply)
    c.send_raw(pack({"v": 1, "type": "ping", "id": "a"}), pack({"v": 1, "type": "ping", "id": "b"}))
    assert c.recv(5)["error"]["code"] == "BAD_REQUEST"  # two payload frames
    # A REQ client (empty delimiter frame) is served too, on its own envelope.
    req = zmq.Context.instance().socket(zmq.REQ)
    req.setsockopt(zmq.LINGER, 0)
    req.connect(server.bind)
    req.send(pack({"v": 1, "type": "ping", "id": "req"}))
    assert req.poll(5000) and __import__("msgpack").unpackb(req.recv())["id"] == "req"
    req.close()
    assert c.request({"type": "ping", "id": "still"})["ok"]
    c.close()


def test_batching_runs_compatible_jobs_together(start_server):
    server = start_server("--cpu", "--port", "0", "--max-batch", "4")
    c = Client(server.bind)
    c.send({"v": 1, "type": "submit", "id": jid("blocker"), "op": "gemm", "params": {"size": 256, "iterations": 60}})
    ids = [jid("batch") for _ in range(3)]
    for job in ids:
        c.send({"v": 1, "type": "submit", "id": job, "op": "pixelize", "params": {"width": 8, "colors": 3},
                "inputs": {"images": png()}})
    replies = [c.wait_for("submit", job) for job in ids]
    assert all(r["ok"] for r in replies), replies
    assert max(r["meta"]["batch_size"] for r in replies) > 1
    single = c.request({"type": "submit", "id": jid("single"), "op": "pixelize", "params": {"width": 8, "colors": 3},
                        "inputs": {"images": png()}})
    assert single["result"]["palette"] == replies[0]["result"]["palette"], "a batch gives the same answer"
    c.close()


def test_plugin_op_module_and_metrics(start_server):
    server = start_server("--cpu", "--port", "0", "--ops-module", "inference.tests.plugin_ops", "--metrics-port", "0")
    c = Client(server.bind)
    reply = c.request({"type": "submit", "id": "upper-1", "op": "upper", "inputs": {"data": b"abc"}})
    assert reply["ok"] and reply["result"] == {"data": b"ABC", "params": {}}
    echo = c.request({"type": "submit", "id": "echo-1", "op": "echo", "params": {"k": [1]}, "inputs": {"data": b"\0" * 1024}})
    assert echo["result"]["inputs"]["data"] == b"\0" * 1024 and echo["result"]["params"] == {"k": [1]}
    text = urllib.request.urlopen(server.ready["metrics"], timeout=5).read().decode()
    assert 'sparky_inference_jobs_total{op="upper",outcome="ok"' in text
    assert "sparky_inference_queue_depth" in text and "sparky_inference_device_memory_bytes" in text
    c.close()


def test_server_answers_ping_while_a_job_runs(start_server):
    server = start_server("--cpu", "--port", "0")
    c = Client(server.bind)
    job = jid("long")
    c.send({"v": 1, "type": "submit", "id": job, "op": "gemm", "params": SLOW})
    time.sleep(0.3)
    times = []
    for i in range(20):
        t0 = time.perf_counter()
        assert c.request({"type": "ping", "id": f"p{i}"}, timeout=5)["ok"]
        times.append(time.perf_counter() - t0)
    assert sorted(times)[len(times) // 2] < 0.5
    assert c.request({"type": "status", "id": "st"})["result"]["in_flight"] == 1
    c.request({"type": "cancel", "id": job})
    c.close()


def test_threads_do_not_share_sockets_under_concurrent_clients(shared_server):
    errors = []

    def worker(n):
        try:
            cl = Client(shared_server.bind, ctx=zmq.Context())
            for i in range(20):
                r = cl.request({"type": "submit", "id": jid(f"t{n}"), "op": "gemm", "params": {"size": 16}})
                assert r["ok"]
            cl.close()
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors


def test_ops_advertises_only_what_this_server_accepts(shared_server):
    """A CPU (numpy) server lists the gemm dtypes it accepts, and refuses the others."""
    c, sub = Client(shared_server.bind), Progress(shared_server.pub)
    time.sleep(0.3)
    ops = {op["name"]: op for op in c.request({"type": "ops", "id": "o-dtypes"})["result"]["ops"]}
    dtype_text = ops["gemm"]["params"]["dtype"]
    assert "float32" in dtype_text and "float64" in dtype_text
    assert "float16" not in dtype_text and "bfloat16" not in dtype_text, dtype_text
    assert "1-100000" in ops["gemm"]["params"]["iterations"] and "1-32768" in ops["gemm"]["params"]["size"]
    # A job the op rejects was queued and started first: events queued, running, then failed (the
    # final event goes out before the reply); the error reply carries meta.
    job = jid("half")
    reply = c.request({"type": "submit", "id": job, "op": "gemm", "params": {"size": 8, "dtype": "float16"}})
    assert reply["ok"] is False and reply["error"]["code"] == "BAD_REQUEST" and "float16" in reply["error"]["message"]
    assert reply["meta"]["server_id"] == "conformance" and "queued_ms" in reply["meta"] and reply["meta"]["batch_size"] == 1
    sub.drain(0.5)
    assert [e["stage"] for e in sub.events[job]] == ["queued", "running", "failed"]
    c.close()
    sub.close()


def test_truncated_frame_echoes_a_readable_id_and_envelopes_are_echoed(shared_server):
    c = Client(shared_server.bind)
    whole = pack({"v": 1, "type": "submit", "id": "cut-1", "op": "gemm", "params": {"size": 64, "iterations": 3}})
    c.send_raw(whole[:-4])
    reply = c.recv(5)
    assert reply["ok"] is False and reply["error"]["code"] == "BAD_REQUEST"
    assert (reply["type"], reply["id"]) == ("submit", "cut-1"), reply
    c.send_raw(b"")
    reply = c.recv(5)
    assert reply["error"]["code"] == "BAD_REQUEST" and "empty payload frame" in reply["error"]["message"], reply
    # A DEALER that sends an empty delimiter first gets the same envelope back: ["", reply].
    c.send_raw(b"", pack({"v": 1, "type": "ping", "id": "delim"}))
    assert c.sock.poll(5000)
    frames = c.sock.recv_multipart()
    assert len(frames) == 2 and frames[0] == b"" and unpack(frames[1])["id"] == "delim", frames
    c.close()
