"""Prometheus metrics on a tiny HTTP endpoint (`--metrics-port`). Without prometheus_client (the GPU
hosts' bare Python), or without `--metrics-port` (nobody could read them), every call is a no-op: the
job path then pays nothing for metrics. Labelled children are looked up once and kept."""
from __future__ import annotations


class Metrics:
    def __init__(self, server_id: str, device, enabled: bool = True):
        self.url = None
        self.enabled = False
        self._device = device
        self._children: dict = {}
        if not enabled:
            return
        try:
            import prometheus_client as prom
        except ImportError:
            return
        self._prom = prom
        self.registry = prom.CollectorRegistry()
        labels = {"server_id": server_id}
        g, c, h = prom.Gauge, prom.Counter, prom.Histogram
        r = self.registry
        self.queue_depth = \
            g("sparky_inference_queue_depth", "jobs waiting in the queue", ["server_id"], registry=r).labels(**labels)
        self.in_flight = g("sparky_inference_in_flight", "jobs running now", ["server_id"], registry=r).labels(**labels)
        self.jobs = c("sparky_inference_jobs", "finished jobs by op and outcome (ok or an error code)",
                      ["server_id", "op", "outcome"], registry=r)
        self.latency = h("sparky_inference_job_seconds", "submit to reply, seconds", ["server_id", "op"], registry=r,
                         buckets=(.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 300))
        self.requests = c("sparky_inference_requests", "requests by type", ["server_id", "type"], registry=r)
        self.errors = c("sparky_inference_request_errors", "requests answered with an error before any job ran",
                        ["server_id", "code"], registry=r)
        self.dedup = c("sparky_inference_dedup", "submits answered from a running job or the result cache",
                       ["server_id", "how"], registry=r)
        memory = g("sparky_inference_device_memory_bytes", "device memory", ["server_id", "device", "kind"], registry=r)
        for kind in ("total", "used", "free"):
            memory.labels(server_id, device.label, kind).set_function(lambda k=kind: self._device.memory().get(k) or 0)
        self._labels = labels
        self.enabled = True

    def serve(self, host: str, port: int) -> str | None:
        if not self.enabled:
            return None
        server, _thread = self._prom.start_http_server(port, addr=host, registry=self.registry)
        self.url = f"http://{host}:{server.server_port}/metrics"
        return self.url

    def _child(self, metric, *labels):
        key = (id(metric), labels)
        child = self._children.get(key)
        if child is None:
            child = self._children[key] = metric.labels(self._labels["server_id"], *labels)
        return child

    def request(self, req_type: str) -> None:
        if self.enabled:
            self._child(self.requests, req_type or "invalid").inc()

    def error(self, code: str) -> None:
        if self.enabled:
            self._child(self.errors, code).inc()

    def job_done(self, op: str, outcome: str, seconds: float) -> None:
        if self.enabled:
            self._child(self.jobs, op, outcome).inc()
            self._child(self.latency, op).observe(seconds)

    def deduped(self, how: str) -> None:
        if self.enabled:
            self._child(self.dedup, how).inc()

    def gauges(self, depth: int, running: int) -> None:
        if self.enabled:
            self.queue_depth.set(depth)
            self.in_flight.set(running)
