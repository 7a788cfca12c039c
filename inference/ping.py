"""Health check: `python -m inference.ping [endpoint] [--timeout SECONDS]`.

Sends one protocol v1 `ping` (docs/protocol.md) over a DEALER socket and exits 0 if the server answers
`ok`, 1 otherwise. Used by docker-compose.yml's health checks and handy for operators.
"""
import argparse
import sys
import uuid

import msgpack
import zmq


def ping(endpoint: str, timeout: float) -> dict:
    ctx = zmq.Context.instance()
    sock = ctx.socket(zmq.DEALER)
    sock.setsockopt(zmq.LINGER, 0)
    try:
        sock.connect(endpoint)
        req_id = f"ping-{uuid.uuid4().hex[:8]}"
        sock.send(msgpack.packb({"v": 1, "type": "ping", "id": req_id}))
        if not sock.poll(int(timeout * 1000)):
            raise TimeoutError(f"no answer from {endpoint} within {timeout} s")
        reply = msgpack.unpackb(sock.recv_multipart()[-1], raw=False)
        if not reply.get("ok"):
            raise RuntimeError(f"server answered an error: {reply.get('error')}")
        return reply.get("result", {})
    finally:
        sock.close()


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m inference.ping", description=__doc__.split("\n")[0])
    p.add_argument("endpoint", nargs="?", default="tcp://127.0.0.1:5555")
    p.add_argument("--timeout", type=float, default=3.0)
    args = p.parse_args(argv)
    try:
        result = ping(args.endpoint, args.timeout)
    except Exception as exc:  # a health check reports, it does not crash
        print(f"ping {args.endpoint}: {exc}", file=sys.stderr)
        return 1
    print(f"ping {args.endpoint}: ok ({result.get('server_id')}, pid {result.get('pid')})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
