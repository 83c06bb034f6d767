"""Cutting a byte stream at SSE event boundaries, without parsing it.

The proxy forwards each upstream event as soon as its blank line has arrived, and only
whole events: so when the upstream breaks, the in-band ``error`` event it appends never
lands in the middle of a half-sent one. An event ends at an empty line; lines end at
LF, CR or CRLF, so a boundary is ``\\n\\n``, ``\\r\\r`` or ``\\n\\r`` (which also covers
``\\r\\n\\r\\n``; a trailing ``\\n`` of that CRLF simply starts the next piece, and SSE
decoders join a CRLF split across chunks).
"""

from __future__ import annotations

_BOUNDARIES = (b"\n\n", b"\r\r", b"\n\r")


def last_boundary(data: bytes) -> int:
    """The length of the longest prefix of ``data`` made of whole events (0 if none)."""
    at = max(data.rfind(b) for b in _BOUNDARIES)
    return at + 2 if at >= 0 else 0


class EventAligner:
    """``feed(chunk) -> bytes`` of whole events (maybe empty); ``flush()`` the rest at the end."""

    __slots__ = ("_held",)

    def __init__(self) -> None:
        self._held = b""

    def feed(self, chunk: bytes) -> bytes:
        data = self._held + chunk if self._held else chunk
        cut = last_boundary(data)
        if cut == len(data):
            self._held = b""
            return data
        self._held = data[cut:]
        return data[:cut]

    @property
    def pending(self) -> bool:
        return bool(self._held)

    def flush(self) -> bytes:
        held, self._held = self._held, b""
        return held
