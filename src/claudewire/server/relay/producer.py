"""The producer: runs one generation detached from any connection and writes its log.

It owns the backend's event iterator. Each event gets its position (1, 2, ...) as SSE id
and goes to an outbox that one flusher drains into the store, so a slow store (a Redis
round trip) batches events instead of slowing the generation. The API's first ping,
right after the first content block starts, is an event of the log like any other.

It stops early, closing the backend's iterator (so the local model stops computing) when
a cancel arrives, when no reader has been attached for --detach-timeout seconds, or when
the store cannot take more; the log then ends with an ``event: error`` saying why.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from typing import Any

from ..errors import APIErrorResponse
from ..faults import CUT
from .log import CANCELLED, CANCELLED_ERROR, ENDED, Store, StoreFull, StoreUnavailable, error_event, event_frame, ping_frame

log = logging.getLogger("claudewire.server.relay")


class _Outbox:
    """Frames waiting for the store, flushed in batches by one task."""

    def __init__(self, store: Store, stream_id: str) -> None:
        self.store = store
        self.stream_id = stream_id
        self.frames: list[bytes] = []
        self.ready = asyncio.Event()
        self.closed = False
        self.failure: BaseException | None = None
        self.task = asyncio.ensure_future(self._flush())

    def put(self, frame: bytes) -> None:
        self.frames.append(frame)
        self.ready.set()

    async def _flush(self) -> None:
        try:
            while True:
                await self.ready.wait()
                self.ready.clear()
                batch, self.frames = self.frames, []
                if batch:
                    await self.store.append(self.stream_id, batch)
                if self.closed and not self.frames:
                    return
        except BaseException as exc:  # the producer sees it on its next event
            self.failure = exc

    async def close(self) -> None:
        self.closed = True
        self.ready.set()
        await asyncio.gather(self.task, return_exceptions=True)


async def produce(
    store: Store,
    stream_id: str,
    first: dict[str, Any],
    events: AsyncIterator[dict[str, Any]],
    *,
    request_id: str,
    detach_timeout: float,
) -> None:
    """Generate into the log until the message ends or the producer is stopped."""
    cancel = store.cancel_signal(stream_id)
    outbox = _Outbox(store, stream_id)
    count = 0
    state = ENDED
    tail: dict[str, Any] | None = None  # the closing error when the producer is stopped

    def put(event: dict[str, Any]) -> None:
        nonlocal count
        count += 1
        outbox.put(event_frame(count, event))

    check_every = min(1.0, max(0.05, detach_timeout / 4))
    next_check = time.monotonic() + check_every
    pending: asyncio.Future[dict[str, Any]] | None = None
    cancelled = asyncio.ensure_future(cancel.wait())
    try:
        put(first)
        pinged = False
        while True:
            if outbox.failure is not None:
                raise outbox.failure
            if pending is None:
                pending = asyncio.ensure_future(events.__anext__())
            await asyncio.wait((pending, cancelled), timeout=check_every, return_when=asyncio.FIRST_COMPLETED)
            if cancel.is_set():
                state, tail = CANCELLED, error_event(CANCELLED_ERROR, "The stream was cancelled.", request_id)
                break
            if time.monotonic() >= next_check:
                next_check = time.monotonic() + check_every
                if await store.idle_for(stream_id) >= detach_timeout:
                    message = f"The stream was cancelled: no reader for {detach_timeout:g} s (--detach-timeout)."
                    state, tail = CANCELLED, error_event(CANCELLED_ERROR, message, request_id)
                    break
            if not pending.done():
                continue
            future, pending = pending, None
            try:
                event = future.result()
            except StopAsyncIteration:
                break
            if event is CUT:  # a fault for connections; the generation itself goes on
                continue
            if event["type"] == "error":
                event.setdefault("request_id", request_id)
            put(event)
            if event["type"] == "error":
                break
            if not pinged and event["type"] == "content_block_start":
                pinged = True
                count += 1
                outbox.put(ping_frame(count))
    except APIErrorResponse as exc:
        tail = exc.body(request_id)
    except StoreFull:
        tail = error_event("api_error", "The stream outgrew the relay's store (--store-max-bytes); generation stopped.", request_id)
    except StoreUnavailable as exc:
        log.error("stream %s: the store went away: %s", stream_id, exc)
    except Exception:
        log.exception("stream %s failed", stream_id)
        tail = error_event("api_error", "Internal server error", request_id)
    finally:
        cancelled.cancel()
        if pending is not None:
            pending.cancel()
            await asyncio.gather(pending, return_exceptions=True)
        await events.aclose()  # type: ignore[attr-defined]
        await outbox.close()
        await _close_log(store, stream_id, count, tail, state, outbox.failure)


async def _close_log(store: Store, stream_id: str, count: int, tail: dict[str, Any] | None, state: str, failure: Any) -> None:
    """End the log, with the closing error if there is one (stored past the bound: it is small)."""
    if tail is None and isinstance(failure, StoreFull):
        tail = error_event("api_error", "The stream outgrew the relay's store (--store-max-bytes); generation stopped.", "")
    try:
        await store.finish(stream_id, state, None if tail is None else event_frame(count + 1, tail))
    except StoreUnavailable as exc:
        log.error("stream %s: could not close its log: %s", stream_id, exc)
    except Exception:
        log.exception("stream %s: could not close its log", stream_id)
