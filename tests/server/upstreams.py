"""Upstreams for the proxy tests: real servers over loopback.

``SpyApp`` wraps the real server app and notes each request as it arrived (method, path,
headers, body bytes), so a test can see what the proxy sent. ``BrokenUpstream`` is a raw
socket server for the faults no well-behaved server produces: a TCP connection cut in
the middle of an event, or silence with no pings.
"""

from __future__ import annotations

import socket
import time
from dataclasses import dataclass
from typing import Any

from ..rawhttp import RawServer, read_request

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


class BrokenUpstream(RawServer):
    """Answers every request with a 200 event stream that breaks after two and a half events:
    ``mode="cut"`` closes the TCP connection there; ``mode="stall"`` goes silent for ``seconds``."""

    threaded = True
    ignore_os_errors = False

    def __init__(self, mode: str, seconds: float = 5.0) -> None:
        super().__init__()
        self.mode, self.seconds = mode, seconds
        self.start()

    def handle(self, conn: socket.socket) -> None:
        if read_request(conn) is None:
            return
        conn.sendall(b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream; charset=utf-8\r\nrequest-id: req_broken\r\n"
                     b"transfer-encoding: chunked\r\n\r\n")
        for piece in (EVENTS[0] + EVENTS[1], EVENTS[2][:30]):
            conn.sendall(b"%x\r\n%s\r\n" % (len(piece), piece))
        if self.mode == "stall":
            time.sleep(self.seconds)
        conn.shutdown(socket.SHUT_RDWR)

