"""The accumulator's rules, its errors, and its linear cost on long streams."""

from __future__ import annotations

import json

import pytest

from claudewire.protocol import (
    EventStreamParser,
    InvalidToolInput,
    MalformedEvent,
    UnexpectedEvent,
    UnknownBlockIndex,
    encode_event,
)


def sse(payload: dict) -> bytes:
    return encode_event(payload["type"], json.dumps(payload))


START = sse({"type": "message_start", "message": {"id": "msg_1", "type": "message", "role": "assistant", "model": "m",
              "content": [], "stop_reason": None, "stop_sequence": None, "usage": {"input_tokens": 3, "output_tokens": 1}}})


def block(index: int, content_block: dict) -> bytes:
    return sse({"type": "content_block_start", "index": index, "content_block": content_block})


def delta(index: int, d: dict) -> bytes:
    return sse({"type": "content_block_delta", "index": index, "delta": d})


def stop(index: int) -> bytes:
    return sse({"type": "content_block_stop", "index": index})


def message_delta(reason: str = "end_turn", **usage: int) -> bytes:
    return sse({"type": "message_delta", "delta": {"stop_reason": reason, "stop_sequence": None}, "usage": {"output_tokens": 5, **usage}})


def run(*parts: bytes) -> tuple[EventStreamParser, list]:
    parser = EventStreamParser()
    events = parser.feed(b"".join(parts))
    parser.close()
    return parser, events


def test_delta_before_its_block_names_the_index() -> None:
    with pytest.raises(UnknownBlockIndex, match="index 0, but no content block has started"):
        run(START, delta(0, {"type": "text_delta", "text": "hi"}))
    with pytest.raises(UnknownBlockIndex, match="index 3, but only blocks 0..0 have started"):
        run(START, block(0, {"type": "text", "text": ""}), delta(3, {"type": "text_delta", "text": "x"}))


def test_event_before_message_start() -> None:
    with pytest.raises(UnexpectedEvent, match="before message_start"):
        run(block(0, {"type": "text", "text": ""}))


def test_block_index_must_count_up() -> None:
    with pytest.raises(UnexpectedEvent, match="index 2"):
        run(START, block(2, {"type": "text", "text": ""}))


def test_malformed_json_is_a_typed_error() -> None:
    with pytest.raises(MalformedEvent, match="content_block_delta"):
        run(START, b'event: content_block_delta\ndata: {"type": "content_block_delta", "index": 0,\n\n')


def test_invalid_final_tool_json_raises_at_block_stop() -> None:
    with pytest.raises(InvalidToolInput, match="block 0"):
        run(START, block(0, {"type": "tool_use", "id": "t", "name": "f", "input": {}}),
            delta(0, {"type": "input_json_delta", "partial_json": '{"a": tru'}), stop(0))


def test_tool_block_cut_by_max_tokens_keeps_best_partial_input() -> None:
    parser, _ = run(START, block(0, {"type": "tool_use", "id": "t", "name": "f", "input": {}}),
                    delta(0, {"type": "input_json_delta", "partial_json": '{"city": "Par'}), message_delta("max_tokens"))
    assert parser.complete
    assert parser.message.content[0].input == {"city": "Par"}


def test_partial_input_on_demand_and_final_input_strict() -> None:
    parser = EventStreamParser()
    parser.feed(START + block(0, {"type": "tool_use", "id": "t", "name": "f", "input": {}}))
    events = parser.feed(delta(0, {"type": "input_json_delta", "partial_json": '{"a": [1, 2'}))
    assert events[-1].type == "input_json" and events[-1].snapshot == {"a": [1, 2]}
    assert parser.message.content[0].input == {"a": [1, 2]}
    parser.feed(delta(0, {"type": "input_json_delta", "partial_json": "]}"}) + stop(0))
    assert parser.message.content[0].input == {"a": [1, 2]}
    assert events[-1].snapshot == {"a": [1, 2]}  # an old event still shows its own moment


def test_signature_replaces_and_citations_append() -> None:
    citation = {"type": "char_location", "cited_text": "1 + 1 = 2", "document_index": 0, "document_title": "Math Facts",
                "start_char_index": 300, "end_char_index": 310}
    parser, events = run(
        START,
        block(0, {"type": "thinking", "thinking": "", "signature": ""}),
        delta(0, {"type": "thinking_delta", "thinking": "hm"}),
        delta(0, {"type": "signature_delta", "signature": "AAA"}),
        delta(0, {"type": "signature_delta", "signature": "BBB"}),
        stop(0),
        block(1, {"type": "text", "text": "", "citations": []}),
        delta(1, {"type": "citations_delta", "citation": citation}),
        delta(1, {"type": "text_delta", "text": "two"}),
        stop(1),
        message_delta(input_tokens=9),
    )
    message = parser.message
    assert message.content[0].thinking == "hm" and message.content[0].signature == "BBB"
    assert message.content[1].citations[0].cited_text == "1 + 1 = 2"
    assert message.content[1].to_dict()["citations"] == [citation]
    assert message.usage.input_tokens == 9 and message.usage.output_tokens == 5
    assert [e.type for e in events].count("signature") == 2
    assert [e for e in events if e.type == "citation"][0].snapshot[0].document_title == "Math Facts"


def test_message_delta_usage_replaces_not_adds() -> None:
    parser, _ = run(START, message_delta(), message_delta(reason="max_tokens"))
    assert parser.message.usage.output_tokens == 5
    assert parser.message.stop_reason == "max_tokens"
    assert parser.message.usage.input_tokens == 3


def test_unknown_types_and_fields_are_kept() -> None:
    parser, events = run(
        START,
        sse({"type": "brand_new_event", "payload": [1, 2]}),
        block(0, {"type": "hologram", "frames": 3}),
        delta(0, {"type": "hologram_delta", "frame": 1}),
        stop(0),
        block(1, {"type": "text", "text": "", "sparkle": True}),
        delta(1, {"type": "text_delta", "text": "hi"}),
        stop(1),
        sse({"type": "message_delta", "delta": {"stop_reason": "end_turn", "stop_sequence": None, "mood": "calm"},
             "usage": {"output_tokens": 2, "future_tokens": 4}}),
        sse({"type": "message_stop"}),
    )
    assert events[1].type == "brand_new_event" and events[1].payload == [1, 2]
    content = parser.message.to_dict()["content"]
    assert content[0] == {"type": "hologram", "frames": 3}
    assert content[1] == {"type": "text", "text": "hi", "sparkle": True}
    assert parser.message.mood == "calm" and parser.message.usage.future_tokens == 4
    assert events[-1].type == "message_stop" and events[-1].message.content[1].text == "hi"


def test_events_are_not_changed_by_the_snapshot() -> None:
    parser, events = run(START, block(0, {"type": "text", "text": ""}), delta(0, {"type": "text_delta", "text": "x"}), stop(0),
                         message_delta())
    assert events[1].content_block.text == ""
    assert events[0].message.usage.output_tokens == 1
    assert parser.message.content[0].text == "x"


def test_complete_means_stop_reason() -> None:
    parser, _ = run(START, block(0, {"type": "text", "text": ""}), delta(0, {"type": "text_delta", "text": "x"}))
    assert not parser.complete
    parser, _ = run(START, message_delta())
    assert parser.complete


def test_events_after_message_stop_are_protocol_errors() -> None:
    with pytest.raises(UnexpectedEvent, match="after message_stop"):
        run(START, message_delta(), sse({"type": "message_stop"}), block(0, {"type": "text", "text": ""}))


def test_long_text_stream_is_linear() -> None:
    # 200,000 deltas with the snapshot read after each one: quadratic would take minutes.
    parser = EventStreamParser()
    parser.feed(START + block(0, {"type": "text", "text": ""}))
    piece = delta(0, {"type": "text_delta", "text": "abcde"})
    for _ in range(200):
        events = parser.feed(piece * 1000)
        assert len(events[-1].snapshot) == len(parser.message.content[0].text)
    assert len(parser.message.content[0].text) == 1_000_000


def test_web_search_shapes_and_input_given_whole() -> None:
    result = {"type": "web_search_tool_result", "tool_use_id": "srvtoolu_01", "content": [{"type": "web_search_result", "url": "u"}]}
    citation = {"type": "web_search_result_location", "cited_text": "c", "url": "u", "title": "t", "encrypted_index": "e"}
    parser, events = run(
        START,
        block(0, {"type": "server_tool_use", "id": "srvtoolu_01", "name": "web_search", "input": {}}),
        delta(0, {"type": "input_json_delta", "partial_json": '{"query": "x"}'}),
        stop(0),
        block(1, result),
        stop(1),
        block(2, {"type": "text", "text": "", "citations": []}),
        delta(2, {"type": "citations_delta", "citation": citation}),
        delta(2, {"type": "text_delta", "text": "answer"}),
        stop(2),
        block(3, {"type": "tool_use", "id": "toolu_1", "name": "given", "input": {"already": True}}),
        delta(3, {"type": "input_json_delta", "partial_json": ""}),
        stop(3),
        sse({"type": "message_delta", "delta": {"stop_reason": "end_turn", "stop_sequence": None},
             "usage": {"output_tokens": 9, "input_tokens": 12284, "server_tool_use": {"web_search_requests": 1, "web_fetch_requests": 0}}}),
    )
    content = parser.message.to_dict()["content"]
    assert content[0]["input"] == {"query": "x"} and content[1] == result
    assert content[2]["citations"] == [citation] and content[2]["text"] == "answer"
    assert content[3]["input"] == {"already": True}
    assert parser.message.usage.server_tool_use.web_search_requests == 1 and parser.message.usage.input_tokens == 12284


def test_error_only_body() -> None:
    parser, events = run(b'event: error\ndata: {"type":"error","error":{"details":null,"type":"overloaded_error","message":"Overloaded"}      }\n\n')
    assert events[0].error.type == "overloaded_error" and parser.message is None and not parser.complete


def test_data_less_ping_and_data_only_events() -> None:
    body = (START + b"event: ping\n\n" + b": comment\n\n"
            + b'data: {"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}\n\n'
            + b'event: content_block_delta\ndata: {"type":"content_block_delta",\ndata: "index":0,"delta":{"type":"text_delta","text":"hi"}}\n\n'
            + b"event: message_stop_soon\ndata: [1, 2]\n\n")
    parser, events = run(body)
    # the data-less `event: ping` block dispatches nothing (WHATWG); data-only events are kept
    assert [e.type for e in events] == ["message_start", "content_block_start", "content_block_delta", "text", "message_stop_soon"]
    assert events[-1].data == [1, 2] and parser.message.content[0].text == "hi"


def test_a_block_left_open_then_another_block() -> None:
    parser, _ = run(START, block(0, {"type": "tool_use", "id": "t", "name": "f", "input": {}}),
                    delta(0, {"type": "input_json_delta", "partial_json": '{"a": 1'}),
                    block(1, {"type": "text", "text": ""}), delta(1, {"type": "text_delta", "text": "x"}), stop(1),
                    message_delta("max_tokens"))
    assert parser.message.content[0].input == {"a": 1} and parser.message.content[1].text == "x"
    with pytest.raises(UnknownBlockIndex):
        run(START, block(0, {"type": "text", "text": ""}), stop(0), stop(5))
