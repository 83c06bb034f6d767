"""Generated SSE bodies shared by the benchmarks: long text streams and big tool inputs."""

from __future__ import annotations

import json
import random

from claudewire.protocol import encode_event


def _event(payload: dict) -> bytes:
    return encode_event(payload["type"], json.dumps(payload, separators=(",", ":")))


def _start(input_tokens: int = 25) -> list[bytes]:
    message = {
        "id": "msg_01BenchBenchBenchBenchBe",
        "type": "message",
        "role": "assistant",
        "model": "claude-sonnet-4-6",
        "content": [],
        "stop_reason": None,
        "stop_sequence": None,
        "usage": {"input_tokens": input_tokens, "output_tokens": 1},
    }
    return [_event({"type": "message_start", "message": message})]


def _end(stop_reason: str, output_tokens: int) -> list[bytes]:
    return [
        _event({"type": "message_delta", "delta": {"stop_reason": stop_reason, "stop_sequence": None}, "usage": {"output_tokens": output_tokens}}),
        _event({"type": "message_stop"}),
    ]


def text_body(deltas: int = 20_000, seed: int = 7) -> bytes:
    rng = random.Random(seed)
    words = ["stream", " the", " quick", " brown", " fox", " jumps", " over", " é", " lazy", " dog.", "\n", " 🚀"]
    events = _start()
    events.append(_event({"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}))
    events.append(b'event: ping\ndata: {"type": "ping"}\n\n')
    for _ in range(deltas):
        text = rng.choice(words)
        events.append(_event({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": text}}))
    events.append(_event({"type": "content_block_stop", "index": 0}))
    return b"".join(events + _end("end_turn", deltas))


def tool_body(total_bytes: int, fragments: int, seed: int = 11) -> bytes:
    rng = random.Random(seed)
    items = []
    size = 0
    while size < total_bytes:
        item = {"id": len(items), "name": "item-%d" % rng.randrange(10**6), "note": "x" * rng.randrange(20, 120)}
        items.append(item)
        size += len(json.dumps(item)) + 1
    document = json.dumps({"items": items})
    step = max(1, len(document) // fragments)
    events = _start()
    events.append(
        _event({"type": "content_block_start", "index": 0, "content_block": {"type": "tool_use", "id": "toolu_01Bench", "name": "store", "input": {}}})
    )
    events.append(_event({"type": "content_block_delta", "index": 0, "delta": {"type": "input_json_delta", "partial_json": ""}}))
    for i in range(0, len(document), step):
        events.append(
            _event({"type": "content_block_delta", "index": 0, "delta": {"type": "input_json_delta", "partial_json": document[i : i + step]}})
        )
    events.append(_event({"type": "content_block_stop", "index": 0}))
    return b"".join(events + _end("tool_use", fragments))


def count_events(body: bytes) -> int:
    return body.count(b"\n\n")


def chunked(body: bytes, size: int = 16 * 1024) -> list[bytes]:
    return [body[i : i + size] for i in range(0, len(body), size)]
