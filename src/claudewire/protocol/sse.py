"""Server-Sent Events framing, sans-IO: bytes in, events out; events in, bytes out.

The decoder follows the WHATWG event-stream rules, byte-oriented like the official SDK:
lines end at CR, LF or CRLF (a CRLF split across two chunks counts once), one leading
BOM is dropped, comment lines are ignored, ``field: value`` loses one leading space,
``data`` lines are joined with "\\n", ``id`` is kept unless it holds NUL, ``retry`` is
kept if it is all ASCII digits, and a blank line dispatches an event only if a ``data``
line came: an ``id:``-, ``retry:``- or ``event:``-only block dispatches nothing. (Its
``id`` still becomes ``last_event_id`` and its ``retry`` the ``reconnection_time``, as
WHATWG says; a data-less ``event: ping`` is simply not an event.)

Cost is linear in the input whatever the chunking: a partial line grows in one
``bytearray`` (a byte trickled per chunk costs a byte, not a bytes object) and is read
once, when its line end arrives.
"""

from __future__ import annotations

from dataclasses import dataclass

from .errors import ProtocolError

__all__ = ["SSEDecoder", "SSEError", "EventTooLarge", "ServerSentEvent", "encode_event", "encode_comment"]

_BOM = b"\xef\xbb\xbf"
DEFAULT_MAX_EVENT_BYTES = 64 * 1024 * 1024


class SSEError(ProtocolError):
    """The byte stream is not a usable event stream."""


class EventTooLarge(SSEError):
    def __init__(self, limit: int) -> None:
        super().__init__(f"SSE event exceeds the maximum size of {limit} bytes")
        self.limit = limit


@dataclass(slots=True, frozen=True)
class ServerSentEvent:
    event: str | None = None
    data: str = ""
    id: str | None = None
    retry: int | None = None


class SSEDecoder:
    """Incremental decoder: ``feed(chunk) -> list[ServerSentEvent]``, then ``flush()`` at EOF."""

    __slots__ = (
        "_max",
        "_partial",
        "_skip_lf",
        "_at_start",
        "_event",
        "_data",
        "_id",
        "_retry",
        "_dirty",
        "_event_size",
        "last_event_id",
        "reconnection_time",
    )

    def __init__(self, max_event_bytes: int = DEFAULT_MAX_EVENT_BYTES) -> None:
        self._max = max_event_bytes
        self._partial = bytearray()  # the current, unterminated line
        self._skip_lf = False  # the last chunk ended in CR: a leading LF belongs to it
        self._at_start = True  # a BOM may still come
        self._event: str | None = None
        self._data: list[str] = []
        self._id: str | None = None
        self._retry: int | None = None
        self._dirty = False
        self._event_size = 0
        self.last_event_id: str | None = None
        self.reconnection_time: int | None = None  # the last valid retry: field, in ms

    def feed(self, chunk: bytes) -> list[ServerSentEvent]:
        if self._at_start:
            head = bytes(self._partial) + chunk
            if len(head) < 3 and _BOM.startswith(head):
                self._partial[:] = head
                return []
            self._partial.clear()
            self._at_start = False
            chunk = head[3:] if head.startswith(_BOM) else head
        if self._skip_lf and chunk:
            self._skip_lf = False
            if chunk[0] == 10:  # "\n"
                chunk = chunk[1:]
        if not chunk:
            return []
        events: list[ServerSentEvent] = []
        lines = chunk.splitlines(keepends=True)
        last = lines[-1]
        tail = None
        if last[-1] not in (10, 13):
            tail = lines.pop()
        elif last[-1] == 13:
            self._skip_lf = True
        for raw in lines:
            if self._partial:
                self._partial += raw
                raw = bytes(self._partial)
                self._partial.clear()
            line = raw.rstrip(b"\r\n") if raw[-1] == 10 else raw[:-1]
            if not line:
                if self._dirty:
                    event = self._dispatch()
                    if event is not None:
                        events.append(event)
                continue
            self._event_size += len(line)
            if self._event_size > self._max:
                raise EventTooLarge(self._max)
            self._field(line)
        if tail is not None:
            self._partial += tail
            if len(self._partial) + self._event_size > self._max:
                raise EventTooLarge(self._max)
        return events

    def flush(self) -> ServerSentEvent | None:
        """End of input: return the unterminated event (one with data), if any, for the
        caller to judge.

        WHATWG discards it; the official SDK never sees it. Returning it lets a caller
        report a cut stream precisely.
        """
        if self._partial and not self._at_start:
            line = bytes(self._partial)
            self._partial.clear()
            self._field(line)
        self._partial.clear()
        return self._dispatch() if self._dirty else None

    def _field(self, line: bytes) -> None:
        if line[0] == 58:  # ":" comment
            return
        text = line.decode("utf-8", "replace")
        name, colon, value = text.partition(":")
        if colon and value[:1] == " ":
            value = value[1:]
        if name == "data":
            self._data.append(value)
        elif name == "event":
            self._event = value
        elif name == "id":
            if "\0" in value:
                return
            self._id = value
        elif name == "retry":
            if value.isascii() and value.isdigit():
                self._retry = self.reconnection_time = int(value)
            else:
                return
        else:
            return
        self._dirty = True

    def _dispatch(self) -> ServerSentEvent | None:
        if self._id is not None:
            self.last_event_id = self._id
        sse = ServerSentEvent(self._event, "\n".join(self._data), self.last_event_id, self._retry) if self._data else None
        self._event = None
        self._data = []
        self._id = None
        self._retry = None
        self._dirty = False
        self._event_size = 0
        return sse


def encode_event(
    event: str | None,
    data: str | bytes,
    *,
    id: str | None = None,
    retry: int | None = None,
) -> bytes:
    """Frame one event exactly as the API does: ``event: NAME\\ndata: JSON\\n\\n``."""
    if isinstance(data, str):
        data = data.encode()
    parts: list[bytes] = []
    if id is not None:
        if "\0" in id or "\n" in id or "\r" in id:
            raise ValueError("an SSE id may not contain NUL, CR or LF")
        parts.append(b"id: " + id.encode() + b"\n")
    if event is not None:
        parts.append(b"event: " + event.encode() + b"\n")
    if retry is not None:
        parts.append(b"retry: %d\n" % retry)
    # One line (compact JSON always is: it escapes CR and LF) needs no splitting; this runs per token.
    lines = [data] if b"\n" not in data and b"\r" not in data else data.replace(b"\r\n", b"\n").replace(b"\r", b"\n").split(b"\n")
    for line in lines:
        parts.append(b"data: " + line + b"\n")
    parts.append(b"\n")
    return b"".join(parts)


def encode_comment(text: str = "") -> bytes:
    """A comment line (ignored by every decoder): keeps idle connections alive."""
    return b"".join(b":" + (b" " + line if line else b"") + b"\n" for line in text.encode().split(b"\n")) + b"\n"
