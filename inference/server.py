"""Sparky's inference server, protocol v1 (docs/protocol.md). One process per GPU.

    python -m inference.server --gpu 0 | --cpu  [--host 127.0.0.1] [--port 5555] [--pub-port 5556]
        [--bind tcp://…] [--pub tcp://…] [--id NAME] [--metrics-port N] [--ops-module mypkg.myops]
        [--max-batch N] [--batch-wait-ms MS] …

Threads and sockets: the main thread owns every ZeroMQ socket (ROUTER for requests, XPUB for progress,
an inproc PULL for wake-ups). One worker thread runs jobs; it hands progress and results back through
a queue and pokes the main thread through its own inproc PUSH socket. No socket is touched by two threads.
Inline ops (cheap, non-blocking, declared so in the op registry; `echo`) run on the main thread the
moment they are accepted: no queue, no hand-off. Progress events are built and sent only for jobs
that some subscriber asked for (the XPUB socket tells the server which topics are subscribed).
Prints one JSON line `{"event": "ready", …}` on stdout once it serves (endpoints with real ports).
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import queue
import signal
import socket
import sys
import threading
import time

from . import protocol as proto
from .jobs import Fingerprint, Job, JobQueue, ResultCache
from .ops.registry import JobContext, JobStopped, OpError, get_op, list_ops

log = logging.getLogger("sparky.inference")
# Requests read and answered in one run before the replies go out (and events and deadlines get a turn).
REPLY_BATCH = 16
_FINAL_STAGE = {"ok": "done", proto.CANCELLED: "cancelled", proto.TIMEOUT: "timeout"}  # else "failed"


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m inference.server", description=__doc__.split("\n")[0])
    where = p.add_mutually_exclusive_group()
    where.add_argument("--gpu", type=int, help="pin to this GPU (sets CUDA_VISIBLE_DEVICES before torch loads)")
    where.add_argument("--cpu", action="store_true", help="compute on the CPU even when a GPU is present")
    p.add_argument("--host", default="127.0.0.1", help="interface to bind (default 127.0.0.1: this machine only)")
    p.add_argument("--port", type=int, default=5555, help="request port (ROUTER); 0 = any free port")
    p.add_argument("--pub-port", type=int, help="progress port (PUB); default port+1, or any free port when port is 0")
    p.add_argument("--bind", help="full request endpoint, overrides --host/--port (e.g. tcp://127.0.0.1:5555)")
    p.add_argument("--pub", help="full progress endpoint, overrides --host/--pub-port")
    p.add_argument("--id", dest="server_id", help="server id reported in replies (default <hostname>-gpu<N>|cpu)")
    p.add_argument("--metrics-port", type=int, help="serve Prometheus metrics on this port (0 = any free port)")
    p.add_argument("--metrics-host", default="127.0.0.1")
    p.add_argument("--max-frame-bytes", type=int, default=64 << 20, help="larger requests get TOO_LARGE")
    p.add_argument("--max-queue", type=int, default=64, help="queued jobs beyond this get BUSY")
    p.add_argument("--job-timeout", type=float, default=300.0, help="seconds; a job's timeout_ms is capped by it")
    p.add_argument("--max-batch", type=int, default=_env_int("SPARKY_INFERENCE_MAX_BATCH"),
                   help="jobs per batch for batchable ops (pixelize, gemm); default 8 on a GPU, 1 on the CPU "
                   "(or SPARKY_INFERENCE_MAX_BATCH)")
    p.add_argument("--batch-wait-ms", type=float, default=_env_float("SPARKY_INFERENCE_BATCH_WAIT_MS", 5.0),
                   help="dynamic batching: how long a batchable job may wait for compatible jobs to join its "
                   "batch, from its arrival (default 5; only while other jobs are around; or SPARKY_INFERENCE_BATCH_WAIT_MS)")
    p.add_argument("--cache-entries", type=int, default=1024)
    p.add_argument("--cache-bytes", type=int, default=256 << 20)
    p.add_argument("--cache-ttl", type=float, default=600.0, help="seconds a finished result answers a retried id")
    p.add_argument("--ops-module", action="append", default=[], help="import this module to register more ops")
    p.add_argument("--curve-secret-file", help="ZeroMQ certificate file with the server's CURVE secret key "
                   "(or set SPARKY_INFERENCE_CURVE_SECRET to the Z85 secret key)")
    p.add_argument("--curve-clients-dir", help="only clients whose public certificates are in this directory "
                   "may connect (default with CURVE on: any client that knows the server's public key)")
    p.add_argument("--log-level", default=os.environ.get("SPARKY_INFERENCE_LOG_LEVEL", "WARNING"))
    args = p.parse_args(argv)
    if args.max_batch is not None and args.max_batch < 1:
        p.error(f"--max-batch must be at least 1, got {args.max_batch}")
    if args.batch_wait_ms < 0:
        p.error(f"--batch-wait-ms must be 0 or more, got {args.batch_wait_ms}")
    return args


def _env_int(name: str) -> int | None:
    value = os.environ.get(name, "").strip()
    if not value:
        return None
    try:
        return int(value)
    except ValueError:
        raise SystemExit(f"{name}={value!r}: expected an integer") from None


def _env_float(name: str, default: float) -> float:
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    try:
        return float(value)
    except ValueError:
        raise SystemExit(f"{name}={value!r}: expected a number") from None


def endpoint(explicit: str | None, host: str, port: int | None) -> str:
    if explicit:
        return explicit
    return f"tcp://{host}:{'*' if not port else port}"


class Server:
    def __init__(self, args, device):
        import zmq

        from .metrics import Metrics

        self.zmq, self.proto, self.args, self.device = zmq, proto, args, device
        self.get_op, self.list_ops = get_op, list_ops
        # Plain ints: pyzmq turns its enum flags back into enums on every call, which a small job notices.
        self.NOBLOCK, self.SNDMORE = int(zmq.NOBLOCK), int(zmq.SNDMORE)
        # The socket thread's own MessagePack packer (msgpack.packb builds one per call); only that
        # thread packs replies and fingerprints. It resets itself after a value it cannot encode.
        import msgpack
        self._pack = msgpack.Packer(use_bin_type=True).pack
        self.device_label = device.label
        self.server_id = args.server_id
        self.max_batch = args.max_batch or (8 if device.kind == "cuda" else 1)
        self.batch_wait = args.batch_wait_ms / 1000
        self.queue = JobQueue(args.max_queue)
        self.cache = ResultCache(args.cache_entries, args.cache_bytes, args.cache_ttl)
        self.jobs: dict = {}                      # id → Job not yet answered (queued or running)
        self.events: queue.SimpleQueue = queue.SimpleQueue()
        self.outcomes: dict[str, int] = {}
        self.started = time.time()
        self.stopping = threading.Event()
        self.metrics = Metrics(self.server_id, device, enabled=args.metrics_port is not None)

        self.ctx = zmq.Context()
        self.router = self.ctx.socket(zmq.ROUTER)
        # XPUB: a PUB to its subscribers, which also hands the server each topic's first subscription
        # and last unsubscription, so it skips events nobody would receive (see _watched).
        self.pub = self.ctx.socket(zmq.XPUB)
        self.topics: set[bytes] = set()
        self.topic_lengths: dict[int, int] = {}   # length → how many subscribed topics have it
        for sock in (self.router, self.pub):
            sock.setsockopt(zmq.LINGER, 0)
        # The soft limit answers TOO_LARGE; past 4x it ZeroMQ drops the connection before we read a byte.
        self.router.setsockopt(zmq.MAXMSGSIZE, args.max_frame_bytes * 4 + (1 << 20))
        self.router.setsockopt(zmq.RCVHWM, 10000)
        self.router.setsockopt(zmq.SNDHWM, 10000)
        self._setup_curve()
        self.router.bind(endpoint(args.bind, args.host, args.port))
        pub_port = args.pub_port if args.pub_port is not None else (args.port + 1 if args.port else 0)
        self.pub.bind(endpoint(args.pub, args.host, pub_port))
        self.bind_endpoint = self.router.getsockopt(zmq.LAST_ENDPOINT).decode()
        self.pub_endpoint = self.pub.getsockopt(zmq.LAST_ENDPOINT).decode()
        self.wake = self.ctx.socket(zmq.PULL)
        self.wake_addr = f"inproc://sparky-wake-{id(self)}"
        self.wake.bind(self.wake_addr)
        self._wake_pending = False
        self._outbox: list | None = None          # replies held back until a run of requests ends (_send)
        self.worker = threading.Thread(target=self._worker_main, name="sparky-worker", daemon=True)

    def _setup_curve(self) -> None:
        zmq, args = self.zmq, self.args
        secret = os.environ.get("SPARKY_INFERENCE_CURVE_SECRET", "").encode() or None
        public = None
        if args.curve_secret_file:
            import zmq.auth
            public, secret = zmq.auth.load_certificate(args.curve_secret_file)
            if secret is None:
                raise SystemExit(f"{args.curve_secret_file} holds no secret key")
        self.curve = secret is not None
        if not self.curve:
            return
        public = public or zmq.curve_public(secret)
        if args.curve_clients_dir:
            from zmq.auth.thread import ThreadAuthenticator  # runs its own ZAP socket in its own thread
            self.auth = ThreadAuthenticator(self.ctx)
            self.auth.start()
            self.auth.configure_curve(domain="*", location=args.curve_clients_dir)
        for sock in (self.router, self.pub):
            sock.curve_secretkey, sock.curve_publickey, sock.curve_server = secret, public, True
        self.curve_public = public.decode()

    # ---- the socket thread ---------------------------------------------------------------------
    def serve(self) -> None:
        zmq = self.zmq
        self.worker.start()
        metrics_url = None
        if self.args.metrics_port is not None:
            metrics_url = self.metrics.serve(self.args.metrics_host, self.args.metrics_port)
        ready = {"event": "ready", "server_id": self.server_id, "bind": self.bind_endpoint, "pub": self.pub_endpoint,
                 "metrics": metrics_url, "device": self.device.label, "curve": self.curve, "pid": os.getpid(),
                 "protocol": self.proto.VERSION}
        print(json.dumps(ready), flush=True)
        poller = zmq.Poller()
        poller.register(self.router, zmq.POLLIN)
        poller.register(self.wake, zmq.POLLIN)
        poller.register(self.pub, zmq.POLLIN)
        next_sweep = 0.0
        router, pub, wake, events = self.router, self.pub, self.wake, self.events
        NOBLOCK, EVENTS, RCVMORE, POLLIN = self.NOBLOCK, int(zmq.EVENTS), int(zmq.RCVMORE), int(zmq.POLLIN)
        while not self.stopping.is_set():
            ready_socks = [sock for sock, _ in poller.poll(50)]
            if pub in ready_socks:  # before requests: a client subscribes before it submits
                self._read_subscriptions()
            if wake in ready_socks:
                while wake.getsockopt(EVENTS) & POLLIN:
                    wake.recv(NOBLOCK)
                self._wake_pending = False  # before the drain: see _post
            if not events.empty():
                self._drain_events()
            if router in ready_socks:
                # Bounded, so events and deadlines are never starved. ZMQ_EVENTS says whether another
                # message waits (cheaper than a receive that raises Again). The replies to a run of
                # requests read in one go leave together after it (_send defers them): ZeroMQ's I/O
                # thread then wakes once for the run instead of once per reply.
                self._outbox = outbox = []
                try:
                    for _ in range(REPLY_BATCH):
                        try:
                            frames = [router.recv(NOBLOCK)]
                            while router.getsockopt(RCVMORE):
                                frames.append(router.recv(NOBLOCK))
                        except zmq.Again:
                            break
                        try:
                            self._on_frames(frames)
                        except Exception:  # the server keeps serving whatever one message does
                            log.exception("unexpected error handling a request")
                            self._send(frames[:1], self.proto.reply_error(None, None, self.proto.INTERNAL, "internal error"))
                        if not router.getsockopt(EVENTS) & POLLIN:
                            break
                finally:
                    self._outbox = None
                    for envelope, payload in outbox:
                        self._send(envelope, payload)
            now = time.monotonic()
            if now >= next_sweep:
                self._sweep_deadlines(now)
                self.metrics.gauges(len(self.queue), len(self.queue.running))
                next_sweep = now + 0.05
        self.queue.close()
        self.worker.join(timeout=2)
        if getattr(self, "auth", None):
            self.auth.stop()
        self.ctx.destroy(linger=0)

    def _read_subscriptions(self) -> None:
        zmq = self.zmq
        while True:
            try:
                msg = self.pub.recv(zmq.NOBLOCK)
            except zmq.Again:
                return
            if not msg or msg[0] not in (0, 1):
                continue  # not a (un)subscription
            topic, n = msg[1:], len(msg) - 1
            if msg[0] == 1 and topic not in self.topics:
                self.topics.add(topic)
                self.topic_lengths[n] = self.topic_lengths.get(n, 0) + 1
            elif msg[0] == 0 and topic in self.topics:
                self.topics.discard(topic)
                if self.topic_lengths[n] == 1:
                    del self.topic_lengths[n]
                else:
                    self.topic_lengths[n] -= 1

    def _watched(self, topic: bytes) -> bool:
        """Whether some subscriber's prefix matches this job's topic right now (PUB would drop the event
        otherwise): one set lookup per distinct subscription length."""
        if self.topics:
            for n in self.topic_lengths:
                if n <= len(topic) and topic[:n] in self.topics:
                    return True
        return False

    def _send(self, envelope: list[bytes], payload: bytes) -> None:
        if self._outbox is not None:  # inside a run of requests: sent when the run ends (serve)
            self._outbox.append((envelope, payload))
            return
        router, more = self.router, self.NOBLOCK | self.SNDMORE
        try:
            for frame in envelope:
                router.send(frame, more)
            router.send(payload, self.NOBLOCK)
        except self.zmq.ZMQError as exc:  # peer gone or its queue full: it will time out and retry
            log.debug("reply dropped: %s", exc)

    def _on_frames(self, frames: list[bytes]) -> None:
        proto = self.proto
        # Envelope: the identity ROUTER adds, then any empty delimiter frames (a REQ client sends one).
        n = 1
        while n < len(frames) - 1 and frames[n] == b"":
            n += 1
        envelope, body = frames[:n], frames[n:]
        if len(body) != 1 or body[0] == b"":
            self.metrics.error(proto.BAD_REQUEST)
            what = "an empty payload frame" if len(body) == 1 else f"{len(body)} payload frames"
            self._send(envelope, proto.reply_error(None, None, proto.BAD_REQUEST,
                                                   f"expected exactly one non-empty payload frame, got {what}"))
            return
        raw = body[0]
        if len(raw) > self.args.max_frame_bytes:
            req_id, req_type = proto.peek_id_type(raw)
            self.metrics.error(proto.TOO_LARGE)
            self._send(envelope, proto.reply_error(req_type, req_id, proto.TOO_LARGE,
                                                   f"payload is {len(raw)} bytes; the limit is {self.args.max_frame_bytes}"))
            return
        try:
            msg = proto.parse_request(raw)
        except proto.ProtocolError as err:
            self.metrics.error(err.code)
            self._send(envelope, proto.reply_error(err.req_type, err.req_id, err.code, err.message))
            return
        req_type, req_id = msg["type"], msg.get("id")
        self.metrics.request(req_type)
        if req_type == "ping":
            self._send(envelope, proto.reply_ok("ping", req_id, {"server_id": self.server_id, "time": time.time(),
                                                                 "pid": os.getpid(), "protocol": proto.VERSION}))
        elif req_type == "status":
            self._send(envelope, proto.reply_ok("status", req_id, self.status()))
        elif req_type == "ops":
            self._send(envelope, proto.reply_ok("ops", req_id, {"ops": [s.describe(self.device) for s in self.list_ops()]}))
        elif req_type == "cancel":
            self._send(envelope, proto.reply_ok("cancel", req_id, {"state": self._cancel(req_id)}))
        else:
            self._submit(envelope, msg)

    def status(self) -> dict:
        return {"server_id": self.server_id, "version": self.proto.SERVER_VERSION, "protocol": self.proto.VERSION,
                "devices": [self.device.describe()], "backend": self.device.backend,
                "ops": [s.name for s in self.list_ops()], "models": [],
                "queue": {"depth": len(self.queue), "max": self.queue.max_depth},
                "in_flight": len(self.queue.running), "jobs": dict(self.outcomes), "cached_results": len(self.cache),
                "limits": {"max_frame_bytes": self.args.max_frame_bytes, "max_queue": self.queue.max_depth,
                           "job_timeout_ms": int(self.args.job_timeout * 1000), "max_batch": self.max_batch,
                           "batch_wait_ms": self.args.batch_wait_ms,
                           "cache_ttl_s": self.args.cache_ttl, "cache_entries": self.args.cache_entries},
                "batching": {"max_batch": self.max_batch, "max_wait_ms": self.args.batch_wait_ms,
                             "ops": [s.name for s in self.list_ops() if s.batch_handler is not None]},
                "curve": self.curve, "uptime_s": time.time() - self.started, "pid": os.getpid()}

    def _fingerprint(self, msg: dict):
        # Hashed only if the id comes again (jobs.Fingerprint); params are packed now, before an op sees them.
        return Fingerprint(self._pack([msg["op"], msg.get("model"), msg["params"]]), msg["inputs"])

    def _submit(self, envelope: list[bytes], msg: dict) -> None:
        job_id = msg["id"]
        spec = self.get_op(msg["op"])
        if spec is None:
            self.metrics.error(proto.UNKNOWN_OP)
            known = ", ".join(s.name for s in self.list_ops())
            self._send(envelope, proto.reply_error("submit", job_id, proto.UNKNOWN_OP,
                                                   f"no op {msg['op']!r} on this server (it has: {known})"))
            return
        fingerprint = self._fingerprint(msg)
        active = self.jobs.get(job_id)
        cached = None if active else self.cache.get(job_id)
        if (active and active.fingerprint != fingerprint) or (cached and cached[0] != fingerprint):
            self.metrics.error(proto.BAD_REQUEST)
            self._send(envelope, proto.reply_error("submit", job_id, proto.BAD_REQUEST,
                                                   f"job id {job_id!r} is already used by a different request"))
            return
        if active:  # a retry while it runs: answer it too when the job ends; it never runs twice
            active.joiners.append(envelope)
            self.metrics.deduped("joined")
            return
        if cached:
            reply = dict(cached[1])
            reply["meta"] = {**reply.get("meta", {}), "dedup": "cached"}
            self.metrics.deduped("cached")
            self._send(envelope, self._pack(reply))
            return
        timeout_s = min(self.args.job_timeout, msg.get("timeout_ms", 1e12) / 1000)
        if spec.inline and not (self.topics and self._watched(job_id.encode("utf-8"))):
            self._run_inline_unwatched(envelope, msg, spec, fingerprint, timeout_s)
            return
        deadline = time.monotonic() + timeout_s
        job = Job(job_id, spec, None, fingerprint, deadline)
        if spec.inline:
            self._run_inline(job, envelope, msg)
            return
        job.ctx = JobContext(job_id, spec.name, msg["params"], msg["inputs"], self.device, msg.get("model"),
                             on_progress=lambda stage, done, total, j=job: self._post(("progress", j, stage, done, total)),
                             deadline=deadline)
        job.batch_key = spec.batch_key(msg["params"]) if spec.batch_key else None
        job.waiters.append(envelope)
        if not self.queue.offer(job):
            self.metrics.error(proto.BUSY)
            self._send(envelope, proto.reply_error("submit", job_id, proto.BUSY,
                                                   f"queue full ({self.queue.max_depth} jobs waiting); retry later"))
            return
        self.jobs[job_id] = job
        self._publish(job, "queued", len(self.queue), None)

    def _run_inline(self, job, envelope: list[bytes], msg: dict) -> None:
        """An inline op (OpSpec.inline) runs here, on the socket thread, at once: it never waits in the
        queue and needs no hand-off. It ends before the next request is read, so a cancel can only
        find it finished; its deadline is checked by ctx.check() like any job's; its events are the
        same as a queued job's (`queued` with done 0: it never waited)."""
        job.ctx = JobContext(job.id, job.spec.name, msg["params"], msg["inputs"], self.device, msg.get("model"),
                             on_progress=lambda stage, done, total, j=job: self._publish(j, stage, done, total),
                             deadline=job.deadline)
        job.waiters.append(envelope)
        job.state, job.started_at = "running", job.enqueued_at
        self._publish(job, "queued", 0, None)
        self._publish(job, "running", 0, None)
        try:
            outcome = job.spec.handler(job.ctx)
        except Exception as exc:  # noqa: BLE001  (reported to the client as INTERNAL, like the worker's)
            outcome = exc
        job.state = "finished"
        self._on_result(job, outcome, 1)

    def _run_inline_unwatched(self, envelope: list[bytes], msg: dict, spec, fingerprint, timeout_s: float) -> None:
        """An inline op whose job nobody subscribes to: the same reply, cache entry and counts as
        _run_inline's, without a Job. Nothing else could observe one: the job ends before the next
        request is read (a cancel or retry finds it in the cache), no event would be sent (no
        subscriber; one that subscribes later finds the job over), and its deadline is the context's."""
        job_id = msg["id"]
        start = time.monotonic()
        ctx = JobContext(job_id, spec.name, msg["params"], msg["inputs"], self.device, msg.get("model"),
                         deadline=start + timeout_s)
        try:
            outcome = spec.handler(ctx)
        except Exception as exc:  # noqa: BLE001  (reported to the client as INTERNAL, like the worker's)
            outcome = exc
        now = time.monotonic()
        result, error = (outcome, None) if type(outcome) is dict else self._outcome(outcome, ctx)
        meta = {"server_id": self.server_id, "device": self.device_label, "queued_ms": 0.0,
                "run_ms": round((now - start) * 1000, 3), "batch_size": 1}
        payload, reply = self._reply(job_id, spec.name, fingerprint, result, error, meta)
        self._send(envelope, payload)
        outcome_name = "ok" if reply["ok"] else reply["error"]["code"]
        self.outcomes[outcome_name] = self.outcomes.get(outcome_name, 0) + 1
        self.metrics.job_done(spec.name, outcome_name, now - start)

    def _cancel(self, job_id: str) -> str:
        job = self.jobs.get(job_id)
        if job is None:
            cached = self.cache.get(job_id)
            return "unknown" if cached is None else "finished"
        if self.queue.remove(job):
            self._finish(job, error=(self.proto.CANCELLED, "cancelled while queued"))
            return "removed"
        job.ctx.cancel("cancelled")  # the op stops at its next ctx.check()
        self._finish(job, error=(self.proto.CANCELLED, "cancelled while running"))
        return "stopping"

    def _sweep_deadlines(self, now: float) -> None:
        for job in [j for j in self.jobs.values() if j.deadline <= now]:
            self.queue.remove(job)
            job.ctx.cancel("timeout")
            self._finish(job, error=(self.proto.TIMEOUT, "job ran past its timeout"))

    def _publish(self, job, stage: str, done, total) -> None:
        seq = job.seq
        job.seq += 1  # counted whether sent or not: a subscriber that comes late sees the jump
        if not self._watched(job.topic):
            return  # nobody subscribes to this job: PUB would drop the event anyway
        frames = self.proto.progress_event(job.id, seq, stage, done, total, {"server_id": self.server_id})
        try:
            self.pub.send_multipart(frames, self.zmq.NOBLOCK)
        except self.zmq.ZMQError:
            pass

    def _finish(self, job, result=None, error=None, meta_extra=None) -> None:
        """Answers every waiter once, caches what a retry should get, records metrics."""
        proto = self.proto
        if job.replied:
            return
        job.replied = True
        if job.ctx is not None:
            # Its late progress is dropped anyway; and job → ctx → callback → job is a reference
            # cycle that only the garbage collector would free (a small job notices that).
            job.ctx._on_progress = None
        if self.jobs.get(job.id) is job:
            del self.jobs[job.id]
        now = time.monotonic()
        started = job.started_at
        meta = {"server_id": self.server_id, "device": self.device_label,
                "queued_ms": round(((started or now) - job.enqueued_at) * 1000, 3),
                "run_ms": round((now - started) * 1000, 3) if started else 0.0}
        if meta_extra:
            meta.update(meta_extra)
        payload, reply = self._reply(job.id, job.spec.name, job.fingerprint, result, error, meta)
        if not reply["ok"]:
            error = (reply["error"]["code"], reply["error"]["message"])
        outcome = "ok" if error is None else error[0]
        # The final event goes out before the reply, so a subscriber usually sees it before it unsubscribes.
        self._publish(job, _FINAL_STAGE.get(outcome, "failed"), None, None)
        for envelope in job.waiters:
            self._send(envelope, payload)
        if job.joiners:  # the submits that joined a running job: the same reply, marked as such
            joined = self._pack({**reply, "meta": {**reply["meta"], "dedup": "joined"}})
            for envelope in job.joiners:
                self._send(envelope, joined)
        self.outcomes[outcome] = self.outcomes.get(outcome, 0) + 1
        self.metrics.job_done(job.spec.name, outcome, now - job.enqueued_at)

    def _reply(self, job_id: str, op: str, fingerprint, result, error, meta: dict):
        """A job's packed reply (ok, or an error when the result cannot be packed), cached for retries
        of its id unless the error is retryable. Returns (payload, reply)."""
        if error is None:
            reply = {"v": proto.VERSION, "type": "submit", "id": job_id, "ok": True, "result": result, "meta": meta}
            try:
                payload = self._pack(reply)
            except Exception as exc:
                error = (proto.INTERNAL, f"op {op} returned a value MessagePack cannot encode: {exc}")
        if error is not None:
            code, message = error
            reply = {"v": proto.VERSION, "type": "submit", "id": job_id, "ok": False, "meta": meta,
                     "error": {"code": code, "message": message, "retryable": code in proto.RETRYABLE}}
            payload = self._pack(reply)
        if error is None or error[0] not in proto.RETRYABLE:
            self.cache.put(job_id, fingerprint, reply, len(payload))
        return payload, reply

    def _post(self, event) -> None:
        """Called from the worker thread: queue the event, then wake the socket thread unless a wake-up
        is already on its way (the socket thread clears `_wake_pending` before it drains the events,
        so an event queued after that drain always sends a new wake-up)."""
        self.events.put(event)
        if self._wake_pending:
            return
        self._wake_pending = True
        push = getattr(self._local, "push", None)
        if push is None:
            push = self._local.push = self.ctx.socket(self.zmq.PUSH)
            push.setsockopt(self.zmq.LINGER, 0)
            push.connect(self.wake_addr)
        try:
            push.send(b"", self.zmq.NOBLOCK)
        except self.zmq.Again:
            pass  # a wake-up is already pending

    _local = threading.local()

    def _drain_events(self) -> None:
        events = self.events
        while not events.empty():  # only this thread takes from the queue
            event = events.get_nowait()
            kind, job = event[0], event[1]
            if job.replied:
                continue  # cancelled or timed out already: its late events are dropped
            if kind == "progress":
                self._publish(job, event[2], event[3], event[4])
            elif kind == "result":
                self._on_result(job, event[2], event[3])

    def _on_result(self, job, outcome, batch_size: int) -> None:
        result, error = self._outcome(outcome, job.ctx)
        self._finish(job, result=result, error=error, meta_extra={"batch_size": batch_size})

    @staticmethod
    def _outcome(outcome, ctx):
        """What an op's return value or exception means for its reply: (result, None) or (None, error)."""
        if type(outcome) is dict:  # the common case first
            return outcome, None
        if isinstance(outcome, OpError):
            return None, (outcome.code if outcome.code in proto.ERROR_CODES else proto.INTERNAL, outcome.message)
        if isinstance(outcome, JobStopped):
            return None, (proto.TIMEOUT if ctx.stop_reason == "timeout" else proto.CANCELLED, f"job stopped: {ctx.stop_reason}")
        if isinstance(outcome, BaseException):
            return None, (proto.INTERNAL, f"{type(outcome).__name__}: {outcome}")
        if not isinstance(outcome, dict):
            return None, (proto.INTERNAL, f"op returned {type(outcome).__name__}, not a map")
        return outcome, None

    # ---- the worker thread ---------------------------------------------------------------------
    def _worker_main(self) -> None:
        while not self.stopping.is_set():
            batch = self.queue.take_batch(self.max_batch, self.batch_wait)
            if not batch:
                continue
            live = [job for job in batch if not job.ctx.stopped()]
            for job in live:
                # No wake-up of its own: the socket thread publishes it with the job's next event or
                # result, or at its next turn (within 50 ms): a short job costs one hand-off back, not two.
                self.events.put(("progress", job, "running", 0, None))
            outcomes: list = []
            try:
                spec = batch[0].spec
                if len(live) > 1:
                    outcomes = list(spec.batch_handler([job.ctx for job in live]))
                else:
                    for job in live:
                        try:
                            outcomes.append(spec.handler(job.ctx))
                        except BaseException as exc:  # noqa: BLE001  (reported to the client as INTERNAL)
                            outcomes.append(exc)
            except BaseException as exc:  # noqa: BLE001
                log.exception("batch failed")
                outcomes = [exc] * len(live)
            finally:
                self.queue.finish(batch)
            for job, outcome in zip(live, outcomes):
                self._post(("result", job, outcome, len(live)))
            if self.device.kind == "cuda":
                self.device.torch.cuda.empty_cache()


def main(argv=None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), stream=sys.stderr,
                        format="%(asctime)s %(levelname)s inference: %(message)s")
    if args.gpu is not None:
        # Before torch is imported (device.py imports it): this process then sees exactly one GPU.
        os.environ["CUDA_VISIBLE_DEVICES"] = str(args.gpu)
    from .device import detect
    from .ops.registry import load_builtin_ops, load_ops_module

    device = detect(force_cpu=args.cpu, gpu_index=args.gpu)
    if args.gpu is not None and device.kind != "cuda":
        log.warning("--gpu %s asked for, but no CUDA device is usable here: computing on %s", args.gpu, device.label)
    args.server_id = args.server_id or f"{socket.gethostname()}-{'cpu' if args.gpu is None else f'gpu{args.gpu}'}"
    load_builtin_ops()
    for module in args.ops_module:
        load_ops_module(module)
    # Hand-offs between the socket thread and the worker thread wait for the GIL; Python's default
    # 5 ms switch interval showed up as the p99 of small jobs' round trips.
    sys.setswitchinterval(0.0005)
    server = Server(args, device)
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: server.stopping.set())
    server.serve()
    return 0


if __name__ == "__main__":
    sys.exit(main())
