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
from collections.abc import AsyncIterator
from typing import Any

from ..errors import APIErrorResponse
from ..faults import CUT
from .log import CANCELLED, CANCELLED_ERROR, ENDED, Store, StoreFull, StoreUnavailable, error_event, event_frame, ping_frame

log = logging.getLogger("claudewire.server.relay")
PAUSE_EVERY = 64


class _Outbox:
    """Frames numbered and waiting for the store, flushed in batches by one task."""

    def __init__(self, store: Store, stream_id: str) -> None:
        self.store = store
        self.stream_id = stream_id
        self.count = 0  # the id of the last event put
        self.stored = 0  # the id of the last event the store took
        self.frames: list[bytes] = []
        self.ready = asyncio.Event()
        self.failed = asyncio.Event()
        self.closed = False
        self.failure: BaseException | None = None
        self.task = asyncio.ensure_future(self._flush())

    def put(self, event: dict[str, Any]) -> None:
        self.count += 1
        self.frames.append(event_frame(self.count, event))
        self.ready.set()

    def put_ping(self) -> None:
        self.count += 1
        self.frames.append(ping_frame(self.count))

    async def _flush(self) -> None:
        try:
            while True:
                await self.ready.wait()
                self.ready.clear()
                batch, self.frames = self.frames, []
                if batch:
                    await self.store.append(self.stream_id, batch)
                    self.stored += len(batch)
                if self.closed and not self.frames:
                    return
        except Exception as exc:  # the watcher stops the generation
            self.failure = exc
            self.failed.set()

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
    """Generate into the log until the message ends or the producer is stopped.

    The generation runs as its own task in a tight loop; this one only watches, once per
    check interval or at once on a cancel or a store failure, and cancels it if need be.
    """
    cancel = store.cancel_signal(stream_id)
    outbox = _Outbox(store, stream_id)
    generating = asyncio.ensure_future(_generate(first, events, outbox, request_id))
    watched = (generating, asyncio.ensure_future(cancel.wait()), asyncio.ensure_future(outbox.failed.wait()))
    check_every = min(1.0, max(0.05, detach_timeout / 4))
    state, tail = ENDED, None
    try:
        while True:
            await asyncio.wait(watched, timeout=check_every, return_when=asyncio.FIRST_COMPLETED)
            if generating.done():
                tail = generating.result()
                break
            if cancel.is_set():
                reason = "The stream was cancelled."
            elif outbox.failure is not None:
                reason = ""
            elif await store.idle_for(stream_id) >= detach_timeout:
                reason = f"The stream was cancelled: no reader for {detach_timeout:g} s (--detach-timeout)."
            else:
                continue
            generating.cancel()
            await asyncio.gather(generating, return_exceptions=True)  # the backend has stopped when this returns
            if reason:
                state, tail = CANCELLED, error_event(CANCELLED_ERROR, reason, request_id)
            break
    except StoreUnavailable as exc:
        log.error("stream %s: the store went away: %s", stream_id, exc)
    except asyncio.CancelledError:  # the server is shutting down
        tail = error_event("api_error", "The server shut down; generation stopped.", request_id)
        raise
    finally:
        for task in watched:
            task.cancel()
        await asyncio.gather(*watched, return_exceptions=True)
        await outbox.close()
        if isinstance(outbox.failure, StoreFull):
            tail = error_event("api_error", "The stream outgrew the relay's store (--store-max-bytes); generation stopped.", request_id)
        await _close_log(store, stream_id, outbox.stored, tail, state)


async def _generate(first: dict[str, Any], events: AsyncIterator[dict[str, Any]], outbox: _Outbox, request_id: str) -> dict[str, Any] | None:
    """Every event of the backend into the outbox; returns the closing error, if any."""
    try:
        outbox.put(first)
        pinged = False
        since_pause = 0
        async for event in events:
            if event is CUT:  # a fault for connections; the generation itself goes on
                continue
            if event["type"] == "error":
                event.setdefault("request_id", request_id)
                outbox.put(event)
                return None
            outbox.put(event)
            if not pinged and event["type"] == "content_block_start":
                pinged = True
                outbox.put_ping()
            since_pause += 1
            if since_pause == PAUSE_EVERY:  # a backend that never awaits must still let readers run
                since_pause = 0
                await asyncio.sleep(0)
        return None
    except APIErrorResponse as exc:
        return exc.body(request_id)
    except Exception:
        log.exception("stream generation failed")
        return error_event("api_error", "Internal server error", request_id)
    finally:
        await events.aclose()  # type: ignore[attr-defined]


async def _close_log(store: Store, stream_id: str, count: int, tail: dict[str, Any] | None, state: str) -> None:
    """End the log, with the closing error if there is one (stored past the bound: it is small)."""
    try:
        await store.finish(stream_id, state, None if tail is None else event_frame(count + 1, tail))
    except StoreUnavailable as exc:
        log.error("stream %s: could not close its log: %s", stream_id, exc)
    except Exception:
        log.exception("stream %s: could not close its log", stream_id)
