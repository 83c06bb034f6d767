"""A deterministic backend for tests and benchmarks.

The reply echoes the text of the last user message, one word per ``text_delta``
(whitespace travels with the following word). ``max_tokens`` caps the words,
``stop_sequences`` cut the text before the first match, forced tool use returns one
tool call whose input fills the schema's required properties, and enabled thinking
adds a thinking block (deltas, then a signature) first.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import re
from collections.abc import AsyncIterator, Iterator
from typing import Any

from ...protocol.params import MessageCountTokensParams, MessageCreateParams, TextBlockParam
from ..builder import MessageBuilder
from ..catalogue import ModelEntry
from .base import message_text, system_text

_WORD = re.compile(r"\s*\S+")
_PLACEHOLDERS = {"string": "example", "number": 0, "integer": 0, "boolean": False, "array": [], "object": {}}
THINKING = "Let me think about how to answer this. I will repeat the message back."
YIELD_EVERY = 64  # events between two returns to the event loop, so one long reply never holds it
OFF_LOOP_CHARS = 256 * 1024  # longer texts are counted and searched in a worker thread


def iter_words(text: str) -> Iterator[str]:
    """The reply's pieces, lazily: each word with the whitespace before it; trailing
    whitespace rides on the last one."""
    previous = None
    end = 0
    for match in _WORD.finditer(text):
        if previous is not None:
            yield previous
        previous = match.group()
        end = match.end()
    rest = text[end:]
    if previous is not None:
        yield previous + rest
    elif rest:
        yield rest


def words(text: str) -> list[str]:
    return list(iter_words(text))


def count_words(text: str, step: int = 1 << 20) -> int:
    """``len(text.split())`` without holding every word at once."""
    count = 0
    for at in range(0, len(text), step):
        count += len(text[at : at + step].split())
        if at and not text[at - 1].isspace() and not text[at].isspace():
            count -= 1  # one word cut in two by the slicing
    return count


def count_tokens(params: MessageCountTokensParams) -> int:
    parts = [system_text(params.system)]
    parts += [message_text(m.content) for m in params.messages]
    for tool in params.tools or ():
        parts.append(tool.name + " " + (tool.description or "") + " " + json.dumps(tool.input_schema or {}))
    return max(1, sum(count_words(p) for p in parts))


def tool_input(schema: Any) -> dict[str, Any]:
    """An input that fills the schema's required properties; any shape of schema is taken."""
    schema = schema if isinstance(schema, dict) else {}
    properties = schema.get("properties")
    properties = properties if isinstance(properties, dict) else {}
    required = schema.get("required")
    names = [name for name in required if isinstance(name, str)] if isinstance(required, list) else []
    out: dict[str, Any] = {}
    for name in names:
        spec = properties.get(name)
        kind = spec.get("type") if isinstance(spec, dict) else None
        out[name] = _PLACEHOLDERS.get(kind, "example") if isinstance(kind, str) else "example"
    return out


def _reply_text(params: MessageCreateParams) -> str:
    last_user = next((m for m in reversed(params.messages) if m.role == "user"), None)
    return "\n".join(_texts(last_user.content)) if last_user else ""


async def _off_loop(size: int, work: Any, *args: Any) -> Any:
    return work(*args) if size <= OFF_LOOP_CHARS else await asyncio.to_thread(work, *args)


class ScriptedBackend:
    def __init__(self) -> None:
        self.model = ModelEntry("claudewire-scripted", "claudewire scripted echo", "2026-11-25T00:00:00Z", 128_000, 1_000_000)

    async def count_tokens(self, params: MessageCountTokensParams) -> int:
        return await _off_loop(_size(params), count_tokens, params)

    async def aclose(self) -> None:
        pass

    async def stream(self, params: MessageCreateParams) -> AsyncIterator[dict[str, Any]]:
        """The reply, generated as it is sent: never more than one event built ahead."""
        size = _size(params)
        input_tokens = await _off_loop(size, count_tokens, params)
        text = _reply_text(params)
        cut = await _off_loop(len(text), first_stop, text, params.stop_sequences or [])
        for n, event in enumerate(self.events(params, input_tokens, text, cut), 1):
            yield event
            if n % YIELD_EVERY == 0:
                await asyncio.sleep(0)

    def events(self, params: MessageCreateParams, input_tokens: int | None = None, text: str | None = None,
               cut: tuple[int, str] | None = None) -> Iterator[dict[str, Any]]:
        """The reply's events, one at a time. ``text`` and its first stop ``cut`` may be given
        (computed off the loop for long texts)."""
        build = MessageBuilder(params.model, count_tokens(params) if input_tokens is None else input_tokens)
        yield build.start()
        choice = params.tool_choice
        if choice is not None and choice.type in ("any", "tool") and params.tools:
            tool = next((t for t in params.tools if t.name == choice.name), params.tools[0])
            document = json.dumps(tool_input(tool.input_schema))
            yield from build.tool_use(tool.name)
            for i in range(0, len(document), 8):
                yield from build.input_json(document[i : i + 8])
            yield from build.finish("tool_use")
            return
        if params.thinking is not None and params.thinking.type in ("enabled", "adaptive"):
            yield from build.thinking("")  # with display "omitted" the block gets only its signature
            if params.thinking.display != "omitted":
                for word in iter_words(THINKING):
                    yield from build.thinking(word)
            digest = hashlib.sha256(THINKING.encode()).digest()
            yield from build.signature(base64.b64encode(digest * 2).decode())
        if text is None:
            text = _reply_text(params)
            cut = first_stop(text, params.stop_sequences or [])
        stop_reason, stop_sequence = "end_turn", None
        if cut is not None:
            text, stop_reason, stop_sequence = text[: cut[0]], "stop_sequence", cut[1]
        yield from build.text("")
        for n, piece in enumerate(iter_words(text)):
            if n == params.max_tokens:
                stop_reason, stop_sequence = "max_tokens", None
                break
            yield from build.text(piece)
        yield from build.finish(stop_reason, stop_sequence)


def first_stop(text: str, stop_sequences: list[str]) -> tuple[int, str] | None:
    """Where the first stop sequence to be completed starts, and which (the whole text is
    known here, so C-speed ``find`` replaces the streaming filter)."""
    best: tuple[int, int, str] | None = None
    for stop in stop_sequences:
        at = text.find(stop) if stop else -1
        if at >= 0:
            key = (at + len(stop), -len(stop), stop)  # earliest end; the longest of those
            if best is None or key < best:
                best = key
    return None if best is None else (best[0] + best[1], best[2])


def _size(params: MessageCountTokensParams) -> int:
    return sum(len(m.content) if isinstance(m.content, str) else sum(len(getattr(b, "text", "") or "") for b in m.content)
               for m in params.messages)


def _texts(content: str | list[Any]) -> list[str]:
    if isinstance(content, str):
        return [content]
    return [b.text for b in content if isinstance(b, TextBlockParam)]
