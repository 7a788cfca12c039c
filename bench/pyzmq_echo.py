"""The inference benchmark's plain-pyzmq client (bench/inference.ts runs it): the same measures as the
TypeScript client, from a client written from docs/protocol.md alone, against the same raw floors.

    python bench/pyzmq_echo.py <server endpoint> <raw REP endpoint> <raw ROUTER endpoint> <round trips> <requests>
        [<warm-up round trips> <warm-up requests> <op>…]      (defaults: 200 500 echo)

Prints one JSON line: {"raw": {rawP50, rawP99, rawRate}, "ops": {op: {p50, p95, p99, rate}}, samples,
requests}: round-trip latencies (ms) of one 1 KiB job of each op through the server and of raw
REQ/REP, and requests/s with 16 in flight through the server and through raw DEALER/ROUTER. Every
side gets the same warm-up and the same number of requests. No progress subscription: a client
that does not watch progress.
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
    warm = int(sys.argv[6]) if len(sys.argv) > 6 else 200
    warm_in_flight = int(sys.argv[7]) if len(sys.argv) > 7 else 500
    ops = sys.argv[8:] or ["echo"]
    ctx = zmq.Context()
    seq = 0

    def job(op: str):
        def make() -> bytes:
            nonlocal seq
            seq += 1
            return msgpack.packb({"v": 1, "type": "submit", "id": f"py-{seq}", "op": op, "inputs": {"data": PAYLOAD}})
        return make

    dealer = ctx.socket(zmq.DEALER)
    dealer.setsockopt(zmq.LINGER, 0)
    dealer.connect(server)
    req = ctx.socket(zmq.REQ)
    req.setsockopt(zmq.LINGER, 0)
    req.connect(rep)

    def timed(send, recv, n):
        for _ in range(min(warm, n)):  # warm-up
            send(); recv()
        out = []
        for _ in range(n):
            t0 = time.perf_counter()
            send(); recv()
            out.append((time.perf_counter() - t0) * 1000)
        return out

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

    raw = timed(lambda: req.send(PAYLOAD), req.recv, trips)
    through = {op: timed(lambda make=job(op): dealer.send(make()), dealer.recv, trips) for op in ops}

    raw_dealer = ctx.socket(zmq.DEALER)
    raw_dealer.setsockopt(zmq.LINGER, 0)
    raw_dealer.connect(router)
    rate(raw_dealer, lambda: [PAYLOAD], warm_in_flight)
    raw_rate = rate(raw_dealer, lambda: [PAYLOAD], total)
    rates = {}
    for op in ops:
        make = job(op)
        rate(dealer, lambda: [make()], warm_in_flight)
        rates[op] = rate(dealer, lambda: [make()], total)
    print(json.dumps({
        "raw": {"rawP50": percentile(raw, 50), "rawP99": percentile(raw, 99), "rawRate": raw_rate},
        "ops": {op: {"p50": percentile(through[op], 50), "p95": percentile(through[op], 95),
                     "p99": percentile(through[op], 99), "rate": rates[op]} for op in ops},
        "samples": trips, "requests": total}))
    ctx.destroy(linger=0)
    return 0


if __name__ == "__main__":
    sys.exit(main())
