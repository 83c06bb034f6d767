"""Every shared transcript gives its expected result under every chunking and line ending."""

from __future__ import annotations

from claudewire.protocol import EventStreamParser

from .chunkings import chunkings, line_endings


def fold(chunks: list[bytes]) -> tuple[EventStreamParser, list]:
    parser = EventStreamParser()
    events = []
    for chunk in chunks:
        events += parser.feed(chunk)
    parser.close()
    return parser, events


def check(name: str, parser: EventStreamParser, events: list, expect: dict, how: str) -> None:
    text = "".join(e.text for e in events if e.type == "text")
    assert text == expect["text_stream"], how
    message = parser.message
    assert message is not None, how
    if "message" in expect:
        assert parser.complete, how
        got = message.to_dict()
        for key, value in expect["message"].items():
            if key == "content":
                assert len(got["content"]) == len(value), how
                for got_block, want_block in zip(got["content"], value, strict=True):
                    for k, v in want_block.items():
                        assert got_block.get(k) == v, (how, k)
            else:
                assert got.get(key) == value, (how, key)
    else:
        error = parser.accumulator.error
        assert error is not None and error.error.type == expect["error"]["type"], how
        assert not parser.complete
        partial = "".join(b.text for b in message.content if b.type == "text")
        assert partial == expect["error"]["partial_text"], how


def test_vector_every_chunking(vector) -> None:
    name, body, expect = vector
    for ending, variant in line_endings(body):
        for how, chunks in chunkings(variant):
            assert b"".join(chunks) == variant
            parser, events = fold(chunks)
            check(name, parser, events, expect, f"{name}/{ending}/{how}")


def test_unterminated_final_event_is_not_dispatched(vector) -> None:
    name, body, _ = vector
    parser, events = fold([body])
    if name == "sdk_basic_unterminated":
        assert [e.type for e in events][-1] == "message_delta"
        assert parser.unterminated is not None and parser.unterminated.event == "message_stop"
        assert parser.complete  # message_delta arrived: nothing is missing
    else:
        assert parser.unterminated is None


def test_event_sequence_matches_the_sdk_fixture() -> None:
    from ..conftest import load_vector

    body, _ = load_vector("sdk_basic_unterminated")
    _, events = fold([body])
    assert [e.type for e in events] == [
        "message_start", "content_block_start", "ping",
        "content_block_delta", "text", "content_block_delta", "text", "content_block_delta", "text",
        "content_block_stop", "message_delta",
    ]
    body, _ = load_vector("sdk_tool_use")
    _, events = fold([body])
    kinds = [e.type for e in events if e.type not in ("ping",)]
    assert kinds.count("input_json") == 5  # the empty first fragment still yields one
    stop = [e for e in events if e.type == "content_block_stop"][1]
    assert stop.content_block.input == {"location": "Paris"}
