"""Protocol v1 (docs/protocol.md): message shapes, error codes and request validation.

Pure: no sockets here, so the fuzz tests and the server share one definition of "well formed".
"""
from __future__ import annotations

import msgpack

VERSION = 1
SERVER_VERSION = "1.0.0"

BAD_REQUEST = "BAD_REQUEST"
UNKNOWN_OP = "UNKNOWN_OP"
TOO_LARGE = "TOO_LARGE"
BUSY = "BUSY"
CANCELLED = "CANCELLED"
TIMEOUT = "TIMEOUT"
INTERNAL = "INTERNAL"
ERROR_CODES = (BAD_REQUEST, UNKNOWN_OP, TOO_LARGE, BUSY, CANCELLED, TIMEOUT, INTERNAL)
# What a client may retry with the same id (the server keeps no failed result for these).
RETRYABLE = frozenset({BUSY, TIMEOUT, INTERNAL})

REQUEST_TYPES = ("ping", "status", "ops", "submit", "cancel")
MAX_ID_LEN = 200


class ProtocolError(Exception):
    """A request that gets an error reply; `req_id`/`req_type` are echoed when they could be read."""

    def __init__(self, code: str, message: str, req_id=None, req_type=None):
        super().__init__(message)
        self.code, self.message, self.req_id, self.req_type = code, message, req_id, req_type


def pack(obj) -> bytes:
    return msgpack.packb(obj, use_bin_type=True)


def unpack(raw: bytes):
    # raw=False: strings are UTF-8 str, bin stays bytes. strict_map_key: keys must be str/bytes.
    return msgpack.unpackb(raw, raw=False, strict_map_key=True)


def reply_ok(req_type: str, req_id, result: dict, meta: dict | None = None) -> bytes:
    msg = {"v": VERSION, "type": req_type, "id": req_id, "ok": True, "result": result}
    if meta:
        msg["meta"] = meta
    return pack(msg)


def reply_error(req_type, req_id, code: str, message: str, meta: dict | None = None) -> bytes:
    msg = {"v": VERSION, "type": req_type, "id": req_id, "ok": False,
           "error": {"code": code, "message": message, "retryable": code in RETRYABLE}}
    if meta:
        msg["meta"] = meta
    return pack(msg)


def _readable_id(msg: dict):
    value = msg.get("id")
    return value if isinstance(value, str) and 0 < len(value) <= MAX_ID_LEN else None


def parse_request(raw: bytes) -> dict:
    """Decode and validate one request payload; raises ProtocolError with the code to answer."""
    try:
        msg = unpack(raw)
    except Exception as exc:  # msgpack raises several types (ExtraData, ValueError, UnicodeDecodeError…)
        # A cut-off frame may still hold a readable id and type at its top: echo them.
        req_id, req_type = peek_id_type(raw)
        raise ProtocolError(BAD_REQUEST, f"payload is not MessagePack: {type(exc).__name__}", req_id, req_type) from None
    if type(msg) is not dict:
        raise ProtocolError(BAD_REQUEST, f"payload must be a map, got {type(msg).__name__}")
    req_id = _readable_id(msg)
    req_type = msg.get("type")
    if type(req_type) is not str:
        req_type = None
    if msg.get("v") != VERSION:
        raise ProtocolError(BAD_REQUEST, f"unsupported protocol version {msg.get('v')!r} (server speaks v{VERSION})",
                            req_id, req_type)
    if req_type not in REQUEST_TYPES:
        raise ProtocolError(BAD_REQUEST, f"unknown message type {msg.get('type')!r}; expected one of "
                            + ", ".join(REQUEST_TYPES), req_id, req_type)
    if "id" in msg and msg["id"] is not None and req_id is None:
        raise ProtocolError(BAD_REQUEST, f"id must be a string of 1-{MAX_ID_LEN} characters", None, req_type)
    if req_type in ("submit", "cancel") and req_id is None:
        raise ProtocolError(BAD_REQUEST, f"{req_type} needs an id (a string chosen by the client)", None, req_type)
    if req_type == "submit":
        _check_submit(msg, req_id)
    return msg


def _check_submit(msg: dict, req_id: str) -> None:
    def bad(text):
        return ProtocolError(BAD_REQUEST, text, req_id, "submit")

    if not isinstance(msg.get("op"), str) or not msg["op"]:
        raise bad("submit needs op (a string)")
    if msg.get("model") is not None and not isinstance(msg["model"], str):
        raise bad("model must be a string")
    params = msg.setdefault("params", {})
    if params is None:
        params = msg["params"] = {}
    if not isinstance(params, dict):
        raise bad("params must be a map")
    inputs = msg.setdefault("inputs", {})
    if inputs is None:
        inputs = msg["inputs"] = {}
    if not isinstance(inputs, dict):
        raise bad("inputs must be a map of name -> bin or list of bin")
    for name, value in inputs.items():
        if type(value) is bytes:
            continue
        if not isinstance(value, list) or not all(isinstance(item, bytes) for item in value):
            raise bad(f"inputs.{name} must be bin or a list of bin (MessagePack bin type, not str)")
    timeout = msg.get("timeout_ms")
    if timeout is not None and (isinstance(timeout, bool) or not isinstance(timeout, int) or timeout <= 0):
        raise bad("timeout_ms must be a positive integer")
    if "progress" in msg and not isinstance(msg["progress"], bool):
        raise bad("progress must be a boolean")


def progress_event(job_id: str, seq: int, stage: str, done=None, total=None, extra: dict | None = None) -> list[bytes]:
    """The two frames of a PUB progress event: [topic = job id bytes, payload]."""
    event = {"v": VERSION, "id": job_id, "seq": seq, "stage": stage, "done": done, "total": total}
    if extra:
        event.update(extra)
    return [job_id.encode("utf-8"), pack(event)]


def peek_id_type(raw: bytes):
    """Reads `id` and `type` from a payload without decoding the rest (for TOO_LARGE replies).

    Walks the top-level map key by key and skips the values it does not need, so a huge bin input
    costs no copy. Returns (id, type); either is None when it cannot be read.
    """
    found = {"id": None, "type": None}
    try:
        unpacker = msgpack.Unpacker(raw=False, max_buffer_size=len(raw) + 1)
        unpacker.feed(raw)
        for _ in range(min(unpacker.read_map_header(), 64)):
            key = unpacker.unpack()
            if key in found:
                found[key] = unpacker.unpack()
                if all(v is not None for v in found.values()):
                    break
            else:
                unpacker.skip()
    except Exception:
        pass
    req_id = found["id"] if isinstance(found["id"], str) and 0 < len(found["id"]) <= MAX_ID_LEN else None
    req_type = found["type"] if found["type"] in REQUEST_TYPES else None
    return req_id, req_type
