"""Errors of the protocol core: the wire broke a rule. One base class, each with the facts."""

from __future__ import annotations

__all__ = ["ProtocolError", "MalformedEvent", "UnexpectedEvent", "UnknownBlockIndex", "InvalidToolInput"]


class ProtocolError(Exception):
    """The event stream broke the Messages API's grammar."""


class MalformedEvent(ProtocolError):
    def __init__(self, event: str | None, data: str, reason: str) -> None:
        shown = data if len(data) <= 200 else data[:200] + "…"
        super().__init__(f"malformed JSON in SSE event {event or '(unnamed)'!r}: {reason}; data: {shown!r}")
        self.event = event
        self.data = data


class UnexpectedEvent(ProtocolError):
    def __init__(self, event_type: str, state: str) -> None:
        super().__init__(f"unexpected {event_type!r} event {state}")
        self.event_type = event_type
        self.state = state


class UnknownBlockIndex(ProtocolError):
    """Troubleshooting case 4: a delta (or stop) for a block that never started."""

    def __init__(self, event_type: str, index: int, started: int) -> None:
        have = "no content block has started" if started == 0 else f"only blocks 0..{started - 1} have started"
        super().__init__(f"{event_type} for content block index {index}, but {have}")
        self.event_type = event_type
        self.index = index


class InvalidToolInput(ProtocolError):
    def __init__(self, index: int, reason: str, text: str) -> None:
        shown = text if len(text) <= 200 else text[:200] + "…"
        super().__init__(f"tool input JSON of content block {index} is invalid: {reason}; json: {shown!r}")
        self.index = index
        self.json = text
