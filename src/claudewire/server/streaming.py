"""Events to SSE bytes on the wire: keep-alive pings, in-band errors, and client disconnects."""

from __future__ import annotations

import asyncio
import logging
import time
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


async def sse_body(
    first: dict[str, Any], events: AsyncIterator[dict[str, Any]], *, ping_interval: float, request_id: str
) -> AsyncIterator[bytes]:
    """The body of a streamed response, ``first`` (message_start) included.

    One ping right after the first content_block_start, then one whenever nothing was
    sent for ``ping_interval`` seconds. A failure after the 200 becomes ``event: error``
    and the body ends there, with no message_stop.
    """
    yield frame(first)
    pinged = False
    last_sent = time.monotonic()
    pending: asyncio.Future[dict[str, Any]] | None = None
    try:
        while True:
            if pending is None:
                pending = asyncio.ensure_future(events.__anext__())
            wait = last_sent + ping_interval - time.monotonic()
            if wait > 0:
                await asyncio.wait((pending,), timeout=wait)
            if not pending.done():
                yield PING
                last_sent = time.monotonic()
                continue
            future, pending = pending, None
            try:
                event = future.result()
            except StopAsyncIteration:
                return
            if event is CUT:
                return
            if event["type"] == "error":
                event.setdefault("request_id", request_id)
            yield frame(event)
            last_sent = time.monotonic()
            if event["type"] == "error":
                return
            if not pinged and event["type"] == "content_block_start":
                pinged = True
                yield PING
    except APIErrorResponse as exc:
        yield error_frame(exc, request_id)
    except Exception:
        log.exception("stream %s failed after the 200", request_id)
        yield error_frame(APIErrorResponse(500, "Internal server error"), request_id)
    finally:
        if pending is not None:
            pending.cancel()
            await asyncio.gather(pending, return_exceptions=True)
        await events.aclose()  # type: ignore[attr-defined]


class EventStreamResponse:
    """An ASGI response that races its body against ``http.disconnect``.

    When the client goes away the body is cancelled at once and closed, so the backend's
    ``finally`` runs and generation stops, even between two sends.
    """

    def __init__(self, body: AsyncIterator[bytes], headers: dict[str, str]) -> None:
        self.body = body
        self.headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        async def pump() -> None:
            await send({"type": "http.response.start", "status": 200, "headers": self.headers})
            async for chunk in self.body:
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
            await send({"type": "http.response.body", "body": b"", "more_body": False})

        try:
            pumping = await unless_disconnected(receive, pump())
        finally:
            await self.body.aclose()  # type: ignore[attr-defined]
        if not pumping.cancelled() and pumping.exception() is not None:
            exc = pumping.exception()
            if not isinstance(exc, OSError):
                raise exc  # type: ignore[misc]


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
