"""The job queue's dynamic batching (inference/jobs.py), driven directly: when the worker waits for
company, when it does not, and what a cancel during the wait does. Real threads, no server."""
from __future__ import annotations

import threading
import time

from inference.jobs import Job, JobQueue
from inference.ops.registry import OpSpec


def batchable() -> OpSpec:
    return OpSpec("b", handler=lambda ctx: {}, batch_key=lambda p: "k", batch_handler=lambda ctxs: [{} for _ in ctxs])


def job(spec: OpSpec, name: str, key="k") -> Job:
    j = Job(name, spec, None, b"", time.monotonic() + 60)
    j.batch_key = key
    return j


def offer_later(q: JobQueue, jobs: list[Job], delay: float) -> threading.Thread:
    def run():
        for j in jobs:
            time.sleep(delay)
            q.offer(j)
    t = threading.Thread(target=run)
    t.start()
    return t


def test_a_lone_job_does_not_wait():
    q, spec = JobQueue(64), batchable()
    q.offer(job(spec, "a"))
    t0 = time.monotonic()
    assert [j.id for j in q.take_batch(8, max_wait=2.0)] == ["a"]
    assert time.monotonic() - t0 < 0.5


def test_with_company_the_batch_waits_for_late_jobs_until_full():
    q, spec = JobQueue(64), batchable()
    q.offer(job(spec, "a"))
    q.offer(job(spec, "b"))
    t = offer_later(q, [job(spec, "c"), job(spec, "d")], 0.05)
    batch = q.take_batch(4, max_wait=5.0)
    t.join()
    assert [j.id for j in batch] == ["a", "b", "c", "d"], "full at 4: it did not wait the whole 5 s"
    assert all(j.state == "running" for j in batch)


def test_after_a_batch_of_several_a_lone_job_waits_at_most_the_window():
    q, spec = JobQueue(64), batchable()
    for name in ("a", "b"):
        q.offer(job(spec, name))
    assert len(q.take_batch(8, max_wait=0.2)) == 2
    q.offer(job(spec, "c"))
    t0 = time.monotonic()
    assert [j.id for j in q.take_batch(8, max_wait=0.2)] == ["c"]
    assert 0.1 <= time.monotonic() - t0 < 1.5


def test_other_jobs_keep_their_order_and_incompatible_ones_wait_their_turn():
    q, spec = JobQueue(64), batchable()
    q.offer(job(spec, "a"))
    q.offer(job(spec, "x", key="other"))
    q.offer(job(spec, "b"))
    assert [j.id for j in q.take_batch(8, max_wait=0.01)] == ["a", "b"]
    q.finish([])
    assert [j.id for j in q.take_batch(8, max_wait=0.01)] == ["x"]


def test_a_job_cancelled_while_its_batch_forms_is_left_out():
    q, spec = JobQueue(64), batchable()
    a, b, c = job(spec, "a"), job(spec, "b"), job(spec, "c")
    for j in (a, b, c):
        q.offer(j)
    box: list = []
    taker = threading.Thread(target=lambda: box.append(q.take_batch(8, max_wait=0.5)))
    taker.start()
    time.sleep(0.05)
    assert q.remove(b) is True and b.state == "finished"
    taker.join()
    assert [j.id for j in box[0]] == ["a", "c"]
