"""The backend interface: what the server needs from anything that answers."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any, Protocol

from ...protocol.params import (
    DocumentBlockParam,
    ImageBlockParam,
    MessageCountTokensParams,
    MessageCreateParams,
    TextBlockParam,
    ToolResultBlockParam,
    ToolUseBlockParam,
)
from ..catalogue import ModelEntry
from ..errors import invalid


class Backend(Protocol):
    """Produces API stream events (JSON-shaped dicts) for a validated request.

    ``stream`` yields ``message_start`` first; raising ``APIErrorResponse`` before that
    gives the client a plain HTTP error, after it an in-band ``event: error``. Closing the
    iterator (the client went away) must stop the generation at once. A proxy backend
    fits the same shape: it yields the upstream's events as they come.
    """

    model: ModelEntry  # the model that really answers, listed in the catalogue

    async def count_tokens(self, params: MessageCountTokensParams) -> int: ...

    def stream(self, params: MessageCreateParams) -> AsyncIterator[dict[str, Any]]: ...

    async def aclose(self) -> None: ...


def block_text(block: Any) -> str:
    """A request content block as plain text, for backends that only read text."""
    if isinstance(block, TextBlockParam):
        return block.text
    if isinstance(block, ToolUseBlockParam):
        return f"[tool call {block.name}: {json.dumps(block.input)}]"
    if isinstance(block, ToolResultBlockParam):
        content = block.content
        if isinstance(content, list):
            content = "\n".join(b.text for b in content if isinstance(b, TextBlockParam))
        return f"[tool result: {content or ''}]"
    if isinstance(block, DocumentBlockParam) and block.source.get("type") == "text":
        return str(block.source.get("data", ""))
    return ""  # images, thinking and the rest carry no text for a text-only model


def reject_non_text(params: MessageCountTokensParams, model_id: str) -> None:
    """A text-only model cannot see an image or a PDF: say so with a 400, never drop it silently
    (the model would answer as if it had seen it). A plain-text document is text, and passes."""
    for i, message in enumerate(params.messages):
        if isinstance(message.content, str):
            continue
        for j, block in enumerate(message.content):
            nested = block.content if isinstance(block, ToolResultBlockParam) and isinstance(block.content, list) else [block]
            for inner in nested:
                kind = _non_text_kind(inner)
                if kind is not None:
                    raise invalid(f"messages.{i}.content.{j}: {model_id} reads text only and cannot take {kind} content; "
                                  "send the text instead, or use a backend with vision")


def _non_text_kind(block: Any) -> str | None:
    if isinstance(block, ImageBlockParam):
        return "image"
    if isinstance(block, DocumentBlockParam) and block.source.get("type") != "text":
        return "document"
    return None


def message_text(content: str | list[Any]) -> str:
    if isinstance(content, str):
        return content
    return "\n".join(t for t in (block_text(b) for b in content) if t)


def system_text(system: str | list[Any] | None) -> str:
    if system is None:
        return ""
    return system if isinstance(system, str) else "\n".join(b.text for b in system)


class StopSequenceFilter:
    """Holds back text that might be the start of a stop sequence; finds the first match."""

    def __init__(self, stop_sequences: list[str]) -> None:
        self.stops = [s for s in stop_sequences if s]
        self.held = ""

    def push(self, text: str) -> tuple[str, str | None]:
        """Returns (text safe to emit, the stop sequence matched or None)."""
        self.held += text
        if not self.stops:
            out, self.held = self.held, ""
            return out, None
        hits = [(self.held.find(s), s) for s in self.stops if s in self.held]
        if hits:
            at, stop = min(hits)
            out, self.held = self.held[:at], ""
            return out, stop
        keep = 0
        for stop in self.stops:
            for k in range(min(len(stop) - 1, len(self.held)), 0, -1):
                if self.held.endswith(stop[:k]):
                    keep = max(keep, k)
                    break
        out = self.held[: len(self.held) - keep]
        self.held = self.held[len(self.held) - keep :]
        return out, None

    def flush(self) -> str:
        out, self.held = self.held, ""
        return out
