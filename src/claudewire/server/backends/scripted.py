"""A deterministic backend for tests and benchmarks.

The reply echoes the text of the last user message, one word per ``text_delta``
(whitespace travels with the following word). ``max_tokens`` caps the words,
``stop_sequences`` cut the text before the first match, forced tool use returns one
tool call whose input fills the schema's required properties, and enabled thinking
adds a thinking block (deltas, then a signature) first.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import AsyncIterator
from typing import Any

from ...protocol.params import MessageCountTokensParams, MessageCreateParams, TextBlockParam
from ..builder import MessageBuilder
from ..catalogue import ModelEntry
from .base import StopSequenceFilter, message_text, system_text

_WORD = re.compile(r"\s*\S+")
_PLACEHOLDERS = {"string": "example", "number": 0, "integer": 0, "boolean": False, "array": [], "object": {}}
THINKING = "Let me think about how to answer this. I will repeat the message back."


def words(text: str) -> list[str]:
    pieces = _WORD.findall(text)
    rest = text[sum(map(len, pieces)) :]
    if rest:
        if pieces:
            pieces[-1] += rest
        else:
            pieces = [rest]
    return pieces


def count_tokens(params: MessageCountTokensParams) -> int:
    parts = [system_text(params.system)]
    parts += [message_text(m.content) for m in params.messages]
    for tool in params.tools or ():
        parts.append(tool.name + " " + (tool.description or "") + " " + json.dumps(tool.input_schema or {}))
    return max(1, sum(len(p.split()) for p in parts))


def tool_input(schema: dict[str, Any] | None) -> dict[str, Any]:
    schema = schema or {}
    properties = schema.get("properties", {})
    return {name: _PLACEHOLDERS.get(properties.get(name, {}).get("type"), "example") for name in schema.get("required", [])}


class ScriptedBackend:
    def __init__(self) -> None:
        self.model = ModelEntry("claudewire-scripted", "claudewire scripted echo", "2026-11-25T00:00:00Z", 128_000, 1_000_000)

    async def count_tokens(self, params: MessageCountTokensParams) -> int:
        return count_tokens(params)

    async def aclose(self) -> None:
        pass

    async def stream(self, params: MessageCreateParams) -> AsyncIterator[dict[str, Any]]:
        for event in self.events(params):
            yield event

    def events(self, params: MessageCreateParams) -> list[dict[str, Any]]:
        build = MessageBuilder(params.model, count_tokens(params))
        out = [build.start()]
        choice = params.tool_choice
        if choice is not None and choice.type in ("any", "tool") and params.tools:
            tool = next((t for t in params.tools if t.name == choice.name), params.tools[0])
            document = json.dumps(tool_input(tool.input_schema))
            out += build.tool_use(tool.name)
            for i in range(0, len(document), 8):
                out += build.input_json(document[i : i + 8])
            return out + build.finish("tool_use")
        if params.thinking is not None and params.thinking.type in ("enabled", "adaptive"):
            out += build.thinking("")  # with display "omitted" the block gets only its signature
            if params.thinking.display != "omitted":
                for word in words(THINKING):
                    out += build.thinking(word)
            digest = hashlib.sha256(THINKING.encode()).digest()
            out += build.signature(base64.b64encode(digest * 2).decode())
        last_user = next((m for m in reversed(params.messages) if m.role == "user"), None)
        text = "\n".join(_texts(last_user.content)) if last_user else ""
        stops = StopSequenceFilter(params.stop_sequences or [])
        text, stop_sequence = stops.push(text)
        text += stops.flush()  # the whole text is here: nothing to hold back for later
        stop_reason = "end_turn" if stop_sequence is None else "stop_sequence"
        pieces = words(text)
        if len(pieces) > params.max_tokens:
            pieces, stop_reason, stop_sequence = pieces[: params.max_tokens], "max_tokens", None
        out += build.text("")
        for piece in pieces:
            out += build.text(piece)
        return out + build.finish(stop_reason, stop_sequence)


def _texts(content: str | list[Any]) -> list[str]:
    if isinstance(content, str):
        return [content]
    return [b.text for b in content if isinstance(b, TextBlockParam)]
