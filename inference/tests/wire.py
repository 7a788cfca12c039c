"""A plain pyzmq + msgpack client written from docs/protocol.md alone (no import of the server's code)."""
from __future__ import annotations

import time

import msgpack
import zmq


def pack(obj) -> bytes:
    return msgpack.packb(obj, use_bin_type=True)


def unpack(raw: bytes):
    return msgpack.unpackb(raw, raw=False)


class Client:
    """One DEALER; requests are single frames, replies are matched by (type, id) (protocol §1.1, §3)."""

    def __init__(self, endpoint: str, ctx: zmq.Context | None = None, curve: dict | None = None):
        self.ctx = ctx or zmq.Context.instance()
        self.sock = self.ctx.socket(zmq.DEALER)
        self.sock.setsockopt(zmq.LINGER, 0)
        if curve:
            self.sock.curve_serverkey = curve["server_public"]
            self.sock.curve_publickey = curve["public"]
            self.sock.curve_secretkey = curve["secret"]
        self.sock.connect(endpoint)
        self.pending: dict = {}

    def send(self, msg: dict) -> None:
        self.sock.send(pack(msg))

    def send_raw(self, *frames: bytes) -> None:
        self.sock.send_multipart(list(frames))

    def recv(self, timeout: float = 10.0):
        if not self.sock.poll(int(timeout * 1000)):
            return None
        return unpack(self.sock.recv_multipart()[-1])  # the payload is the last frame

    def wait_for(self, req_type: str, req_id, timeout: float = 30.0):
        key = (req_type, req_id)
        deadline = time.monotonic() + timeout
        while key not in self.pending:
            left = deadline - time.monotonic()
            reply = self.recv(left) if left > 0 else None
            if reply is None:
                raise TimeoutError(f"no {req_type} reply for {req_id!r} in {timeout}s")
            self.pending[(reply.get("type"), reply.get("id"))] = reply
        return self.pending.pop(key)

    def request(self, msg: dict, timeout: float = 30.0):
        msg = {"v": 1, **msg}
        self.send(msg)
        return self.wait_for(msg["type"], msg.get("id"), timeout)

    def close(self) -> None:
        self.sock.close(0)


class Progress:
    """A SUB socket on the PUB endpoint; collects events per job id (protocol §1.2, §5)."""

    def __init__(self, endpoint: str, topic: str = "", ctx: zmq.Context | None = None):
        self.sock = (ctx or zmq.Context.instance()).socket(zmq.SUB)
        self.sock.setsockopt(zmq.LINGER, 0)
        self.sock.setsockopt(zmq.SUBSCRIBE, topic.encode())
        self.sock.connect(endpoint)
        self.events: dict[str, list] = {}

    def drain(self, timeout: float = 0.2) -> None:
        while self.sock.poll(int(timeout * 1000)):
            topic, payload = self.sock.recv_multipart()
            event = unpack(payload)
            assert topic.decode() == event["id"]
            self.events.setdefault(event["id"], []).append(event)
            timeout = 0.05

    def close(self) -> None:
        self.sock.close(0)
