"""The whole receive path in one sans-IO object: bytes in, stream events out.

Clients (sync and async alike) only read bytes from their transport, ``feed`` them here,
and hand on what comes back; every decision about the stream is made here.
"""

from __future__ import annotations

from .accumulator import MessageAccumulator
from .events import MessageStreamEvent, decode_event
from .sse import DEFAULT_MAX_EVENT_BYTES, ServerSentEvent, SSEDecoder
from .types import Message

__all__ = ["EventStreamParser"]


class EventStreamParser:
    __slots__ = ("sse", "accumulator", "unterminated")

    def __init__(self, *, max_event_bytes: int = DEFAULT_MAX_EVENT_BYTES) -> None:
        self.sse = SSEDecoder(max_event_bytes)
        self.accumulator = MessageAccumulator()
        self.unterminated: ServerSentEvent | None = None

    def feed(self, chunk: bytes) -> list[MessageStreamEvent]:
        out: list[MessageStreamEvent] = []
        fold = self.accumulator.feed
        for sse in self.sse.feed(chunk):
            out += fold(decode_event(sse))
        return out

    def feed_raw(self, chunk: bytes) -> list[MessageStreamEvent]:
        """Like ``feed``, but hands on only the raw events (as ``messages.create(stream=True)``)."""
        out: list[MessageStreamEvent] = []
        fold = self.accumulator.feed
        for sse in self.sse.feed(chunk):
            event = decode_event(sse)
            fold(event)
            out.append(event)
        return out

    def feed_after(self, chunk: bytes, after: int, *, raw: bool) -> list[MessageStreamEvent]:
        """As ``feed`` (or ``feed_raw``), but the events of SSE ids up to ``after`` only build
        the snapshot: a reader attaching to a resumable stream mid-way sees a whole message."""
        out: list[MessageStreamEvent] = []
        fold = self.accumulator.feed
        for sse in self.sse.feed(chunk):
            event = decode_event(sse)
            derived = fold(event)
            if sse.id is not None and sse.id.isdigit() and int(sse.id) <= after:
                continue
            if raw:
                out.append(event)
            else:
                out += derived
        return out

    def restart_body(self) -> None:
        """A new body continues this stream (a resume): fresh framing, same snapshot and
        last event id. A partial event left by the broken body is dropped; the server
        sends it again, whole, after the last id."""
        last_event_id = self.sse.last_event_id
        self.sse = SSEDecoder(self.sse._max)
        self.sse.last_event_id = last_event_id

    @property
    def last_event_id(self) -> str | None:
        return self.sse.last_event_id

    def close(self) -> None:
        """End of body. An event with no closing blank line is not dispatched (WHATWG, SDK);
        it is kept in ``unterminated`` for diagnostics."""
        self.unterminated = self.sse.flush()

    @property
    def message(self) -> Message | None:
        return self.accumulator.message

    @property
    def complete(self) -> bool:
        return self.accumulator.complete

