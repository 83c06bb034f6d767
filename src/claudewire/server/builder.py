"""Builds a well-formed Messages stream, event by event (sans-IO).

Backends say what they generate (text, thinking, a tool call, a stop); the builder
keeps the grammar: message_start with empty content and a null stop_reason, block
indices 0..n-1, one open block at a time, cumulative usage in message_delta.
"""

from __future__ import annotations

from typing import Any

from . import ids

Event = dict[str, Any]


class MessageBuilder:
    def __init__(self, model: str, input_tokens: int, message_id: str | None = None, *,
                 cache_read_input_tokens: int | None = None) -> None:
        self.model = model
        self.input_tokens = input_tokens
        self.cache_read = cache_read_input_tokens  # given: input usage is repeated in message_delta, as the API does
        self.id = message_id or ids.message_id()
        self.index = -1
        self.open: str | None = None
        self.deltas = 0

    def start(self) -> Event:
        return {
            "type": "message_start",
            "message": {
                "id": self.id,
                "type": "message",
                "role": "assistant",
                "model": self.model,
                "content": [],
                "stop_reason": None,
                "stop_sequence": None,
                "usage": {
                    "input_tokens": self.input_tokens,
                    "cache_creation_input_tokens": 0,
                    "cache_read_input_tokens": self.cache_read or 0,
                    "output_tokens": 1,
                    "service_tier": "standard",
                },
            },
        }

    def _open(self, kind: str, block: dict[str, Any]) -> list[Event]:
        events = self.close()
        self.index += 1
        self.open = kind
        events.append({"type": "content_block_start", "index": self.index, "content_block": block})
        return events

    def close(self) -> list[Event]:
        if self.open is None:
            return []
        self.open = None
        return [{"type": "content_block_stop", "index": self.index}]

    def _delta(self, delta: dict[str, Any]) -> Event:
        self.deltas += 1
        return {"type": "content_block_delta", "index": self.index, "delta": delta}

    def text(self, text: str) -> list[Event]:
        events = self._open("text", {"type": "text", "text": ""}) if self.open != "text" else []
        if text:
            events.append(self._delta({"type": "text_delta", "text": text}))
        return events

    def thinking(self, thinking: str) -> list[Event]:
        events = self._open("thinking", {"type": "thinking", "thinking": "", "signature": ""}) if self.open != "thinking" else []
        if thinking:
            events.append(self._delta({"type": "thinking_delta", "thinking": thinking}))
        return events

    def signature(self, signature: str) -> list[Event]:
        return [self._delta({"type": "signature_delta", "signature": signature})]

    def tool_use(self, name: str, tool_id: str | None = None) -> list[Event]:
        block = {"type": "tool_use", "id": tool_id or ids.tool_use_id(), "name": name, "input": {}}
        events = self._open("tool_use", block)
        events.append(self._delta({"type": "input_json_delta", "partial_json": ""}))
        return events

    def input_json(self, fragment: str) -> list[Event]:
        return [self._delta({"type": "input_json_delta", "partial_json": fragment})]

    def finish(self, stop_reason: str, stop_sequence: str | None = None, output_tokens: int | None = None) -> list[Event]:
        events = self.close()
        usage = {  # cumulative, every count as the live API sends it (wire-spec §4.5)
            "input_tokens": self.input_tokens,
            "cache_creation_input_tokens": 0,
            "cache_read_input_tokens": self.cache_read or 0,
            "output_tokens": self.deltas if output_tokens is None else output_tokens,
        }
        events.append(
            {"type": "message_delta", "delta": {"stop_reason": stop_reason, "stop_sequence": stop_sequence}, "usage": usage}
        )
        events.append({"type": "message_stop"})
        return events
