"""The whole receive path in one sans-IO object: bytes in, stream events out.

Clients (sync and async alike) only read bytes from their transport, ``feed`` them here,
and hand on what comes back; every decision about the stream is made here.
"""

from __future__ import annotations

from collections.abc import Iterator

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

    def iter_events(self, chunk: bytes, *, raw: bool = False, after: int = 0) -> Iterator[MessageStreamEvent]:
        """The events of one chunk, each folded into the snapshot only as it is handed on.

        Lazy on purpose: while the caller handles event N, ``message`` reflects exactly events
        1..N, however many events the chunk held. ``raw`` hands on only the API's own events
        (as ``messages.create(stream=True)``); otherwise each comes with its derived events.
        ``after``: the events of SSE ids up to it only build the snapshot (a reader attaching
        to a resumable stream mid-way still sees the whole message).
        """
        fold = self.accumulator.feed
        for sse in self.sse.feed(chunk):
            event = decode_event(sse)
            derived = fold(event)
            if after and _id_at_most(sse.id, after):
                continue
            if raw:
                yield event
            else:
                yield from derived

    def feed(self, chunk: bytes) -> list[MessageStreamEvent]:
        """All the events of one chunk at once (the snapshot then reflects the whole chunk)."""
        return list(self.iter_events(chunk))

    def feed_raw(self, chunk: bytes) -> list[MessageStreamEvent]:
        """Like ``feed``, but only the raw events."""
        return list(self.iter_events(chunk, raw=True))

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
        it is kept in ``unterminated`` for diagnostics. Its id does not become the last event
        id: a resume must ask for that event again."""
        last_event_id = self.sse.last_event_id
        self.unterminated = self.sse.flush()
        self.sse.last_event_id = last_event_id

    @property
    def message(self) -> Message | None:
        return self.accumulator.message

    @property
    def complete(self) -> bool:
        return self.accumulator.complete



def _id_at_most(event_id: str | None, after: int) -> bool:
    return event_id is not None and event_id.isdigit() and int(event_id) <= after
