"""`python -m inference.ping`, the health check of docker-compose.yml, against a real server."""
import subprocess
import sys

from .conftest import ROOT


def run_ping(endpoint: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "inference.ping", endpoint, "--timeout", "2"],
                          cwd=ROOT, capture_output=True, text=True, timeout=30)


def test_ping_answers_ok_for_a_live_server(start_server):
    server = start_server("--cpu", "--port", "0", "--id", "ping-test")
    result = run_ping(server.bind)
    assert result.returncode == 0, result.stderr
    assert "ping-test" in result.stdout


def test_ping_fails_when_nothing_answers():
    result = run_ping("tcp://127.0.0.1:9")  # discard port: nothing speaks the protocol there
    assert result.returncode == 1
    assert "no answer" in result.stderr
