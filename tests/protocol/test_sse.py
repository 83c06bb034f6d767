"""The SSE decoder against the WHATWG rules, and the encoder's exact framing."""

from __future__ import annotations

import pytest

from claudewire.protocol import EventTooLarge, ServerSentEvent, SSEDecoder, encode_comment, encode_event

from .chunkings import bytewise


def decode(body: bytes, chunks: list[bytes] | None = None) -> list[ServerSentEvent]:
    decoder = SSEDecoder()
    events = []
    for chunk in chunks or [body]:
        events += decoder.feed(chunk)
    return events


def test_fields_and_multiline_data() -> None:
    body = b"data: {\ndata: \"foo\":\ndata\ndata:\ndata: true}\n\n"
    assert decode(body) == [ServerSentEvent(None, '{\n"foo":\n\n\ntrue}')]


def test_one_leading_space_removed_only() -> None:
    assert decode(b"data:  two\n\n")[0].data == " two"
    assert decode(b"data:none\n\n")[0].data == "none"


def test_comments_and_unknown_fields_ignored() -> None:
    assert decode(b": hello\nfoo: bar\nevent: x\ndata: 1\n\n") == [ServerSentEvent("x", "1")]


def test_bom_stripped_once_even_when_split() -> None:
    body = b"\xef\xbb\xbfdata: a\n\n"
    assert decode(body, bytewise(body)) == [ServerSentEvent(None, "a")]
    assert decode(b"\xef\xbb\xbf\xef\xbb\xbfdata: a\n\n") == []  # a second BOM is part of a field name


@pytest.mark.parametrize("eol", [b"\n", b"\r", b"\r\n"])
def test_line_endings(eol: bytes) -> None:
    body = b"event: e" + eol + b"data: d" + eol + eol
    assert decode(body, bytewise(body)) == [ServerSentEvent("e", "d")]


def test_crlf_split_across_chunks_counts_once() -> None:
    # "\r" then "\n" in the next chunk is one line end, not a blank line dispatching early.
    events = decode(b"", [b"data: a\r", b"\ndata: b\r", b"\n\r", b"\n"])
    assert events == [ServerSentEvent(None, "a\nb")]


def test_id_and_retry() -> None:
    events = decode(b"id: 7\nretry: 1500\ndata: a\n\ndata: b\n\nid: x\0y\nretry: 1s\ndata: c\n\n")
    assert events[0] == ServerSentEvent(None, "a", "7", 1500)
    assert events[1] == ServerSentEvent(None, "b", "7", None)  # the last id is kept
    assert events[2] == ServerSentEvent(None, "c", "7", None)  # NUL id and non-digit retry ignored


def test_a_block_without_data_dispatches_nothing() -> None:
    decoder = SSEDecoder()
    body = b"event: ping\n\nid: 42\n\nretry: 900\n\nevent: x\nid: 43\nretry: 50\n\n:c\n\n"
    for chunk in bytewise(body):
        assert decoder.feed(chunk) == []
    assert decoder.flush() is None
    assert decoder.last_event_id == "43" and decoder.reconnection_time == 50  # still remembered, as WHATWG says
    # the next event with data carries the remembered id; an empty data line still dispatches
    assert decoder.feed(b"event: ping\ndata:\n\n") == [ServerSentEvent("ping", "", "43")]
    assert decode(b"\n\n\n") == []


def test_unterminated_event_is_handed_to_the_caller() -> None:
    decoder = SSEDecoder()
    assert decoder.feed(b"event: message_stop\ndata: {}") == []
    assert decoder.flush() == ServerSentEvent("message_stop", "{}")
    assert SSEDecoder().flush() is None


def test_multibyte_character_split_across_chunks() -> None:
    body = "data: héllo 🚀\n\n".encode()
    assert decode(body, bytewise(body)) == [ServerSentEvent(None, "héllo 🚀")]


def test_maximum_event_size() -> None:
    decoder = SSEDecoder(max_event_bytes=100)
    decoder.feed(b"data: " + b"x" * 50 + b"\n")
    with pytest.raises(EventTooLarge, match="100 bytes"):
        decoder.feed(b"data: " + b"y" * 60 + b"\n")
    with pytest.raises(EventTooLarge):  # a line still without its end counts too
        SSEDecoder(max_event_bytes=100).feed(b"data: " + b"z" * 200)


def test_linear_time_with_tiny_chunks() -> None:
    # 2 MB in one line, one byte at a time, must not copy the pending line per byte.
    big = b"data: " + b"a" * 2_000_000 + b"\n\n"
    decoder = SSEDecoder()
    events = []
    view = memoryview(big)
    for i in range(0, len(big), 3):
        events += decoder.feed(bytes(view[i : i + 3]))
    assert len(events) == 1 and len(events[0].data) == 2_000_000


def test_encoder_exact_framing() -> None:
    assert encode_event("message_stop", '{"type":"message_stop"}') == b'event: message_stop\ndata: {"type":"message_stop"}\n\n'
    assert encode_event("x", "a\nb", id="3", retry=10) == b"id: 3\nevent: x\nretry: 10\ndata: a\ndata: b\n\n"
    assert encode_comment("keep-alive") == b": keep-alive\n\n"
    with pytest.raises(ValueError):
        encode_event("x", "1", id="a\nb")
