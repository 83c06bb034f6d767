"""The relay's HTTP face: the resumable POST, ``GET /v1/messages/streams/{id}`` and cancel.

Every response is a reader of the stream's log, the POST's own included, so the POST's
connection can break without touching the generation. A reader that is idle gets the
API's ping (without an id, so ``Last-Event-ID`` stays on the last real event); a store
that fails mid-read ends the body with ``event: error`` (``api_error``), never a hang.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator
from typing import Any

import msgspec
from starlette.requests import Request
from starlette.responses import Response

from ..errors import APIErrorResponse, invalid
from ..streaming import PING, EventStreamResponse, frame
from .log import (
    OPEN,
    RelayOptions,
    Store,
    StoreFull,
    StoreUnavailable,
    StreamExpired,
    StreamNotFound,
    error_event,
    is_delta,
    new_stream_id,
    owner_of,
)
from .producer import produce

log = logging.getLogger("claudewire.server.relay")
RESUMABLE_HEADER = "x-claudewire-resumable"
STREAM_ID_HEADER = "x-claudewire-stream-id"
CANCEL_WAIT = 2.0  # the cancel answer waits this long for the producer to confirm
_encode = msgspec.json.Encoder().encode


def wants_resume(request: Request) -> bool:
    return request.headers.get(RESUMABLE_HEADER, "").strip().lower() == "true"


def presented_key(request: Request) -> str | None:
    key = request.headers.get("x-api-key")
    if key is None:
        auth = request.headers.get("authorization", "")
        key = auth[7:] if auth[:7].lower() == "bearer " else None
    return key


def open_store(options: RelayOptions) -> Store:
    if options.store == "memory":
        from .memory import MemoryStore

        return MemoryStore(resume_ttl=options.resume_ttl, max_bytes=options.store_max_bytes)
    if options.store.startswith(("redis://", "rediss://", "unix://")):
        try:
            from .redis import RedisStore
        except ImportError:
            raise RuntimeError("the Redis store needs the redis package: pip install 'claudewire[redis]'") from None
        return RedisStore(options.store, resume_ttl=options.resume_ttl, detach_timeout=options.detach_timeout)
    raise ValueError(f"unknown store {options.store!r}: use 'memory' or a redis://host:port/db URL")


class Relay:
    """The store, the producers running in this process, and the three handlers."""

    def __init__(self, options: RelayOptions | dict[str, Any] | None, *, ping_interval: float) -> None:
        self.options = RelayOptions.of(options)
        self.store = open_store(self.options)
        self.ping_interval = ping_interval
        self.producers: set[asyncio.Task[None]] = set()

    async def aclose(self) -> None:
        for task in list(self.producers):
            task.cancel()
        await asyncio.gather(*self.producers, return_exceptions=True)
        await self.store.aclose()

    # -- POST /v1/messages with x-claudewire-resumable: true ------------------------------

    async def start(
        self, request: Request, first: dict[str, Any], events: Any, *, request_id: str, headers: dict[str, str], cut_after: int | None
    ) -> Response:
        stream_id = new_stream_id()
        try:
            await self.store.create(stream_id, owner_of(presented_key(request)))
        except BaseException as exc:
            await events.aclose()
            if isinstance(exc, StoreFull):
                raise APIErrorResponse(529, "The relay's stream store is full (--store-max-bytes); try again later.") from None
            if isinstance(exc, StoreUnavailable):
                raise _unavailable(exc) from None
            raise
        task = asyncio.ensure_future(
            produce(self.store, stream_id, first, events, request_id=request_id, detach_timeout=self.options.detach_timeout)
        )
        self.producers.add(task)
        task.add_done_callback(self.producers.discard)
        body = self.reader(stream_id, 0, request_id, cut_after)
        return EventStreamResponse(body, {**headers, STREAM_ID_HEADER: stream_id})

    async def reader(self, stream_id: str, after: int, request_id: str, cut_after: int | None = None) -> AsyncIterator[bytes]:
        """One reader's body. ``cut_after``: the ``disconnect_after`` fault, which breaks this
        connection (not the generation) after that many deltas."""
        deltas = 0
        opened = after > 0  # the reader's client has its message_start
        last_sent = time.monotonic()
        try:
            wait = min(1.0, self.ping_interval)  # also how often a reader tells the producer it is there
            async with contextlib.aclosing(self.store.follow(stream_id, after, wait)) as batches:
                async for batch in batches:
                    if not batch:
                        # The API's stream opens with message_start: a keep-alive ping waits for it
                        # (a reader from the start has nothing before it; a busy store can take a moment).
                        if opened and time.monotonic() - last_sent >= self.ping_interval:
                            last_sent = time.monotonic()
                            yield PING
                        continue
                    if cut_after is not None:
                        pieces = [piece + b"\n\n" for piece in b"".join(batch).split(b"\n\n")[:-1]]
                        for i, piece in enumerate(pieces):
                            if is_delta(piece):
                                if deltas == cut_after:
                                    if i:
                                        yield b"".join(pieces[:i])
                                    return
                                deltas += 1
                    last_sent, opened = time.monotonic(), True
                    yield b"".join(batch)
        except StoreUnavailable as exc:
            log.error("stream %s: the store went away while reading: %s", stream_id, exc)
            yield frame(error_event("api_error", "The stream store is unavailable; the stream cannot be read now.", request_id))

    # -- GET /v1/messages/streams/{id} and POST .../cancel ---------------------------------

    async def lookup(self, request: Request) -> tuple[str, Any]:
        stream_id = request.path_params["stream_id"]
        try:
            return stream_id, await self.store.lookup(stream_id, owner_of(presented_key(request)))
        except StreamExpired:
            raise APIErrorResponse(
                404, f"stream {stream_id} has expired: finished streams are kept for {self.options.resume_ttl:g} s (--resume-ttl)."
            ) from None
        except StreamNotFound:
            raise APIErrorResponse(404, f"stream: {stream_id}") from None
        except StoreUnavailable as exc:
            raise _unavailable(exc) from None


def _after(request: Request) -> int:
    """Where a reader resumes: ``Last-Event-ID`` (what EventSource resends), else ``?after=``."""
    raw = request.headers.get("last-event-id")
    name = "Last-Event-ID"
    if raw is None:
        raw, name = request.query_params.get("after"), "after"
    if raw is None or raw.strip() == "":
        return 0
    raw = raw.strip()
    if not (raw.isascii() and raw.isdigit()):
        raise invalid(f"{name}: expected the id of an event (a whole number >= 0), got {raw[:40]!r}")
    return int(raw)


def _unavailable(exc: BaseException) -> APIErrorResponse:
    """The details (hosts, ports) go to the log, not to the client."""
    log.error("the stream store is unavailable: %s", exc)
    return APIErrorResponse(503, "The stream store is unavailable; resumable streams cannot be served now.", type="api_error")


async def read_stream(request: Request, config: Any, request_id: str) -> Response:
    relay: Relay = config.relay
    after = _after(request)
    stream_id, info = await relay.lookup(request)
    headers = {"request-id": request_id, STREAM_ID_HEADER: stream_id}
    if info.state != OPEN and after >= info.events:  # nothing left: 204 also tells an EventSource to stop
        return Response(status_code=204, headers=headers)
    headers.update({"content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache"})
    return EventStreamResponse(relay.reader(stream_id, after, request_id), headers)


async def cancel_stream(request: Request, config: Any, request_id: str) -> Response:
    relay: Relay = config.relay
    stream_id, info = await relay.lookup(request)
    state = info.state
    try:
        if state == OPEN:
            await relay.store.request_cancel(stream_id)
            state = await relay.store.wait_finished(stream_id, CANCEL_WAIT)
    except StoreUnavailable as exc:
        raise _unavailable(exc) from None
    body = {"type": "message_stream", "id": stream_id, "state": state}
    return Response(_encode(body), 200, headers={"request-id": request_id}, media_type="application/json")
