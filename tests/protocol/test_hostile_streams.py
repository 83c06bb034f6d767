"""Hostile event streams: whatever the bytes, the core raises a ProtocolError or gives a valid result.

The regression examples are the ones an attacker (or a broken proxy) found; the property
test generates more of the same kind: real events with fields swapped for odd JSON,
truncated, nested deep, chunked anywhere.
"""

from __future__ import annotations

import json
import tracemalloc

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from claudewire.protocol import EventStreamParser, ProtocolError
from claudewire.protocol.buffers import FragmentBuffer
from claudewire.protocol.errors import InvalidToolInput, MalformedEvent

START = {"type": "message_start", "message": {"id": "msg_1", "type": "message", "role": "assistant", "model": "m", "content": [],
                                               "stop_reason": None, "stop_sequence": None, "usage": {"input_tokens": 3, "output_tokens": 1}}}
TEXT_START = {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}
TOOL_START = {"type": "content_block_start", "index": 0, "content_block": {"type": "tool_use", "id": "t", "name": "f", "input": {}}}
TEXT_DELTA = {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "Hi"}}
JSON_DELTA = {"type": "content_block_delta", "index": 0, "delta": {"type": "input_json_delta", "partial_json": "{\"a\": 1}"}}
STOP = {"type": "content_block_stop", "index": 0}
DELTA = {"type": "message_delta", "delta": {"stop_reason": "end_turn", "stop_sequence": None}, "usage": {"output_tokens": 2}}
END = {"type": "message_stop"}
TEMPLATES = [START, TEXT_START, TOOL_START, TEXT_DELTA, JSON_DELTA, STOP, DELTA, END, {"type": "ping"},
             {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}]


def frame(event: dict | bytes, name: str = "x") -> bytes:
    if isinstance(event, dict):
        name, event = str(event.get("type")), json.dumps(event).encode()
    return b"event: " + name.encode("utf-8", "replace").replace(b"\n", b" ") + b"\ndata: " + event.replace(b"\n", b" ").replace(b"\r", b" ") + b"\n\n"


def run(body: bytes, chunks: list[int] | None = None, *, read_snapshots: bool = True) -> EventStreamParser:
    """Feed ``body`` (split at ``chunks``), reading the snapshot after every event; returns the
    parser, or lets a ProtocolError through. Anything else fails the test."""
    parser = EventStreamParser()
    cuts = sorted({c for c in chunks or [] if 0 < c < len(body)})
    for a, b in zip([0, *cuts], [*cuts, len(body)], strict=True):
        for event in parser.iter_events(body[a:b]):
            if read_snapshots:
                snapshot = getattr(event, "snapshot", None)
                if isinstance(snapshot, str):
                    assert isinstance(len(snapshot), int)
                message = parser.message
                if message is not None:
                    message.to_dict()
    parser.close()
    if parser.message is not None:
        parser.message.to_dict()
    return parser


def outcome(body: bytes, chunks: list[int] | None = None) -> str:
    try:
        run(body, chunks)
    except ProtocolError as exc:
        return type(exc).__name__
    return "ok"


# --- the examples found by hand -------------------------------------------------------------

@pytest.mark.parametrize(
    "data",
    [
        b'{"type": 5, ',  # truncated JSON whose typed decode fails first
        b"1e999",  # a number out of range
        b"[" * 2000 + b"]" * 2000,  # nested 2,000 deep
        b'{"type": "message_start", "message": ' + b"[" * 5000 + b"]" * 5000 + b"}",
        b'{"type": "content_block_delta", "index": 1e999}',
        b'{"type": "message_start", "message": {"id": 5}}',
    ],
)
def test_malformed_event_data_is_a_typed_error(data: bytes) -> None:
    with pytest.raises(MalformedEvent):
        run(b"event: message_start\ndata: " + data + b"\n\n")


def test_tool_input_nested_5000_deep_is_a_typed_error_with_the_partial_message() -> None:
    deep = {**JSON_DELTA, "delta": {"type": "input_json_delta", "partial_json": "[" * 5000}}
    parser = EventStreamParser()
    parser.feed(frame(START) + frame(TOOL_START) + frame(deep))
    assert parser.message.content[0].input == {}  # the partial view gives up quietly
    with pytest.raises(InvalidToolInput):
        parser.feed(frame(STOP))
    closed = {**JSON_DELTA, "delta": {"type": "input_json_delta", "partial_json": "[" * 5000 + "]" * 5000}}
    with pytest.raises(InvalidToolInput, match="recursion"):
        run(frame(START) + frame(TOOL_START) + frame(closed) + frame(STOP))


def test_unknown_fields_named_like_ours_are_kept_but_never_overwrite() -> None:
    delta = {"type": "message_delta",
             "delta": {"stop_reason": "end_turn", "usage": 5, "content": "zzz", "__dict__": True, "to_dict": 1, "new_field": "kept"},
             "usage": {"output_tokens": 7, "service_tier": 5, "__class__": 1, "cache_flavour": "new"}}
    parser = run(frame(START) + frame(TEXT_START) + frame(TEXT_DELTA) + frame(STOP) + frame(delta) + frame(END))
    message = parser.message
    assert message.content[0].text == "Hi" and message.usage.output_tokens == 7
    assert message.new_field == "kept" and message.usage.cache_flavour == "new"
    assert message.usage.service_tier is None  # a newer value of the wrong type does not replace a typed field
    out = message.to_dict()
    assert out["content"][0]["text"] == "Hi" and out["usage"]["output_tokens"] == 7
    event = EventStreamParser().feed(frame(START) + frame(delta))[-1]
    assert callable(event.delta.to_dict) and event.delta.model_extra["to_dict"] == 1 and event.delta.model_extra["usage"] == 5
    assert event.to_dict()["delta"]["__dict__"] is True  # kept aside, and given back out


def test_snapshot_read_per_delta_is_one_string_grown_forwards() -> None:
    buffer = FragmentBuffer()
    pieces = [f"{i} " for i in range(1000)]
    for i, piece in enumerate(pieces, 1):
        buffer.append(piece)
        assert buffer.joined(i) == "".join(pieces[:i])
    assert buffer.joined(3) == "0 1 2 "  # an older event read late gets its own prefix
    batch = FragmentBuffer("x")
    for piece in "abc":
        batch.append(piece)
    assert [batch.joined(n) for n in (1, 2, 3, 4)] == ["x", "xa", "xab", "xabc"]


def test_a_trickled_line_costs_a_byte_per_byte() -> None:
    parser = EventStreamParser()
    line = b"data: " + b"x" * 30_000
    tracemalloc.start()
    try:
        for i in range(len(line)):
            parser.feed(line[i : i + 1])
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 3 * len(line), peak  # was about 90 bytes per byte


# --- generated -------------------------------------------------------------------------------

json_leaf = st.one_of(st.none(), st.booleans(), st.integers(-(2**70), 2**70), st.floats(allow_nan=False),
                      st.text(max_size=8), st.sampled_from(["usage", "content", "__dict__", "to_dict", "type", "index"]))
json_value = st.recursive(json_leaf, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
                          max_leaves=8)
field_names = st.sampled_from(["type", "index", "delta", "usage", "message", "content_block", "text", "partial_json", "stop_reason",
                               "content", "__dict__", "to_dict", "model_extra", "id", "error", "output_tokens", "new"])


@st.composite
def hostile_event(draw: st.DrawFn) -> bytes:
    event = json.loads(json.dumps(draw(st.sampled_from(TEMPLATES))))
    for _ in range(draw(st.integers(0, 2))):
        target = event
        path = draw(st.lists(st.sampled_from(["delta", "usage", "message", "content_block", "error"]), max_size=2))
        for key in path:
            if isinstance(target.get(key), dict):
                target = target[key]
        target[draw(field_names)] = draw(json_value)
    data = json.dumps(event).encode()
    how = draw(st.sampled_from(["whole", "whole", "whole", "truncate", "deep", "raw", "bytes"]))
    if how == "truncate":
        data = data[: draw(st.integers(0, len(data)))]
    elif how == "deep":
        depth = draw(st.sampled_from([100, 1500, 6000]))
        data = data[:-1] + b', "deep": ' + b"[" * depth + b"]" * depth + b"}"
    elif how == "raw":
        data = draw(st.sampled_from([b"1e999", b"-1e999", b"null", b"[]", b'"x"', b"{}", b"nan", b"\xff\xfe", b"{\"type\": \"ping\"}"]))
    elif how == "bytes":
        data = draw(st.binary(max_size=40))
    return frame(data, str(event.get("type")))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(st.lists(hostile_event(), max_size=10), st.lists(st.integers(0, 2000), max_size=6), st.booleans())
def test_any_hostile_stream_gives_a_typed_error_or_a_valid_result(events: list[bytes], cuts: list[int], well_started: bool) -> None:
    body = (frame(START) + frame(TEXT_START) if well_started else b"") + b"".join(events)
    assert outcome(body, cuts) in {"ok", "MalformedEvent", "UnexpectedEvent", "UnknownBlockIndex", "InvalidToolInput", "EventTooLarge"}
    assert outcome(body, cuts) == outcome(body)  # and chunking never changes which
