"""The stream rules under every chunking, in the core and over real HTTP (sync, async, raw):

- the snapshot seen while handling event N reflects exactly events 1..N (no read-ahead,
  even when one chunk, or a close-delimited body's last chunk, holds many events);
- a block of SSE fields with no data line dispatches nothing;
- protocol errors share one root.

The reference for event N is independent of the code under test's laziness: a fresh parser
fed the body cut right after the N-th event.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest

import claudewire
from claudewire.protocol import EventStreamParser, ProtocolError, SSEError
from claudewire.protocol.sse import EventTooLarge

from ..conftest import load_vector, vector_names
from ..protocol.chunkings import chunkings, line_endings, random_splits
from .helpers import KEY, KINDS, params
from .test_wire_and_secrets import ChunkedServer

DERIVED = {"text", "input_json", "thinking", "signature", "citation"}
# Blocks with no data line, woven between the events: none may reach the event decoder.
DATA_LESS = b"id: 7\n\nretry: 1000\n\nevent: ping\n\nevent: content_block_delta\nid: 8\n\n: just a comment\n\n"


def event_ends(body: bytes) -> list[int]:
    """Offsets just past each dispatched event (a block with a data line) of an LF body."""
    ends, at = [], 0
    for block in body.split(b"\n\n")[:-1]:
        at += len(block) + 2
        if any(line.startswith(b"data") for line in block.split(b"\n")):
            ends.append(at)
    return ends


def reference_snapshots(body: bytes) -> list[dict | None]:
    """The message after events 1..N, for each N, each from a fresh parser."""
    out = []
    for end in event_ends(body):
        parser = EventStreamParser()
        try:
            parser.feed(body[:end])
        except ProtocolError:
            pass
        out.append(None if parser.message is None else parser.message.to_dict())
    return out


def check(observed: list[tuple[str, Any, Any]], expected: list[dict | None], where: Any) -> None:
    """``observed``: (event type, snapshot dict while handling it, the event's own text snapshot)."""
    assert observed, where
    n = -1
    for kind, snapshot, text_snapshot in observed:
        if kind not in DERIVED:
            n += 1
        assert snapshot == expected[n], (where, n, kind)
        if text_snapshot is not None:
            index = text_snapshot[0]
            assert text_snapshot[1] == expected[n]["content"][index]["text"], (where, n)


def _text_of(event: Any, snapshot: dict | None) -> Any:
    if event.type != "text" or snapshot is None:
        return None
    return (len(snapshot["content"]) - 1, event.snapshot)


def vector_with_data_less_blocks(name: str) -> bytes:
    body, _ = load_vector(name)
    blocks = body.split(b"\n\n")
    return b"\n\n".join(blocks[:1] + [DATA_LESS.rstrip(b"\n") + b"\n\n" + b for b in blocks[1:-1]] + blocks[-1:]) if len(blocks) > 2 else body


# --- the core, every chunking and line ending ---------------------------------------------


@pytest.mark.parametrize("name", vector_names())
def test_snapshot_reflects_exactly_the_events_so_far_in_the_core(name: str) -> None:
    body = vector_with_data_less_blocks(name)
    expected = reference_snapshots(body)
    for ending, variant in line_endings(body):
        for how, pieces in chunkings(variant):
            for raw in (False, True):
                parser = EventStreamParser()
                observed = []
                try:
                    for piece in pieces:
                        for event in parser.iter_events(piece, raw=raw):
                            snapshot = None if parser.message is None else parser.message.to_dict()
                            observed.append((event.type, snapshot, _text_of(event, snapshot)))
                except ProtocolError:
                    pass
                check(observed, expected, (ending, how, raw))


def test_data_less_blocks_never_reach_the_decoder() -> None:
    # Every data-less shape, alone, under every chunking: no event, no error.
    for how, pieces in chunkings(DATA_LESS * 3):
        parser = EventStreamParser()
        assert [e for piece in pieces for e in parser.iter_events(piece)] == [], how
        parser.close()
        assert parser.unterminated is None and parser.sse.last_event_id == "8"


def test_one_root_for_protocol_errors() -> None:
    assert issubclass(SSEError, ProtocolError) and issubclass(EventTooLarge, ProtocolError)
    assert issubclass(claudewire.StreamProtocolError, ProtocolError)
    assert issubclass(claudewire.StreamProtocolError, claudewire.APIError)
    parser = EventStreamParser(max_event_bytes=100)
    with pytest.raises(ProtocolError):
        parser.feed(b"data: " + b"x" * 200 + b"\n\n")


# --- over real HTTP: sync, async, the helper stream and raw iteration --------------------


@pytest.fixture(scope="module")
def wire() -> Iterator[ChunkedServer]:
    server = ChunkedServer()
    yield server
    server.close()


def observe(kind: str, mode: str, server: ChunkedServer) -> list[tuple[str, Any, Any]]:
    cls = claudewire.Anthropic if kind == "sync" else claudewire.AsyncAnthropic
    c = cls(api_key=KEY, base_url=server.base_url, max_retries=0)
    observed: list[tuple[str, Any, Any]] = []

    def record(event: Any, stream: Any) -> None:
        message = stream._core.snapshot if mode == "raw" else stream.current_message_snapshot
        snapshot = None if message is None else message.to_dict()
        observed.append((event.type, snapshot, _text_of(event, snapshot)))

    if kind == "sync":
        try:
            if mode == "raw":
                stream = c.messages.create(stream=True, **params())
                for event in stream:
                    record(event, stream)
            else:
                with c.messages.stream(**params()) as stream:
                    for event in stream:
                        record(event, stream)
        except claudewire.APIError:
            pass
        return observed

    async def run() -> None:
        try:
            if mode == "raw":
                stream = await c.messages.create(stream=True, **params())
                async for event in stream:
                    record(event, stream)
            else:
                async with c.messages.stream(**params()) as stream:
                    async for event in stream:
                        record(event, stream)
        except claudewire.APIError:
            pass

    asyncio.run(run())
    return observed


@pytest.mark.parametrize("name", vector_names())
@pytest.mark.parametrize("mode", ["helper", "raw"])
@pytest.mark.parametrize("kind", KINDS)
def test_snapshot_reflects_exactly_the_events_so_far_over_http(kind: str, mode: str, name: str, wire: ChunkedServer) -> None:
    body = vector_with_data_less_blocks(name)
    expected = reference_snapshots(body)
    first = event_ends(body)[0]
    ways = [
        # a close-delimited body whose last chunk holds every event but the first
        ("close-delimited", True, [body[:first], body[first:]]),
        ("chunked-random", False, random_splits(body, 3)),
    ]
    for how, close_delimited, pieces in ways:
        wire.pieces, wire.break_after, wire.close_delimited = pieces, False, close_delimited
        observed = observe(kind, mode, wire)
        check(observed, expected, how)
    wire.close_delimited = False
