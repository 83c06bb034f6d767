"""Fold stream events into a live ``Message`` snapshot (wire-spec §6.2), in linear time.

The legal order of events, as in h11's state tables::

    stream := message_start block* message_delta+ message_stop
    block  := content_block_start content_block_delta* content_block_stop

``ping`` and events of unknown types may come at any point and change nothing. An
``error`` event ends the stream (``FAILED``). Two departures from the strict grammar are
real and tolerated: a block cut short has no ``content_block_stop`` (so ``message_delta``
or the next ``content_block_start`` may arrive in ``BLOCK``), and a body may end after
``message_delta`` without ``message_stop``. Anything else out of order raises ``UnexpectedEvent``; a delta
whose index names no started block raises ``UnknownBlockIndex``.

"Complete" has one rule: a ``stop_reason`` has arrived.

Text, thinking and tool JSON are kept as fragment buffers and written into the snapshot
only when the snapshot is read; the final tool ``input`` is parsed once, strictly, at
``content_block_stop`` (or, for a block cut short, as the best partial object).
"""

from __future__ import annotations

from enum import Enum
from typing import Any

import msgspec

from ._model import Unknown, merge_extras
from .buffers import FragmentBuffer
from .errors import InvalidToolInput, UnexpectedEvent, UnknownBlockIndex
from .events import (
    CitationEvent,
    InputJsonEvent,
    MessageStreamEvent,
    ParsedContentBlockStopEvent,
    ParsedMessageStopEvent,
    SignatureEvent,
    TextEvent,
    ThinkingEvent,
)
from .types import (
    TOOL_INPUT_BLOCKS,
    CitationsDelta,
    ErrorEvent,
    InputJSONDelta,
    Message,
    RawContentBlockDeltaEvent,
    RawContentBlockStartEvent,
    RawContentBlockStopEvent,
    RawMessageDeltaEvent,
    RawMessageStartEvent,
    RawMessageStopEvent,
    RawMessageStreamEvent,
    SignatureDelta,
    TextBlock,
    TextDelta,
    ThinkingBlock,
    ThinkingDelta,
)

__all__ = ["MessageAccumulator", "State"]


class State(Enum):
    IDLE = "before message_start"
    MESSAGE = "between content blocks"
    BLOCK = "inside a content block"
    STOPPED = "after message_delta"
    DONE = "after message_stop"
    FAILED = "after an error event"


_S = State
# (state, event type) -> next state. A pair not listed is a protocol error.
TRANSITIONS: dict[tuple[State, str], State] = {
    (_S.IDLE, "message_start"): _S.MESSAGE,
    (_S.MESSAGE, "content_block_start"): _S.BLOCK,
    (_S.MESSAGE, "message_delta"): _S.STOPPED,
    (_S.BLOCK, "content_block_delta"): _S.BLOCK,
    (_S.BLOCK, "content_block_stop"): _S.MESSAGE,
    # A block cut short is never stopped: what follows may be message_delta or the next block.
    (_S.BLOCK, "message_delta"): _S.STOPPED,
    (_S.BLOCK, "content_block_start"): _S.BLOCK,
    (_S.MESSAGE, "content_block_stop"): _S.MESSAGE,  # the late stop of a block left open above
    (_S.STOPPED, "message_delta"): _S.STOPPED,
    (_S.STOPPED, "message_stop"): _S.DONE,
}
# Allowed in every state, changing nothing (or, for error, ending the stream).
NEUTRAL = {"ping"}

_TEXT, _THINKING, _TOOL, _OTHER = 0, 1, 2, 3


class _Open:
    """What the accumulator tracks beside a snapshot block."""

    __slots__ = ("kind", "buffer", "stopped", "synced")

    def __init__(self, kind: int, buffer: FragmentBuffer | None) -> None:
        self.kind = kind
        self.buffer = buffer
        self.stopped = False
        self.synced = 0  # fragments already written into the snapshot block


class MessageAccumulator:
    """``feed(event) -> events to deliver``; ``message`` is the snapshot so far."""

    __slots__ = ("state", "_message", "_blocks", "_open", "error")

    def __init__(self) -> None:
        self.state = State.IDLE
        self._message: Message | None = None
        self._blocks: list[Any] = []
        self._open: list[_Open] = []
        self.error: ErrorEvent | None = None

    # -- reading ---------------------------------------------------------------------

    @property
    def complete(self) -> bool:
        """True once a stop_reason has arrived: nothing the message needs is missing."""
        return self._message is not None and self._message.stop_reason is not None

    @property
    def started(self) -> bool:
        return self._message is not None

    @property
    def message(self) -> Message | None:
        """The snapshot, with every buffered fragment written in."""
        if self._message is not None:
            for index, tracked in enumerate(self._open):
                if tracked.buffer is not None and tracked.synced != len(tracked.buffer):
                    self._sync(index, tracked)
        return self._message

    # -- folding ---------------------------------------------------------------------

    def feed(self, event: RawMessageStreamEvent | Unknown) -> list[MessageStreamEvent]:
        cls = type(event)
        if cls is RawContentBlockDeltaEvent:  # the hot path first
            return self._delta(event)  # type: ignore[arg-type]
        etype = event.type
        if etype in NEUTRAL or cls is Unknown:
            return [event]
        if cls is ErrorEvent:
            self.state = State.FAILED
            self.error = event  # type: ignore[assignment]
            return [event]
        nxt = TRANSITIONS.get((self.state, etype))
        if nxt is None:
            raise UnexpectedEvent(etype, self.state.value)
        self.state = nxt
        if cls is RawContentBlockStartEvent:
            return self._start(event)  # type: ignore[arg-type]
        if cls is RawContentBlockStopEvent:
            return self._stop(event)  # type: ignore[arg-type]
        if cls is RawMessageDeltaEvent:
            return self._message_delta(event)  # type: ignore[arg-type]
        if cls is RawMessageStartEvent:
            start = event.message  # type: ignore[union-attr]
            self._message = _copy(start)
            self._message.usage = _copy(start.usage)
            self._message.content = self._blocks
            for block in event.message.content:  # type: ignore[union-attr]  # not sent by the API; kept if present
                self._append(block)
            return [event]
        if cls is RawMessageStopEvent:
            return [ParsedMessageStopEvent(self.message)]  # type: ignore[arg-type]
        return [event]

    def _append(self, block: Any) -> None:
        if type(block) is TextBlock:
            tracked = _Open(_TEXT, FragmentBuffer(block.text))
        elif type(block) is ThinkingBlock:
            tracked = _Open(_THINKING, FragmentBuffer(block.thinking))
        elif isinstance(block, TOOL_INPUT_BLOCKS):
            tracked = _Open(_TOOL, FragmentBuffer())
        else:
            tracked = _Open(_OTHER, None)
        tracked.synced = len(tracked.buffer) if tracked.buffer is not None else 0
        self._blocks.append(block)
        self._open.append(tracked)

    def _start(self, event: RawContentBlockStartEvent) -> list[MessageStreamEvent]:
        # Like the SDK, append: the index is the block's position. Check it, unlike the SDK.
        if event.index != len(self._blocks):
            raise UnexpectedEvent(
                "content_block_start", f"with index {event.index}; the next block's index is {len(self._blocks)}"
            )
        self._append(_copy(event.content_block))
        return [event]

    def _tracked(self, etype: str, index: int) -> _Open:
        if 0 <= index < len(self._open):
            return self._open[index]
        raise UnknownBlockIndex(etype, index, len(self._open))

    def _delta(self, event: RawContentBlockDeltaEvent) -> list[MessageStreamEvent]:
        if self.state is not State.BLOCK:
            if self.state is State.MESSAGE and 0 <= event.index < len(self._open):
                pass  # a late delta to a stopped block: harmless, fold it
            elif self.state in (State.IDLE, State.MESSAGE):
                raise UnknownBlockIndex("content_block_delta", event.index, len(self._open))
            else:
                raise UnexpectedEvent("content_block_delta", self.state.value)
        index = event.index
        tracked = self._tracked("content_block_delta", index)
        delta = event.delta
        dtype = type(delta)
        if dtype is TextDelta:
            if tracked.kind == _TEXT:
                buffer = tracked.buffer
                return [event, TextEvent(delta.text, buffer, buffer.append(delta.text))]  # type: ignore[arg-type, union-attr]
        elif dtype is InputJSONDelta:
            if tracked.kind == _TOOL:
                buffer = tracked.buffer
                return [event, InputJsonEvent(delta.partial_json, buffer, buffer.append(delta.partial_json))]  # type: ignore[arg-type, union-attr]
        elif dtype is ThinkingDelta:
            if tracked.kind == _THINKING:
                buffer = tracked.buffer
                return [event, ThinkingEvent(delta.thinking, buffer, buffer.append(delta.thinking))]  # type: ignore[arg-type, union-attr]
        elif dtype is SignatureDelta:
            block = self._blocks[index]
            if tracked.kind == _THINKING:
                block.signature = delta.signature  # replaces: it is the whole signature
                return [event, SignatureEvent(delta.signature)]
        elif dtype is CitationsDelta:
            block = self._blocks[index]
            if tracked.kind == _TEXT:
                if block.citations is None:
                    block.citations = []
                block.citations.append(delta.citation)
                return [event, CitationEvent(delta.citation, block.citations)]
        return [event]

    def _stop(self, event: RawContentBlockStopEvent) -> list[MessageStreamEvent]:
        tracked = self._tracked("content_block_stop", event.index)
        tracked.stopped = True
        self._sync(event.index, tracked)
        return [ParsedContentBlockStopEvent(event.index, self._blocks[event.index])]

    def _message_delta(self, event: RawMessageDeltaEvent) -> list[MessageStreamEvent]:
        message = self._message
        assert message is not None
        delta = event.delta
        message.stop_reason = delta.stop_reason
        message.stop_sequence = delta.stop_sequence
        if delta.stop_details is not None:
            message.stop_details = delta.stop_details
        if delta.container is not None:
            message.container = delta.container
        merge_extras(message, delta, typed=False)  # fields newer than this version; never the typed ones
        usage, new = message.usage, event.usage
        usage.output_tokens = new.output_tokens
        for name in (
            "input_tokens",
            "cache_creation_input_tokens",
            "cache_read_input_tokens",
            "server_tool_use",
            "output_tokens_details",
        ):
            value = getattr(new, name)
            if value is not None:
                setattr(usage, name, value)
        merge_extras(usage, new, typed=True)
        return [event]

    def _sync(self, index: int, tracked: _Open) -> None:
        buffer = tracked.buffer
        if buffer is None:
            return
        block = self._blocks[index]
        if tracked.kind == _TEXT:
            block.text = ""  # drop the old text first, so the buffer can grow it in place
            block.text = buffer.joined()
        elif tracked.kind == _THINKING:
            block.thinking = ""
            block.thinking = buffer.joined()
        elif tracked.kind == _TOOL:
            text = buffer.joined()
            if not text.strip():
                pass  # no fragments (or only ""): the input given at content_block_start stands
            elif tracked.stopped:
                block.input = _strict_input(index, text)
            else:
                block.input = buffer.partial_json()
        tracked.synced = len(buffer)


def _copy(model: Any) -> Any:
    """A shallow copy the snapshot may change without touching the event it came from."""
    new = msgspec.structs.replace(model)
    new.__dict__.update(model.__dict__)
    if type(new) is TextBlock and new.citations is not None:
        new.citations = list(new.citations)
    return new


def _strict_input(index: int, text: str) -> Any:
    try:
        return msgspec.json.decode(text)
    except (msgspec.MsgspecError, RecursionError) as exc:  # bad JSON, a number out of range, nesting too deep
        raise InvalidToolInput(index, str(exc) or type(exc).__name__, text) from None

