"""Starts real inference servers (subprocesses of `python -m inference.server`) for the tests.

Deliberately imports nothing from the server package: the tests talk to it over the wire only.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


class ServerProcess:
    def __init__(self, *args: str, env: dict | None = None):
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "inference.server", *args], cwd=ROOT, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})})
        self.stderr: list[str] = []
        threading.Thread(target=lambda: self.stderr.extend(self.proc.stderr), daemon=True).start()
        line_box: list[str] = []
        reader = threading.Thread(target=lambda: line_box.append(self.proc.stdout.readline()), daemon=True)
        reader.start()
        reader.join(30)
        if not line_box or not line_box[0]:
            self.stop()
            raise RuntimeError("inference server did not get ready:\n" + "".join(self.stderr))
        self.ready = json.loads(line_box[0])
        self.bind, self.pub = self.ready["bind"], self.ready["pub"]

    def alive(self) -> bool:
        return self.proc.poll() is None

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


@pytest.fixture
def start_server():
    started: list[ServerProcess] = []

    def start(*args: str, env: dict | None = None) -> ServerProcess:
        server = ServerProcess(*args, env=env)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


def serve_module(*args: str):
    """Body of a module-scoped server fixture: one server for the module, which must survive its tests."""
    server = ServerProcess(*args)
    yield server
    assert server.alive(), "the server died during the tests:\n" + "".join(server.stderr)
    server.stop()


@pytest.fixture(scope="module")
def shared_server():
    """One CPU server for the tests that do not need special limits."""
    yield from serve_module("--cpu", "--port", "0", "--id", "conformance", "--metrics-port", "0")
