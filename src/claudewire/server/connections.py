"""The HTTP connection itself: what uvicorn does before the app runs, made safe and API-shaped.

``GuardedHttpProtocol`` is uvicorn's httptools protocol (llhttp, the C parser of Node.js)
with these changes:

- a **header timeout**: a connection whose request line and headers have not all arrived
  within ``header_timeout`` seconds of being opened (or of its previous response) is
  closed, with an API-shaped 408 if it had sent anything. Slowloris connections and idle
  fresh connections no longer live forever (uvicorn's own keep-alive timer only starts
  after a first response);
- a **header size limit**: a request line and headers longer than ``MAX_HEADER_BYTES`` get
  an API-shaped 431, as soon as they pass it (the parser itself would buffer them without end);
- **concurrency beyond ``limit_concurrency``** (connections or requests in flight) gets
  the API's 529 ``overloaded_error``, which clients retry, instead of uvicorn's plain-text
  503;
- **malformed HTTP** that the parser rejects gets a 400 ``invalid_request_error`` JSON body
  instead of uvicorn's plain text;
- **TCP_NODELAY** on every connection, also on sockets the server was handed.

Why httptools and not h11: a streamed reply sends one small chunk per token, and h11 frames
each in Python (an event object, a state machine, a writer). With httptools uvicorn frames a
chunk in three lines; the event loop's CPU per token (which on a 2-core machine comes out of
the model's own step) fell by 10–15%.
"""

from __future__ import annotations

import logging
import resource
import socket
from http import HTTPStatus
from typing import Any

import msgspec
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from . import defaults, ids
from .errors import APIErrorResponse

log = logging.getLogger("claudewire.server")
DEFAULT_HEADER_TIMEOUT = defaults.HEADER_TIMEOUT
DEFAULT_LIMIT_CONCURRENCY = defaults.LIMIT_CONCURRENCY
MAX_HEADER_BYTES = 64 * 1024  # request line and headers; h11's default limit was 16 KiB, Node's is 16 KiB too


def error_bytes(error: APIErrorResponse) -> tuple[list[tuple[bytes, bytes]], bytes]:
    request_id = ids.request_id()
    body = msgspec.json.encode(error.body(request_id))
    headers = [
        (b"content-type", b"application/json"),
        (b"request-id", request_id.encode()),
        *((k.encode(), v.encode()) for k, v in error.response_headers().items()),
        (b"connection", b"close"),
    ]
    return headers, body


def overloaded_app(limit: int) -> Any:
    """The ASGI app a request gets when the server is at ``limit``: a 529 in the API's shape."""
    error = APIErrorResponse(529, f"Overloaded: the server is at its limit of {limit} concurrent connections.")

    async def app(scope: Any, receive: Any, send: Any) -> None:
        headers, body = error_bytes(error)
        headers.append((b"content-length", str(len(body)).encode()))
        await send({"type": "http.response.start", "status": 529, "headers": headers})
        await send({"type": "http.response.body", "body": body, "more_body": False})

    return app


class HeadersTooLarge(Exception):
    """Raised from a parser callback: the request line and headers passed ``MAX_HEADER_BYTES``."""


class GuardedHttpProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with a header timeout and size limit, an API-shaped 529,
    431 and 400 (see the module doc).

    Pass it as uvicorn's ``http``. It reads uvicorn's own ``limit_concurrency`` (and takes
    over answering it) and ``header_timeout``, an attribute ``run.py`` sets on the config.
    """

    def __init__(self, config: Any, *args: Any, **kwargs: Any) -> None:
        super().__init__(config, *args, **kwargs)
        self.max_concurrency: int | None = self.limit_concurrency
        self.limit_concurrency = None  # uvicorn's plain-text 503 never fires: ``app`` answers 529 instead
        self.header_timeout: float = getattr(config, "header_timeout", DEFAULT_HEADER_TIMEOUT)
        self._header_timer: Any = None
        # Where the parser is: "idle" between requests, "headers" from a request's first byte to
        # the end of its headers, "body" until the request's last byte (which may come after
        # an early answer, a 413 say: those bytes are read and dropped, and are no headers).
        self._phase = "idle"
        self._header_bytes = 0  # of the request line and headers, as uvicorn keeps them

    # uvicorn reads ``self.app`` once per request, when its headers are in: the place to
    # choose between the app and the 529 without copying uvicorn's parser callbacks.
    @property  # type: ignore[override]
    def app(self) -> Any:
        limit = getattr(self, "max_concurrency", None)
        if limit is not None and (len(self.connections) > limit or len(self.tasks) >= limit):
            log.warning("concurrency limit of %d reached: answering 529", limit)
            return overloaded_app(limit)
        return self._app

    @app.setter
    def app(self, value: Any) -> None:
        self._app = value

    def connection_made(self, transport: Any) -> None:  # type: ignore[override]
        super().connection_made(transport)
        sock = transport.get_extra_info("socket")
        if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
            # A server started on a socket it was handed (``serve``'s, the test thread's) gets
            # connections without TCP_NODELAY; then every small response waits for the
            # client's delayed ACK: 40 ms per request.
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._arm_header_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm_header_timer()
        super().connection_lost(exc)

    # -- the parser's callbacks -----------------------------------------------------------

    def on_message_begin(self) -> None:
        self._phase, self._header_bytes = "headers", 0
        super().on_message_begin()

    def on_url(self, url: bytes) -> None:
        self._count_header_bytes(len(url))
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        self._count_header_bytes(len(name) + len(value) + 4)  # with ": " and CRLF
        super().on_header(name, value)

    def _count_header_bytes(self, n: int) -> None:
        """Past the limit the parser stops (a callback that raises does that), and uvicorn's
        answer to a parser error, ``send_400_response``, becomes the 431."""
        self._header_bytes += n
        if self._header_bytes > MAX_HEADER_BYTES:
            raise HeadersTooLarge

    def on_headers_complete(self) -> None:
        self._phase = "body"
        self._disarm_header_timer()
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        self._phase = "idle"
        super().on_message_complete()
        if not self._responding() and not self.transport.is_closing():
            self._arm_header_timer()  # answered early (a 413): the next request's deadline starts now

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if self._phase != "body" and not self.transport.is_closing():
            self._arm_header_timer()  # the next request's headers (or their rest, if pipelined) get the same deadline

    def send_400_response(self, msg: str) -> None:
        if self._header_bytes > MAX_HEADER_BYTES:
            self._send_error(APIErrorResponse(431, f"The request line and headers are longer than {MAX_HEADER_BYTES} bytes."))
        else:
            self._send_error(APIErrorResponse(400, f"{msg} The request is not valid HTTP/1.1."))

    def _responding(self) -> bool:
        return self.cycle is not None and not self.cycle.response_complete

    # -- the header deadline ------------------------------------------------------------

    def _arm_header_timer(self) -> None:
        self._disarm_header_timer()
        if self.header_timeout:
            self._header_timer = self.loop.call_later(self.header_timeout, self._headers_too_slow)

    def _disarm_header_timer(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _headers_too_slow(self) -> None:
        self._header_timer = None
        if self.transport.is_closing() or self._phase == "body":
            return
        if self._phase == "headers" and not self._responding():
            self._send_error(APIErrorResponse(408, f"The request headers did not arrive within {self.header_timeout:g} seconds."))
        else:
            self.transport.close()

    def _send_error(self, error: APIErrorResponse) -> None:
        """Answer before (or instead of) the app, then close: the connection's framing is lost.
        A response already under way is only cut."""
        if not self._responding() or not self.cycle.response_started:
            headers, body = error_bytes(error)
            headers.append((b"content-length", str(len(body)).encode()))
            head = [b"HTTP/1.1 %d %s\r\n" % (error.status, HTTPStatus(error.status).phrase.encode())]
            head += [name + b": " + value + b"\r\n" for name, value in headers]
            self.transport.write(b"".join(head) + b"\r\n" + body)
        self.transport.close()


def raise_fd_limit() -> tuple[int, int]:
    """Raise the soft limit on open files to the hard limit (each connection holds one);
    returns (soft, hard) as they now are."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != hard:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
            soft = hard
        except (ValueError, OSError):
            log.warning("could not raise the open-file limit from %d to %d", soft, hard)
    return soft, hard
