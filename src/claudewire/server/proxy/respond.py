"""Answering a request from a pass-through backend (the proxy, or replay).

The reply goes out as it came: status, headers (less hop-by-hop ones) and body bytes.
An event stream is forwarded in whole events, each as soon as its blank line arrived;
if the upstream breaks mid-stream, an in-band ``error`` event (``api_error``, naming the
failure) ends the body, so the client keeps its partial message and gets a typed error.
A client that leaves closes the upstream request at once.

Only when a request asks for something the server adds on top (fault injection with
``--faults``, a resumable stream) is the stream read as events, which then take the
server's own paths (``faults.inject``, ``sse_body``, the relay). Those headers are this
server's business and do not go upstream.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import msgspec
from starlette.requests import Request

from ...protocol.sse import SSEDecoder
from ..errors import APIErrorResponse
from ..faults import inject, raise_before_stream
from ..limits import read_body
from ..relay.routes import RESUMABLE_HEADER, wants_resume
from ..streaming import EventStreamResponse, error_frame, sse_body, unless_disconnected
from .exchange import Call, Reply, UpstreamBroke
from .framing import EventAligner
from .headers import FAULT_HEADERS, client_response_headers

OURS = frozenset({RESUMABLE_HEADER})

_decode = msgspec.json.Decoder().decode


async def forward(request: Request, config: Any, request_id: str) -> Any:
    """The handler of every API route when the backend is a pass-through one."""
    fault, delay = config.faults.select(request.headers) if config.faults else (None, 0.0)
    raise_before_stream(fault)
    ours = OURS | FAULT_HEADERS if config.faults is not None else OURS  # what this server acts on is not the upstream's business
    headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in request.headers.raw if k.decode("latin-1").lower() not in ours]
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    reply = await config.backend.forward(Call(request.method, target, headers, bytes(await read_body(request, config.limits))))
    resumable = reply.status == 200 and reply.is_event_stream and wants_resume(request)
    cut_after = None
    if resumable and fault is not None and fault.kind == "disconnect_after":
        fault, cut_after = None, fault.after  # it breaks the connection, not the generation
    if not (reply.status == 200 and reply.is_event_stream and (fault is not None or delay or resumable)):
        return PassThroughResponse(reply, request_id)
    events = reply_events(reply)
    if fault is not None or delay:
        events = inject(events, fault, delay)
    try:
        first = await events.__anext__()
    except BaseException:
        await events.aclose()
        raise
    request_id = reply.header("request-id") or request_id
    headers_out = dict(client_response_headers(reply.headers, keep_length=False))
    if resumable:
        return await config.relay.start(request, first, events, request_id=request_id, headers=headers_out, cut_after=cut_after)
    body = sse_body(first, events, request_id=request_id)
    return EventStreamResponse(body, headers_out, ping_interval=config.ping_interval)


async def reply_events(reply: Reply) -> AsyncIterator[dict[str, Any]]:
    """An event-stream reply as API events; the server writes its own pings, so the upstream's are dropped."""
    decoder = SSEDecoder()
    try:
        async for chunk in reply.chunks:
            for event in decoder.feed(chunk):
                if event.event != "ping" and event.data:
                    yield _decode(event.data)
    except UpstreamBroke as exc:
        raise APIErrorResponse(500, str(exc), type="api_error") from None
    finally:
        await reply.aclose()


class PassThroughResponse:
    """An ASGI response that forwards a ``Reply`` faithfully, racing it against ``http.disconnect``."""

    def __init__(self, reply: Reply, request_id: str) -> None:
        self.reply = reply
        self.request_id = reply.header("request-id") or request_id
        self.event_stream = reply.is_event_stream
        keep_length = not self.event_stream
        self.headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in client_response_headers(reply.headers, keep_length=keep_length)]

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        try:
            pumping = await unless_disconnected(receive, self._pump(send))
        finally:
            await self.reply.aclose()
        if not pumping.cancelled() and pumping.exception() is not None:
            exc = pumping.exception()
            if not isinstance(exc, OSError):
                raise exc  # type: ignore[misc]

    async def _pump(self, send: Any) -> None:
        await send({"type": "http.response.start", "status": self.reply.status, "headers": self.headers})
        aligner = EventAligner() if self.event_stream else None
        try:
            async with contextlib.aclosing(arrived(self.reply.chunks)) as chunks:
                async for chunk in chunks:
                    if aligner is not None:
                        chunk = aligner.feed(chunk)
                        if not chunk:
                            continue
                    await send({"type": "http.response.body", "body": chunk, "more_body": True})
        except UpstreamBroke as exc:
            if aligner is None:
                raise  # a plain body cannot carry an error: the client sees it cut
            await send({"type": "http.response.body", "body": _broken(exc, self.request_id), "more_body": True})
        else:
            if aligner is not None and aligner.pending:  # an unterminated last event, forwarded as it came
                await send({"type": "http.response.body", "body": aligner.flush(), "more_body": True})
        await send({"type": "http.response.body", "body": b"", "more_body": False})


_END = object()


async def arrived(chunks: AsyncIterator[bytes], depth: int = 32) -> AsyncIterator[bytes]:
    """Everything that has arrived since the last send, joined into one chunk.

    A reader task keeps taking chunks from the upstream while the previous send is under
    way (at most ``depth`` ahead: beyond that, back-pressure reaches the upstream). A
    lone event still goes out alone and at once; a burst goes out in one send, which
    is what keeps a Python proxy up with a fast upstream.
    """
    queue: asyncio.Queue[Any] = asyncio.Queue(depth)

    async def read() -> None:
        try:
            async for chunk in chunks:
                await queue.put(chunk)
        except Exception as exc:  # noqa: BLE001  (handed to the reader of the queue)
            await queue.put(exc)
        else:
            await queue.put(_END)

    reader = asyncio.ensure_future(read())
    try:
        while True:
            pieces = [await queue.get()]
            while pieces[-1] is not _END and not isinstance(pieces[-1], Exception) and not queue.empty():
                pieces.append(queue.get_nowait())
            last = pieces[-1]
            if last is _END or isinstance(last, Exception):
                pieces.pop()
            if pieces:
                yield b"".join(pieces) if len(pieces) > 1 else pieces[0]
            if last is _END:
                return
            if isinstance(last, Exception):
                raise last
    finally:
        reader.cancel()
        await asyncio.gather(reader, return_exceptions=True)


def _broken(exc: UpstreamBroke, request_id: str) -> bytes:
    return error_frame(APIErrorResponse(500, str(exc), type="api_error"), request_id)

