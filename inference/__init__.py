"""Sparky's GPU inference server: ZeroMQ + MessagePack, protocol v1 (docs/protocol.md)."""
