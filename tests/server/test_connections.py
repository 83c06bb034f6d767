"""Connection abuse against a real server: slowloris, idle sockets, the descriptor limit, overload, bad HTTP.

Timeouts are configured short here (the defaults are in the README); the tests check that
each connection is closed, never how fast anything ran.
"""

from __future__ import annotations

import json
import os
import re
import resource
import selectors
import socket
import subprocess
import sys
import threading
import time

import httpx2
import pytest

from claudewire.server.backends.scripted import ScriptedBackend
from claudewire.server.run import ServerThread

GET_MODELS = b"GET /v1/models HTTP/1.1\r\nhost: x\r\nanthropic-version: 2023-06-01\r\nconnection: close\r\n\r\n"


def read_until_closed(sock: socket.socket, limit: float) -> bytes | None:
    """Everything the server sends until it closes; None if still open after ``limit`` seconds."""
    sock.settimeout(limit)
    data = b""
    try:
        while chunk := sock.recv(65536):
            data += chunk
    except TimeoutError:
        return None
    except ConnectionResetError:
        pass
    return data


def read_for(sock: socket.socket, seconds: float) -> bytes:
    """Everything the server sends within ``seconds`` (or until it closes)."""
    data, deadline = b"", time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        sock.settimeout(left)
        try:
            chunk = sock.recv(65536)
        except (TimeoutError, ConnectionResetError):
            break
        if not chunk:
            break
        data += chunk
    return data


def wait_all_closed(socks: list[socket.socket], limit: float) -> int:
    """How many of ``socks`` the server closed within ``limit`` seconds."""
    still_open, deadline = len(socks), time.monotonic() + limit
    with selectors.DefaultSelector() as selector:  # epoll: no 1,024-descriptor ceiling
        for sock in socks:
            selector.register(sock, selectors.EVENT_READ)
        while still_open and time.monotonic() < deadline:
            for key, _ in selector.select(0.2):
                try:
                    chunk = key.fileobj.recv(65536)  # type: ignore[union-attr]  # a 408, then the end; or just the end
                except OSError:
                    chunk = b""
                if not chunk:
                    selector.unregister(key.fileobj)
                    still_open -= 1
    return len(socks) - still_open


@pytest.fixture(scope="module")
def guarded():
    with ServerThread(ScriptedBackend(), server_options={"header_timeout": 1.0, "limit_concurrency": 400}) as server:
        yield server


def test_slowloris_and_idle_connections_are_closed_at_the_header_timeout(guarded) -> None:
    idle = [socket.create_connection(("127.0.0.1", guarded.port)) for _ in range(100)]
    slow = [socket.create_connection(("127.0.0.1", guarded.port)) for _ in range(100)]
    for sock in slow:
        sock.sendall(b"POST /v1/messages HTTP/1.1\r\nhost: x\r\n")
    for _ in range(3):  # keep trickling header lines: the deadline counts from the start, not from the last byte
        time.sleep(0.2)
        for sock in slow:
            try:
                sock.sendall(b"x-slow: 1\r\n")
            except OSError:
                pass
    try:
        assert wait_all_closed(idle + slow, 5.0) == 200
        with socket.create_connection(("127.0.0.1", guarded.port)) as sock:
            sock.sendall(b"GET /v1/models HTTP/1.1\r\nhost: x\r\n")
            answer = read_until_closed(sock, 5.0)
        assert answer is not None and answer.startswith(b"HTTP/1.1 408 Request Timeout")
        body = json.loads(answer.partition(b"\r\n\r\n")[2])
        assert body["type"] == "error" and "did not arrive within 1 seconds" in body["error"]["message"]
        assert httpx2.get(guarded.base_url + "/v1/models", headers={"anthropic-version": "1"}).status_code == 200
    finally:
        for sock in idle + slow:
            sock.close()


def test_a_kept_alive_connection_gets_the_same_deadline_for_its_next_request(guarded) -> None:
    with socket.create_connection(("127.0.0.1", guarded.port)) as sock:
        sock.sendall(GET_MODELS.replace(b"connection: close", b"connection: keep-alive"))
        time.sleep(0.2)
        sock.recv(65536)
        sock.sendall(b"GET /v1/models HTTP/1.1\r\nhost")  # then nothing more
        assert read_until_closed(sock, 5.0) is not None


def test_malformed_http_gets_an_api_shaped_400(guarded) -> None:
    for request in (b"GARBAGE\r\n\r\n", b"GET / HTTP/1.1\r\nbad header\r\n\r\n", b"GET /\xff HTTP/1.1\r\nhost: x\r\n\r\n",
                    b"POST /v1/messages HTTP/1.1\r\nhost: x\r\ncontent-length: -5\r\n\r\n"):
        with socket.create_connection(("127.0.0.1", guarded.port)) as sock:
            sock.sendall(request)
            answer = read_until_closed(sock, 5.0)
        assert answer is not None and answer.startswith(b"HTTP/1.1 400 Bad Request"), answer
        head, _, body = answer.partition(b"\r\n\r\n")
        assert b"content-type: application/json" in head.lower() and b"request-id: req_" in head
        assert json.loads(body)["error"]["type"] == "invalid_request_error"


def test_endless_headers_get_an_api_shaped_431_and_a_big_body_with_its_headers_does_not(guarded) -> None:
    with socket.create_connection(("127.0.0.1", guarded.port)) as sock:
        sock.sendall(b"GET /v1/models HTTP/1.1\r\nhost: x\r\n")
        try:
            for _ in range(200):  # 200 KB of header lines, never ending
                sock.sendall(b"x-filler: " + b"a" * 1000 + b"\r\n")
        except OSError:
            pass  # closed under our feet: the answer is already in the socket
        answer = read_until_closed(sock, 5.0)
    assert answer is not None and answer.startswith(b"HTTP/1.1 431 Request Header Fields Too Large"), answer[:200]
    head, _, body = answer.partition(b"\r\n\r\n")
    assert b"content-type: application/json" in head.lower() and json.loads(body)["error"]["type"] == "invalid_request_error"
    # 100 KB of headers complete in one write: the limit holds as well
    with socket.create_connection(("127.0.0.1", guarded.port)) as sock:
        sock.sendall(b"GET /v1/models HTTP/1.1\r\nhost: x\r\n" + b"x-filler: " + b"a" * 100_000 + b"\r\n\r\n")
        answer = read_until_closed(sock, 5.0)
    assert answer is not None and answer.startswith(b"HTTP/1.1 431 "), answer[:200]
    # headers and a 300 KB body in one write: the limit counts only bytes before the end of the headers
    payload = json.dumps({"model": "claude-sonnet-4-6", "max_tokens": 5, "messages": [{"role": "user", "content": "x" * 300_000}]}).encode()
    request = (b"POST /v1/messages HTTP/1.1\r\nhost: x\r\nanthropic-version: 2023-06-01\r\ncontent-type: application/json\r\n"
               b"connection: close\r\ncontent-length: %d\r\n\r\n" % len(payload)) + payload
    with socket.create_connection(("127.0.0.1", guarded.port)) as sock:
        sock.sendall(request)
        answer = read_until_closed(sock, 5.0)
    assert answer is not None and answer.startswith(b"HTTP/1.1 200 OK"), answer[:200]
    # answered early (413: the declared size is too big), the rest of the body is read and dropped, not taken for headers
    with socket.create_connection(("127.0.0.1", guarded.port)) as sock:
        sock.sendall(b"POST /v1/messages HTTP/1.1\r\nhost: x\r\nanthropic-version: 2023-06-01\r\ncontent-type: application/json\r\n"
                     b"content-length: 40000000\r\n\r\n")
        for _ in range(30):
            sock.sendall(b"x" * 10_000)
        answer = read_for(sock, 1.5)  # the 413, and nothing after it
    assert answer.startswith(b"HTTP/1.1 413 ") and answer.count(b"HTTP/1.1") == 1, answer[:300]


def test_beyond_the_concurrency_limit_clients_get_an_api_shaped_529() -> None:
    with ServerThread(ScriptedBackend(), server_options={"header_timeout": 30.0, "limit_concurrency": 4}) as server:
        held = [socket.create_connection(("127.0.0.1", server.port)) for _ in range(4)]
        try:
            time.sleep(0.2)
            response = httpx2.get(server.base_url + "/v1/models", headers={"anthropic-version": "1"})
            assert response.status_code == 529 and response.headers["x-should-retry"] == "true"
            assert response.json()["error"]["type"] == "overloaded_error" and response.headers["request-id"].startswith("req_")
        finally:
            for sock in held:
                sock.close()
        time.sleep(0.2)
        assert httpx2.get(server.base_url + "/v1/models", headers={"anthropic-version": "1"}).status_code == 200


def test_serve_raises_the_descriptor_limit_so_idle_sockets_lock_nobody_out(tmp_path) -> None:
    """``claudewire serve`` started with a soft limit of 256 open files: it raises it to the
    hard limit, so 600 idle connections do not lock a real client out, and closes them."""
    hard = min(resource.getrlimit(resource.RLIMIT_NOFILE)[1], 4096)
    if hard < 1024:
        pytest.skip(f"the hard descriptor limit here is {hard}; the test needs 1024")

    def low_limit() -> None:
        resource.setrlimit(resource.RLIMIT_NOFILE, (256, hard))

    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "claudewire.cli", "serve", "--backend", "scripted", "--port", "0",
                             "--header-timeout", "2", "--log-level", "warning"],
                            stderr=subprocess.PIPE, text=True, preexec_fn=low_limit, env=env)
    socks: list[socket.socket] = []
    try:
        line = proc.stderr.readline()
        port = int(re.search(r":(\d+)\s*$", line.strip()).group(1))
        threading.Thread(target=proc.stderr.read, daemon=True).start()  # a full pipe would block the server
        limits = open(f"/proc/{proc.pid}/limits").read()
        soft_now = int(re.search(r"Max open files\s+(\d+)\s+(\d+)", limits).group(1))
        assert soft_now == hard
        socks = [socket.create_connection(("127.0.0.1", port)) for _ in range(600)]
        time.sleep(0.5)
        response = httpx2.get(f"http://127.0.0.1:{port}/v1/models", headers={"anthropic-version": "1"}, timeout=10)
        assert response.status_code == 200
        assert wait_all_closed(socks, 8.0) == 600
    finally:
        for sock in socks:
            sock.close()
        proc.terminate()
        proc.wait(10)
