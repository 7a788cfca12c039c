"""10,000 random, truncated, ill-typed, multi-frame and oversized frames: no crash, an error reply to
every frame that is due one, and `ping` still answered afterwards (protocol §1.1, §4, §6)."""
from __future__ import annotations

import random

from .wire import Client, pack

MAX_FRAME = 4096
VALID = [
    {"v": 1, "type": "ping", "id": "p"},
    {"v": 1, "type": "status", "id": "s"},
    {"v": 1, "type": "submit", "id": "job-x", "op": "gemm", "params": {"size": 4, "iterations": 1}},
    {"v": 1, "type": "cancel", "id": "job-y"},
]
JUNK_VALUES = [None, True, -1, 2**63 - 1, 1.5, "", "x" * 300, b"\0", [], {}, [1, [2, [3]]],
               {"nested": {"deep": [None]}}]


def frames(rng: random.Random, n: int):
    """Yields (frames, kind) where kind says which reply is due."""
    for i in range(n):
        pick = i % 10
        if pick == 0:
            yield [rng.randbytes(rng.randint(1, 64))], "reply"
        elif pick == 1:
            raw = pack(rng.choice(VALID))
            yield [raw[: rng.randint(1, len(raw) - 1)]], "error"  # truncated: never valid
        elif pick == 2:
            msg = dict(rng.choice(VALID))
            msg[rng.choice(["v", "type", "id", "op", "params", "inputs", "timeout_ms"])] = rng.choice(JUNK_VALUES)
            if msg.get("type") == "submit" and msg.get("op") == "gemm":
                msg["op"] = "fuzz-unknown"  # keep every fuzz frame cheap: no real job runs
            yield [pack(msg)], "reply"
        elif pick == 3:
            yield [pack(rng.choice(JUNK_VALUES + [[1, 2], "ping"]))], "error"
        elif pick == 4:
            yield [b"\x81\xa1v\x01" + rng.randbytes(rng.randint(0, 32))], "reply"
        elif pick == 5:
            yield [pack({"v": 1, "type": "ping", "id": f"big-{i}", "pad": rng.randbytes(MAX_FRAME + rng.randint(1, 9000))})], "TOO_LARGE"
        elif pick == 6:
            yield [pack({"v": 1, "type": "ping", "id": "a"}), rng.randbytes(rng.randint(1, 16))], "error"  # two payloads
        elif pick == 7:
            yield [b"", rng.randbytes(rng.randint(1, 32))], "reply"  # delimiter + junk
        elif pick == 8:
            yield [pack({"v": 1, "type": "submit", "id": f"f{i}", "op": "fuzz-unknown", "inputs": {"x": rng.choice(JUNK_VALUES)}})], "reply"
        else:
            yield [pack({"v": rng.choice([0, 1, 2, "1"]), "type": rng.choice(["ping", "PING", "status", 3]),
                         "id": rng.choice(["i", "", None, 5, "z" * 201])})], "reply"


def test_ten_thousand_bad_frames(start_server):
    server = start_server("--cpu", "--port", "0", "--max-frame-bytes", str(MAX_FRAME))
    c = Client(server.bind)
    rng = random.Random(1234)
    sent = replies = errors = too_large = 0
    chunk: list = []

    def collect():
        nonlocal replies, errors, too_large
        for kind in chunk:
            reply = c.recv(10)
            assert reply is not None, "a frame due a reply got none"
            replies += 1
            if reply.get("ok") is False:
                errors += 1
                assert reply["error"]["code"] in {"BAD_REQUEST", "UNKNOWN_OP", "TOO_LARGE"}, reply
                too_large += reply["error"]["code"] == "TOO_LARGE"
            else:
                assert kind == "reply", (kind, reply)
        chunk.clear()

    for parts, kind in frames(rng, 10_000):
        c.send_raw(*parts)
        sent += 1
        chunk.append(kind)
        if len(chunk) == 250:
            collect()
    collect()
    assert replies == sent == 10_000
    assert too_large == 1000 and errors > 8000
    assert c.recv(0.3) is None, "no frame got two replies"
    assert c.request({"type": "ping", "id": "after-fuzz"})["ok"]
    assert server.alive()
    c.close()
