"""Security (protocol §8): 127.0.0.1 unless told otherwise; CURVE when configured."""
from __future__ import annotations

import socket

import pytest
import zmq
import zmq.auth

from .wire import Client


def outside_address() -> str | None:
    """This machine's address on a non-loopback interface (no packet is sent)."""
    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        probe.connect(("10.255.255.255", 1))
        addr = probe.getsockname()[0]
        return None if addr.startswith("127.") else addr
    except OSError:
        return None
    finally:
        probe.close()


def port_of(endpoint: str) -> str:
    return endpoint.rsplit(":", 1)[1]


def test_binds_loopback_by_default(start_server):
    server = start_server("--cpu", "--port", "0")
    assert server.bind.startswith("tcp://127.0.0.1:") and server.pub.startswith("tcp://127.0.0.1:")
    addr = outside_address()
    if addr is None:
        pytest.skip("no non-loopback interface here to try the outside address from")
    c = Client(f"tcp://{addr}:{port_of(server.bind)}", ctx=zmq.Context())
    c.send({"v": 1, "type": "ping", "id": "outside"})
    assert c.recv(1.0) is None, "the server answered on a non-loopback address"
    c.close()


def test_binds_elsewhere_when_told(start_server):
    server = start_server("--cpu", "--port", "0", "--host", "0.0.0.0")
    assert server.bind.startswith("tcp://0.0.0.0:")
    addr = outside_address() or "127.0.0.1"
    c = Client(f"tcp://{addr}:{port_of(server.bind)}", ctx=zmq.Context())
    assert c.request({"type": "ping", "id": "in"}, timeout=5)["ok"]
    c.close()


def test_curve_any_client_with_the_server_key(start_server):
    server_public, server_secret = zmq.curve_keypair()
    server = start_server("--cpu", "--port", "0", env={"SPARKY_INFERENCE_CURVE_SECRET": server_secret.decode()})
    assert server.ready["curve"] is True
    plain = Client(server.bind, ctx=zmq.Context())
    plain.send({"v": 1, "type": "ping", "id": "plain"})
    assert plain.recv(1.5) is None, "a client without keys must get nothing"
    plain.close()
    public, secret = zmq.curve_keypair()
    wrong_server_key, _ = zmq.curve_keypair()
    wrong = Client(server.bind, ctx=zmq.Context(),
                   curve={"server_public": wrong_server_key, "public": public, "secret": secret})
    wrong.send({"v": 1, "type": "ping", "id": "wrong"})
    assert wrong.recv(1.5) is None, "a client with the wrong server key must get nothing"
    wrong.close()
    keyed = Client(server.bind, ctx=zmq.Context(), curve={"server_public": server_public, "public": public, "secret": secret})
    assert keyed.request({"type": "ping", "id": "keyed"}, timeout=5)["ok"]
    keyed.close()


def test_curve_with_an_allow_list_of_client_certificates(start_server, tmp_path):
    server_dir, allowed_dir, other_dir = (tmp_path / n for n in ("server", "allowed", "other"))
    for d in (server_dir, allowed_dir, other_dir):
        d.mkdir()
    server_pub_file, server_secret_file = zmq.auth.create_certificates(server_dir, "server")
    allowed_pub_file, allowed_secret_file = zmq.auth.create_certificates(allowed_dir, "client")
    _, other_secret_file = zmq.auth.create_certificates(other_dir, "intruder")
    server = start_server("--cpu", "--port", "0", "--curve-secret-file", str(server_secret_file),
                          "--curve-clients-dir", str(allowed_dir))
    server_public, _ = zmq.auth.load_certificate(server_pub_file)
    ok_pub, ok_sec = zmq.auth.load_certificate(allowed_secret_file)
    __import__('os').unlink(allowed_secret_file)  # the allow-list holds public certificates only
    bad_pub, bad_sec = zmq.auth.load_certificate(other_secret_file)
    intruder = Client(server.bind, ctx=zmq.Context(), curve={"server_public": server_public, "public": bad_pub, "secret": bad_sec})
    intruder.send({"v": 1, "type": "ping", "id": "intruder"})
    assert intruder.recv(1.5) is None, "a client not on the allow-list must get nothing"
    intruder.close()
    allowed = Client(server.bind, ctx=zmq.Context(), curve={"server_public": server_public, "public": ok_pub, "secret": ok_sec})
    assert allowed.request({"type": "ping", "id": "allowed"}, timeout=5)["ok"]
    allowed.close()


def test_gpu_flag_pins_cuda_visible_devices_before_torch(start_server):
    # No CUDA here: the server says so and computes on the CPU, but the pinning is in place.
    server = start_server("--gpu", "3", "--port", "0", "--id", "pinned")
    c = Client(server.bind, ctx=zmq.Context())
    device = c.request({"type": "status", "id": "s"})["result"]["devices"][0]
    assert device["cuda_visible_devices"] == "3"
    assert device["kind"] in ("cpu", "cuda")
    c.close()
