"""The inference benchmark's plain-pyzmq client (bench/inference.ts runs it): the same two measures as
the TypeScript client, from a client written from docs/protocol.md alone, against the same raw floors.

    python bench/pyzmq_echo.py <server endpoint> <raw REP endpoint> <raw ROUTER endpoint> <round trips> <requests>

Prints one JSON line: round-trip latencies (ms) through the server (an `echo` job, 1 KiB) and through
raw REQ/REP, and requests/s with 16 in flight through the server and through raw DEALER/ROUTER.
No progress subscription: a client that does not watch progress.
"""
from __future__ import annotations

import json
import sys
import time

import msgpack
import zmq

IN_FLIGHT = 16
PAYLOAD = b"\x07" * 1024


def percentile(values: list[float], p: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, max(0, -(-len(s) * p // 100) - 1))] if s else float("nan")


def main() -> int:
    server, rep, router, trips, total = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
    ctx = zmq.Context()
    seq = 0

    def job() -> bytes:
        nonlocal seq
        seq += 1
        return msgpack.packb({"v": 1, "type": "submit", "id": f"py-{seq}", "op": "echo", "inputs": {"data": PAYLOAD}})

    dealer = ctx.socket(zmq.DEALER)
    dealer.setsockopt(zmq.LINGER, 0)
    dealer.connect(server)
    req = ctx.socket(zmq.REQ)
    req.setsockopt(zmq.LINGER, 0)
    req.connect(rep)

    def timed(send, recv, n):
        for _ in range(min(200, n)):  # warm-up
            send(); recv()
        out = []
        for _ in range(n):
            t0 = time.perf_counter()
            send(); recv()
            out.append((time.perf_counter() - t0) * 1000)
        return out

    raw = timed(lambda: req.send(PAYLOAD), req.recv, trips)
    through = timed(lambda: dealer.send(job()), dealer.recv, trips)

    def rate(sock, make, n):
        sent = got = 0
        t0 = time.perf_counter()
        while sent < min(IN_FLIGHT, n):
            sock.send_multipart(make()); sent += 1
        while got < n:
            sock.recv_multipart(); got += 1
            if sent < n:
                sock.send_multipart(make()); sent += 1
        return n / (time.perf_counter() - t0)

    raw_dealer = ctx.socket(zmq.DEALER)
    raw_dealer.setsockopt(zmq.LINGER, 0)
    raw_dealer.connect(router)
    rate(raw_dealer, lambda: [PAYLOAD], 500)
    raw_rate = rate(raw_dealer, lambda: [PAYLOAD], total)
    rate(dealer, lambda: [job()], 300)
    server_rate = rate(dealer, lambda: [job()], total)
    print(json.dumps({
        "p50": percentile(through, 50), "p95": percentile(through, 95), "p99": percentile(through, 99),
        "rawP50": percentile(raw, 50), "rawP99": percentile(raw, 99), "rate": server_rate, "rawRate": raw_rate,
        "samples": trips, "requests": total}))
    ctx.destroy(linger=0)
    return 0


if __name__ == "__main__":
    sys.exit(main())
