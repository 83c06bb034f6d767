"""Upstreams for the proxy tests: real servers over loopback.

``SpyApp`` wraps the real server app and notes each request as it arrived (method, path,
headers, body bytes), so a test can see what the proxy sent. ``BrokenUpstream`` is a raw
socket server for the faults no well-behaved server produces: a TCP connection cut in
the middle of an event, or silence with no pings.
"""

from __future__ import annotations

import socket
import threading
import time
from dataclasses import dataclass
from typing import Any

EVENTS = (
    b'event: message_start\ndata: {"type":"message_start","message":{"id":"msg_01","type":"message","role":"assistant",'
    b'"model":"claude-sonnet-4-6","content":[],"stop_reason":null,"stop_sequence":null,'
    b'"usage":{"input_tokens":3,"output_tokens":1}}}\n\n',
    b'event: content_block_start\ndata: {"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}\n\n',
    b'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hello"}}\n\n',
)


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    http_version: str = "1.1"
    client: tuple | None = None  # the peer's (host, port): one connection, one port


class SpyApp:
    def __init__(self, app: Any) -> None:
        self.app = app
        self.seen: list[Seen] = []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        chunks = []
        while True:
            message = await receive()
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        self.seen.append(Seen(scope["method"], scope["path"], headers, b"".join(chunks), scope.get("http_version", "1.1"),
                             tuple(scope["client"]) if scope.get("client") else None))
        sent = False

        async def replay() -> Any:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": b"".join(chunks), "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


class BrokenUpstream:
    """Answers every request with a 200 event stream that breaks after two and a half events:
    ``mode="cut"`` closes the TCP connection there; ``mode="stall"`` goes silent for ``seconds``."""

    def __init__(self, mode: str, seconds: float = 5.0) -> None:
        self.mode, self.seconds = mode, seconds
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen()
        self.base_url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._answer, args=(conn,), daemon=True).start()

    def _answer(self, conn: socket.socket) -> None:
        with conn:
            data = b""
            while b"\r\n\r\n" not in data:
                data += conn.recv(65536)
            head, _, rest = data.partition(b"\r\n\r\n")
            length = next((int(line.split(b":")[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length:")), 0)
            while len(rest) < length:
                rest += conn.recv(65536)
            conn.sendall(b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream; charset=utf-8\r\nrequest-id: req_broken\r\n"
                         b"transfer-encoding: chunked\r\n\r\n")
            for piece in (EVENTS[0] + EVENTS[1], EVENTS[2][:30]):
                conn.sendall(b"%x\r\n%s\r\n" % (len(piece), piece))
            if self.mode == "stall":
                time.sleep(self.seconds)
            conn.shutdown(socket.SHUT_RDWR)

    def close(self) -> None:
        self.sock.close()
