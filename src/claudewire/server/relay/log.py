"""The stream log: what every store offers, the states of a stream, and the wire pieces.

A stream's states (the relay's grammar, one row per transition)::

    state       on                                  becomes      readers see
    ---------   ----------------------------------  -----------  -------------------------------
    (none)      POST with x-claudewire-resumable    open         events as they are appended
    open        message_stop or an in-band error    ended        the log, then the body closes
    open        POST .../cancel                     cancelled    the log, then event: error
                                                                 (stream_cancelled_error)
    open        no reader for --detach-timeout s    cancelled    the same, with its own message
    open        the store is full / unavailable     ended        event: error (api_error)
    ended,      --resume-ttl seconds after the end  expired      404 not_found_error "... expired"
    cancelled   (or evicted to stay under the bound)

Events are stored already framed (``id: n``, ``event:``, ``data:``), so a replay is a copy
of bytes and every reader sees exactly the same frames.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any, Protocol

import msgspec

from ...protocol.sse import encode_event

OPEN, ENDED, CANCELLED = "open", "ended", "cancelled"
CANCELLED_ERROR = "stream_cancelled_error"
DEFAULT_STORE_MAX_BYTES = 256 * 1024 * 1024
_encode = msgspec.json.Encoder().encode
_ID_ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


@dataclass(slots=True)
class RelayOptions:
    """``store``: "memory" or a ``redis://`` URL. Lifetimes in seconds; the bound in bytes."""

    store: str = "memory"
    detach_timeout: float = 60.0
    resume_ttl: float = 300.0
    store_max_bytes: int = DEFAULT_STORE_MAX_BYTES

    @classmethod
    def of(cls, value: RelayOptions | dict[str, Any] | None) -> RelayOptions:
        if isinstance(value, RelayOptions):
            return value
        return cls(**(value or {}))


class StreamNotFound(Exception):
    """No such stream for this key (another key's stream is reported the same way)."""


class StreamExpired(StreamNotFound):
    """The stream existed but its --resume-ttl has passed (or it was evicted)."""


class StoreFull(Exception):
    """Appending would take the store past --store-max-bytes."""


class StoreUnavailable(Exception):
    """The store cannot be reached (Redis went away)."""


@dataclass(slots=True)
class StreamInfo:
    state: str
    events: int  # how many events are stored


class Store(Protocol):
    """What the relay needs from a store. Every method may raise ``StoreUnavailable``."""

    async def create(self, stream_id: str, owner: str) -> None:
        """A new open stream (``StoreFull`` when live streams already fill the bound)."""

    async def append(self, stream_id: str, frames: list[bytes]) -> None:
        """Add framed events in order (``StoreFull`` when this live stream would pass the bound)."""
        # A frame's data is one JSON line, so a frame never holds a blank line: joined frames
        # split back apart on b"\n\n".

    async def finish(self, stream_id: str, state: str, tail: bytes | None) -> None:
        """Close the log (ended or cancelled) after ``tail``, a closing error frame stored even
        past the bound; the log expires --resume-ttl seconds later."""

    async def lookup(self, stream_id: str, owner: str) -> StreamInfo:
        """The stream's state, or ``StreamNotFound`` / ``StreamExpired`` (also for another owner)."""

    def follow(self, stream_id: str, after: int, wait: float) -> AsyncIterator[list[bytes]]:
        """The frames after event ``after``, then live ones until the log closes, in batches
        (a store may hand several frames joined as one bytes). Yields an empty list after each
        ``wait`` seconds in which nothing came (for pings and heartbeats)."""

    async def request_cancel(self, stream_id: str) -> None:
        """Ask the stream's producer, wherever it runs, to stop."""

    def cancel_signal(self, stream_id: str) -> Any:
        """For the producer: an ``asyncio.Event`` set when a cancel reaches this process."""

    async def idle_for(self, stream_id: str) -> float:
        """Seconds since the stream last had a reader (0 while one reads)."""

    async def wait_finished(self, stream_id: str, timeout: float) -> str:
        """The state once the log is closed, or the current one after ``timeout``."""

    async def aclose(self) -> None: ...


def new_stream_id() -> str:
    """``strm_`` and 32 base58 characters: 187 random bits, not guessable."""
    return "strm_" + "".join(secrets.choice(_ID_ALPHABET) for _ in range(32))


def owner_of(key: str | None) -> str:
    """Streams are owned by a digest of the key that made them; the key itself is never stored."""
    return hashlib.sha256(b"claudewire-owner\0" + (key or "").encode()).hexdigest()[:32]


def event_frame(n: int, event: dict[str, Any]) -> bytes:
    return encode_event(event["type"], _encode(event), id=str(n))


def ping_frame(n: int | None = None) -> bytes:
    """The API's ping; with an id when it is the stored one after the first block."""
    head = b"" if n is None else b"id: %d\n" % n
    return head + b'event: ping\ndata: {"type": "ping"}\n\n'


def error_event(error_type: str, message: str, request_id: str) -> dict[str, Any]:
    return {"type": "error", "error": {"type": error_type, "message": message}, "request_id": request_id}


def is_delta(frame: bytes) -> bool:
    return b"\nevent: content_block_delta\n" in frame
