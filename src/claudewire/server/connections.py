"""The HTTP connection itself: what uvicorn does before the app runs, made safe and API-shaped.

``GuardedH11Protocol`` is uvicorn's h11 protocol with three changes:

- a **header timeout**: a connection whose request line and headers have not all arrived
  within ``header_timeout`` seconds of being opened (or of its previous response) is
  closed, with an API-shaped 408 if it had sent anything. Slowloris connections and idle
  fresh connections no longer live forever (uvicorn's own keep-alive timer only starts
  after a first response);
- **concurrency beyond ``limit_concurrency``** (connections or requests in flight) gets
  the API's 529 ``overloaded_error``, which clients retry, instead of uvicorn's plain-text
  503;
- **malformed HTTP** that h11 rejects gets a 400 ``invalid_request_error`` JSON body
  instead of uvicorn's plain text;
- **TCP_NODELAY** on every connection, also on sockets the server was handed.
"""

from __future__ import annotations

import logging
import resource
import socket
from http import HTTPStatus
from typing import Any

import h11
import msgspec
from uvicorn.protocols.http.h11_impl import H11Protocol

from . import defaults, ids
from .errors import APIErrorResponse

log = logging.getLogger("claudewire.server")
DEFAULT_HEADER_TIMEOUT = defaults.HEADER_TIMEOUT
DEFAULT_LIMIT_CONCURRENCY = defaults.LIMIT_CONCURRENCY


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


class GuardedH11Protocol(H11Protocol):
    """uvicorn's h11 protocol with a header timeout, an API-shaped 529 and 400 (see the module doc).

    Pass it as uvicorn's ``http``. It reads uvicorn's own ``limit_concurrency`` (and takes
    over answering it) and ``header_timeout``, an attribute ``run.py`` sets on the config.
    """

    def __init__(self, config: Any, *args: Any, **kwargs: Any) -> None:
        super().__init__(config, *args, **kwargs)
        self.max_concurrency: int | None = self.limit_concurrency
        self.limit_concurrency = None  # uvicorn's plain-text 503 never fires: ``app`` answers 529 instead
        self.header_timeout: float = getattr(config, "header_timeout", DEFAULT_HEADER_TIMEOUT)
        self._header_timer: Any = None
        self._received_any = False

    # uvicorn reads ``self.app`` once per request, when its headers are in: the place to
    # choose between the app and the 529 without copying uvicorn's event loop.
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

    def data_received(self, data: bytes) -> None:
        self._received_any = True
        super().data_received(data)

    def handle_events(self) -> None:
        super().handle_events()
        if self.conn.their_state is not h11.IDLE:  # a request's headers are in (or the connection is done)
            self._disarm_header_timer()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing() and self.conn.their_state is h11.IDLE:
            self._received_any = False
            self._arm_header_timer()  # the next request's headers get the same deadline

    def send_400_response(self, msg: str) -> None:
        self._send_error(APIErrorResponse(400, f"{msg} The request is not valid HTTP/1.1."))

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
        if self.transport.is_closing() or self.conn.their_state is not h11.IDLE:
            return
        if self._received_any and self.conn.our_state is h11.IDLE:
            self._send_error(APIErrorResponse(408, f"The request headers did not arrive within {self.header_timeout:g} seconds."))
        else:
            self.transport.close()

    def _send_error(self, error: APIErrorResponse) -> None:
        """Answer before (or instead of) the app, then close: the connection's framing is lost."""
        if self.conn.our_state is h11.IDLE or self.conn.our_state is h11.SEND_RESPONSE:
            headers, body = error_bytes(error)
            headers.append((b"content-length", str(len(body)).encode()))
            try:
                reason = HTTPStatus(error.status).phrase.encode()
                self.transport.write(self.conn.send(h11.Response(status_code=error.status, headers=headers, reason=reason)))
                self.transport.write(self.conn.send(h11.Data(data=body)))
                self.transport.write(self.conn.send(h11.EndOfMessage()))
            except h11.LocalProtocolError:
                pass
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
