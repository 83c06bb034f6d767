"""Relay fixtures: a real redis-server on a free port, and scripted servers over each store."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator

import pytest

from claudewire.server.backends.scripted import ScriptedBackend
from claudewire.server.run import ServerThread

STORES = ["memory", "redis"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class RedisServer:
    """A throwaway redis-server (no persistence) on a free loopback port."""

    def __init__(self) -> None:
        binary = shutil.which("redis-server")
        assert binary, "redis-server is missing: scripts/setup test installs it"
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process = subprocess.Popen(
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while True:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as sock:
                    sock.sendall(b"PING\r\n")
                    if sock.recv(16).startswith(b"+PONG"):
                        return
            except OSError:
                pass
            assert time.monotonic() < deadline, "redis-server did not start"
            time.sleep(0.05)

    def kill(self) -> None:
        self.process.kill()
        self.process.wait(5)


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    server = RedisServer()
    yield server
    server.kill()


def store_url(store: str, redis_server: RedisServer) -> str:
    return redis_server.url if store == "redis" else "memory"


@pytest.fixture(scope="module", params=STORES)
def relay_server(request: pytest.FixtureRequest, redis_server: RedisServer) -> Iterator[ServerThread]:
    """The scripted backend with faults, a short ping interval and short lifetimes."""
    relay = {"store": store_url(request.param, redis_server), "detach_timeout": 2.0, "resume_ttl": 3.0}
    with ServerThread(ScriptedBackend(), faults=True, ping_interval=0.3, relay=relay) as server:
        server.store_name = request.param  # type: ignore[attr-defined]
        yield server
