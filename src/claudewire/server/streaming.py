"""Events to SSE bytes on the wire: keep-alive pings, in-band errors, and client disconnects."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from typing import Any

import msgspec

from ..protocol.sse import encode_event
from .errors import APIErrorResponse
from .faults import CUT

log = logging.getLogger("claudewire.server")
PING = b'event: ping\ndata: {"type": "ping"}\n\n'
_encode = msgspec.json.Encoder().encode


def frame(event: dict[str, Any]) -> bytes:
    return encode_event(event["type"], _encode(event))


def error_frame(error: APIErrorResponse, request_id: str) -> bytes:
    return frame(error.body(request_id))


async def sse_body(first: dict[str, Any], events: AsyncIterator[dict[str, Any]], *, request_id: str) -> AsyncIterator[bytes]:
    """The body of a streamed response, ``first`` (message_start) included.

    One ping right after the first content_block_start (the keep-alive pings are
    ``EventStreamResponse``'s). A failure after the 200 becomes ``event: error`` and the
    body ends there, with no message_stop.
    """
    yield frame(first)
    pinged = False
    try:
        async for event in events:
            if event is CUT:
                return
            if event["type"] == "error":
                event.setdefault("request_id", request_id)
                yield frame(event)
                return
            yield frame(event)
            if not pinged and event["type"] == "content_block_start":
                pinged = True
                yield PING
    except APIErrorResponse as exc:
        yield error_frame(exc, request_id)
    except Exception:
        log.exception("stream %s failed after the 200", request_id)
        yield error_frame(APIErrorResponse(500, "Internal server error"), request_id)
    finally:
        await events.aclose()  # type: ignore[attr-defined]


class EventStreamResponse:
    """An ASGI response that races its body against ``http.disconnect``.

    When the client goes away the body is cancelled at once and closed, so the backend's
    ``finally`` runs and generation stops, even between two sends. With ``ping_interval``,
    a ping goes out whenever nothing was sent for that long (proxies drop idle connections).
    The pings come from a timer, not from a race around every event: an event costs the
    event loop one step, which matters when tokens come every few milliseconds.
    """

    def __init__(self, body: AsyncIterator[bytes], headers: dict[str, str], ping_interval: float | None = None) -> None:
        self.body = body
        self.headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]
        self.ping_interval = ping_interval

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        async def pump() -> None:
            await send({"type": "http.response.start", "status": 200, "headers": self.headers})
            keepalive = KeepAlive(send, self.ping_interval)
            try:
                async for chunk in self.body:
                    await keepalive.send(chunk)
            finally:
                await keepalive.stop()
            await send({"type": "http.response.body", "body": b"", "more_body": False})

        try:
            pumping = await unless_disconnected(receive, pump())
        finally:
            await self.body.aclose()  # type: ignore[attr-defined]
        if not pumping.cancelled() and pumping.exception() is not None:
            exc = pumping.exception()
            if not isinstance(exc, OSError):
                raise exc  # type: ignore[misc]


class KeepAlive:
    """Pings on an idle response body: a timer checks, at the moment the body would have been
    idle for ``interval``, whether anything was sent since, and pings only if not (and never
    while a chunk is still on its way out). Without an interval it only sends."""

    def __init__(self, send: Any, interval: float | None) -> None:
        self._send = send
        self._interval = interval
        self._loop = asyncio.get_running_loop()
        self._busy = False  # a send is under way (it may wait for the socket): no ping between
        self._last = self._loop.time()
        self._pinging: asyncio.Task[None] | None = None
        self._timer = self._loop.call_at(self._last + interval, self._check) if interval else None

    async def send(self, chunk: bytes) -> None:
        self._busy = True
        try:
            await self._send({"type": "http.response.body", "body": chunk, "more_body": True})
        finally:
            self._busy = False
            self._last = self._loop.time()

    def _check(self) -> None:
        assert self._interval
        due = self._last + self._interval
        if self._loop.time() >= due:
            if not self._busy and (self._pinging is None or self._pinging.done()):
                self._pinging = asyncio.ensure_future(self.send(PING))
            due = self._loop.time() + self._interval
        self._timer = self._loop.call_at(due, self._check)

    async def stop(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
        if self._pinging is not None:
            self._pinging.cancel()
            await asyncio.gather(self._pinging, return_exceptions=True)


async def unless_disconnected(receive: Any, work: Any) -> asyncio.Future[Any]:
    """Run ``work`` until it ends or the client disconnects, which cancels it at once.

    Returns the finished (or cancelled) task; ``receive`` must have no request body left.
    """
    task = asyncio.ensure_future(work)

    async def client_left() -> None:
        while (await receive())["type"] != "http.disconnect":
            pass

    watcher = asyncio.ensure_future(client_left())
    try:
        await asyncio.wait((task, watcher), return_when=asyncio.FIRST_COMPLETED)
    finally:
        watcher.cancel()
        task.cancel()  # a no-op when it has finished
        await asyncio.gather(watcher, task, return_exceptions=True)
    return task
