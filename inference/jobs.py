"""Jobs, the bounded queue the worker thread takes them from, and the cache of finished results.

Threads: the socket thread creates jobs, enqueues, cancels and replies; the worker thread pops and
runs them. The queue's lock is the only state the two share (plus JobContext's stop flag).
"""
from __future__ import annotations

import hashlib
import threading
import time
from collections import OrderedDict, deque

from .ops.registry import JobContext, OpSpec


class Fingerprint:
    """What makes two submits of one job id "the same request" (docs/protocol.md section 7): op, model,
    params and inputs. Hashed only when compared, that is when a job id comes again, which is rare:
    hashing every job's inputs up front cost more than the rest of a small job's decode.

    `head` is the packed op, model and params, taken at once (an op may change its params); the
    inputs are the request's own bytes (immutable; the op gets its own lists, see JobContext) and are
    held until the digest is made. `held_bytes()` tells the result cache what they weigh.
    """

    __slots__ = ("_head", "_inputs", "_digest")

    def __init__(self, head: bytes, inputs: dict):
        self._head, self._inputs, self._digest = head, inputs, None

    def digest(self) -> bytes:
        if self._digest is None:
            h = hashlib.blake2b(self._head, digest_size=16)
            for name in sorted(self._inputs):
                value = self._inputs[name]
                for item in value if isinstance(value, list) else [value]:
                    h.update(name.encode())
                    h.update(len(item).to_bytes(8, "little"))
                    h.update(item)
            self._digest, self._inputs = h.digest(), None
        return self._digest

    def held_bytes(self) -> int:
        size = 0
        for value in (self._inputs or {}).values():
            if type(value) is bytes:
                size += len(value)
            else:
                for item in value:
                    size += len(item)
        return size

    def __eq__(self, other) -> bool:
        return isinstance(other, Fingerprint) and (self is other or self.digest() == other.digest())

    def __ne__(self, other) -> bool:
        return not self.__eq__(other)

    __hash__ = None  # type: ignore[assignment]  (compared, never used as a key)


class Job:
    def __init__(self, job_id: str, spec: OpSpec, ctx: JobContext, fingerprint: Fingerprint | bytes, deadline: float):
        self.id, self.spec, self.ctx, self.fingerprint, self.deadline = job_id, spec, ctx, fingerprint, deadline
        self.waiters: list[list[bytes]] = []   # reply envelope of the submit that started this job
        self.joiners: list[list[bytes]] = []   # reply envelopes of later submits that joined it (meta.dedup "joined")
        self.state = "queued"                  # queued → running → finished (changed under the queue lock)
        self.replied = False                   # the socket thread answered the waiters (done, cancel, timeout)
        self.seq = 0                           # next progress sequence number (socket thread only)
        self.topic = job_id.encode("utf-8")    # its progress topic (protocol section 1.2)
        self.enqueued_at = time.monotonic()
        self.started_at: float | None = None
        self.batch_key = None                  # set by the server from the op's batch_key(params)


class JobQueue:
    def __init__(self, max_depth: int):
        self.max_depth = max_depth
        self._jobs: deque[Job] = deque()
        self._cond = threading.Condition()
        self._closed = False
        self.running: list[Job] = []
        self._last_batch: dict = {}   # (op, batch key) → size of its last batch (dynamic batching waits only with company)

    def __len__(self) -> int:
        return len(self._jobs)

    def offer(self, job: Job) -> bool:
        """Adds a job unless the queue is full (the caller answers BUSY)."""
        with self._cond:
            if len(self._jobs) >= self.max_depth:
                return False
            self._jobs.append(job)
            self._cond.notify_all()
            return True

    def remove(self, job: Job) -> bool:
        """Takes a queued job out; False when the worker already started it."""
        with self._cond:
            if job.state != "queued":
                return False
            self._jobs.remove(job)
            job.state = "finished"
            self._cond.notify_all()  # a batch that was forming around it looks again
            return True

    def take_batch(self, max_batch: int, max_wait: float = 0.0, timeout: float = 0.5) -> list[Job]:
        """Blocks for the next job; for a batchable one, adds queued jobs with the same op and batch key.

        Dynamic batching: when the batch is not full, the head job may wait for companions until
        `max_wait` seconds after it was queued, but only while there is company (another compatible job
        is queued, or the last batch of this op and key held more than one job): a lone client never
        waits. Jobs that do not fit the batch keep their order. A job cancelled while the batch forms
        leaves the queue (remove()), and the batch forms from what is left.
        """
        with self._cond:
            if not self._jobs and not self._closed:
                self._cond.wait(timeout)
            if not self._jobs:
                return []
            head = self._jobs[0]
            batchable = head.batch_key is not None and head.spec.batch_handler is not None and max_batch > 1
            if batchable and max_wait > 0:
                while not self._closed and self._jobs:
                    head = self._jobs[0]
                    if head.batch_key is None or head.spec.batch_handler is None:
                        break
                    key = (head.spec.name, repr(head.batch_key))
                    company = self._compatible(head, max_batch)
                    if len(company) >= max_batch or (len(company) == 1 and self._last_batch.get(key, 1) <= 1):
                        break
                    left = head.enqueued_at + max_wait - time.monotonic()
                    if left <= 0:
                        break
                    self._cond.wait(left)
                if not self._jobs:
                    return []
                head = self._jobs[0]
                batchable = head.batch_key is not None and head.spec.batch_handler is not None
            batch = self._compatible(head, max_batch) if batchable else [head]
            for job in batch:
                self._jobs.remove(job)
            if batchable:
                self._last_batch[(head.spec.name, repr(head.batch_key))] = len(batch)
            now = time.monotonic()
            for job in batch:
                job.state, job.started_at = "running", now
            self.running = batch
            return batch

    def _compatible(self, head: Job, max_batch: int) -> list[Job]:
        """The head and the queued jobs that may share its batch (same op, same batch key), in order."""
        if head.batch_key is None or head.spec.batch_handler is None or max_batch <= 1:
            return [head]
        out = []
        for job in self._jobs:
            if job.spec is head.spec and job.batch_key == head.batch_key:
                out.append(job)
                if len(out) >= max_batch:
                    break
        return out

    def finish(self, batch: list[Job]) -> None:
        with self._cond:
            for job in batch:
                job.state = "finished"
            self.running = []

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()


class ResultCache:
    """Finished results by job id, so a retried submit gets the answer instead of a second run.

    Bounded three ways: entries, total bytes and age (LRU eviction, TTL on read). An entry weighs its
    packed reply plus the request inputs its fingerprint still holds (Fingerprint.held_bytes).
    """

    def __init__(self, max_entries: int = 1024, max_bytes: int = 256 << 20, ttl_s: float = 600.0):
        self.max_entries, self.max_bytes, self.ttl_s = max_entries, max_bytes, ttl_s
        self._items: OrderedDict[str, tuple] = OrderedDict()
        self._bytes = 0

    def put(self, job_id: str, fingerprint, reply: dict, size: int) -> None:
        items = self._items
        old = items.pop(job_id, None)
        if old is not None:
            self._bytes -= old[2]
        if type(fingerprint) is Fingerprint:
            size += fingerprint.held_bytes()
        if size > self.max_bytes:
            return
        items[job_id] = (fingerprint, reply, size, time.monotonic() + self.ttl_s)
        self._bytes += size
        while len(items) > self.max_entries or self._bytes > self.max_bytes:
            self._bytes -= items.popitem(last=False)[1][2]

    def get(self, job_id: str):
        item = self._items.get(job_id)
        if item is None:
            return None
        if item[3] < time.monotonic():
            self.pop(job_id)
            return None
        self._items.move_to_end(job_id)
        return item

    def pop(self, job_id: str) -> None:
        item = self._items.pop(job_id, None)
        if item is not None:
            self._bytes -= item[2]

    def __len__(self) -> int:
        return len(self._items)
