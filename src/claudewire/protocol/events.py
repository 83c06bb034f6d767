"""From SSE events to typed stream events, and the SDK's derived helper events.

``decode_event`` turns one ``ServerSentEvent`` into a typed event with a decoder built
once at import. Unlike the official SDK it keeps unknown and data-only events (as
``Unknown``) instead of dropping them, and it fills a missing JSON ``type`` from the
event name as the SDK does.

The derived events (``text``, ``input_json``, ``thinking``, ``signature``, ``citation``)
carry a ``snapshot`` that is computed only when read, so a stream of 20,000 deltas does
not build 20,000 growing strings nobody looks at.
"""

from __future__ import annotations

from typing import Any, Union

import msgspec

from ._model import Unknown, build, from_builtins, to_dict
from .buffers import FragmentBuffer
from .errors import MalformedEvent
from .sse import ServerSentEvent
from .types import (
    ContentBlock,
    ErrorEvent,
    ErrorObject,
    Message,
    RawMessageStreamEvent,
    TextCitation,
)

__all__ = [
    "decode_event",
    "event_from_dict",
    "TextEvent",
    "InputJsonEvent",
    "ThinkingEvent",
    "SignatureEvent",
    "CitationEvent",
    "ParsedContentBlockStopEvent",
    "ParsedMessageStopEvent",
    "MessageStopEvent",
    "ContentBlockStopEvent",
    "MessageStreamEvent",
]

_fast_decoder = msgspec.json.Decoder(RawMessageStreamEvent)
_json_decoder = msgspec.json.Decoder()


# What decoding hostile bytes can raise. Decoding is the border where bytes become objects:
# past it, only our ProtocolError (here MalformedEvent) leaves.
_DECODE_ERRORS = (msgspec.MsgspecError, RecursionError, ValueError, TypeError, AttributeError, KeyError)


def decode_event(sse: ServerSentEvent) -> RawMessageStreamEvent | Unknown:
    """Type one SSE event; raise ``MalformedEvent`` if its data is not the JSON it claims."""
    data = sse.data
    if not data.strip():  # `event: ping` with no data line, as some servers send it
        data = "{}"
    try:
        return _fast_decoder.decode(data)
    except msgspec.ValidationError:
        pass  # something new, or a missing "type": take the faithful path
    except _DECODE_ERRORS as exc:
        return _undecodable(sse, data, exc)
    try:
        raw = _json_decoder.decode(data)
        if not isinstance(raw, dict):
            unknown = Unknown(type=sse.event or "")
            unknown.__dict__["data"] = raw
            return unknown
        if "type" not in raw and sse.event:
            raw["type"] = sse.event
        return build(RawMessageStreamEvent, raw)
    except _DECODE_ERRORS as exc:
        return _undecodable(sse, data, exc)


def _undecodable(sse: ServerSentEvent, data: str, exc: BaseException) -> ErrorEvent:
    if sse.event == "error":  # a non-JSON (or oddly shaped) error payload is still an error
        return ErrorEvent(error=ErrorObject(type="api_error", message=data))
    raise MalformedEvent(sse.event, data, str(exc) or type(exc).__name__) from None


def event_from_dict(raw: dict[str, Any]) -> RawMessageStreamEvent | Unknown:
    """Type an event already in JSON shape (no bytes to parse), keeping what is unknown."""
    return from_builtins(RawMessageStreamEvent, raw)


class _Derived:
    __slots__ = ()
    type: str

    def __repr__(self) -> str:
        fields = ", ".join(f"{n}={getattr(self, n)!r}" for n in self.__slots__ if not n.startswith("_"))
        return f"{type(self).__name__}(type={self.type!r}, {fields})"

    def to_dict(self) -> dict[str, Any]:
        names: list[str] = [n for n in self.__slots__ if not n.startswith("_")]
        if isinstance(getattr(type(self), "snapshot", None), property):
            names.append("snapshot")
        return {"type": self.type, **{n: to_dict(getattr(self, n)) for n in names}}


class TextEvent(_Derived):
    """A text delta, with the block's text so far as ``snapshot``."""

    __slots__ = ("text", "_buffer", "_upto")
    type = "text"

    def __init__(self, text: str, buffer: FragmentBuffer, upto: int) -> None:
        self.text = text
        self._buffer = buffer
        self._upto = upto

    @property
    def snapshot(self) -> str:
        return self._buffer.joined(self._upto)


class ThinkingEvent(_Derived):
    __slots__ = ("thinking", "_buffer", "_upto")
    type = "thinking"

    def __init__(self, thinking: str, buffer: FragmentBuffer, upto: int) -> None:
        self.thinking = thinking
        self._buffer = buffer
        self._upto = upto

    @property
    def snapshot(self) -> str:
        return self._buffer.joined(self._upto)


class InputJsonEvent(_Derived):
    """A tool-input fragment; ``snapshot`` is the partial object parsed from the fragments so far."""

    __slots__ = ("partial_json", "_buffer", "_upto")
    type = "input_json"

    def __init__(self, partial_json: str, buffer: FragmentBuffer, upto: int) -> None:
        self.partial_json = partial_json
        self._buffer = buffer
        self._upto = upto

    @property
    def snapshot(self) -> Any:
        return self._buffer.partial_json(self._upto)


class SignatureEvent(_Derived):
    __slots__ = ("signature",)
    type = "signature"

    def __init__(self, signature: str) -> None:
        self.signature = signature


class CitationEvent(_Derived):
    __slots__ = ("citation", "snapshot")
    type = "citation"

    def __init__(self, citation: TextCitation, snapshot: list[TextCitation]) -> None:
        self.citation = citation
        self.snapshot = snapshot


class ParsedContentBlockStopEvent(_Derived):
    """``content_block_stop`` with the finished block."""

    __slots__ = ("index", "content_block")
    type = "content_block_stop"

    def __init__(self, index: int, content_block: ContentBlock | Unknown) -> None:
        self.index = index
        self.content_block = content_block


class ParsedMessageStopEvent(_Derived):
    """``message_stop`` with the finished message."""

    __slots__ = ("message",)
    type = "message_stop"

    def __init__(self, message: Message) -> None:
        self.message = message


# The SDK's names for the two (``anthropic.MessageStopEvent``, ``anthropic.ContentBlockStopEvent``).
MessageStopEvent = ParsedMessageStopEvent
ContentBlockStopEvent = ParsedContentBlockStopEvent

MessageStreamEvent = Union[
    RawMessageStreamEvent,
    Unknown,
    TextEvent,
    InputJsonEvent,
    ThinkingEvent,
    SignatureEvent,
    CitationEvent,
    ParsedContentBlockStopEvent,
    ParsedMessageStopEvent,
]
"""What iterating a message stream yields: the raw events plus the derived ones."""

