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
    SearchResultBlockParam,
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
            content = "\n".join(t for t in (block_text(b) for b in content) if t)
        return f"[tool result: {content or ''}]"
    if isinstance(block, DocumentBlockParam) and block.source.get("type") == "text":
        return str(block.source.get("data", ""))
    if isinstance(block, SearchResultBlockParam):
        return f"[search result {block.title} ({block.source}):\n" + "\n".join(b.text for b in block.content) + "]"
    return ""  # the model's own thinking, passed back, carries nothing to read (images and PDFs are refused first)


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
    """Holds back text that might be the start of a stop sequence; finds the first match.

    Linear in the text whatever the stop sequences: they are compiled once into an
    Aho-Corasick automaton, and each pushed character moves it one step (amortised). The
    automaton's state is the longest end of the text so far that begins some stop
    sequence; exactly that much is held back. The first stop sequence to be completed
    wins (the longest one, if several end on the same character), as generation meets it.
    """

    def __init__(self, stop_sequences: list[str]) -> None:
        self.stops = [s for s in dict.fromkeys(stop_sequences) if s]
        self.held = ""
        self._automaton = _Automaton(self.stops) if self.stops else None
        self._state = 0

    def push(self, text: str) -> tuple[str, str | None]:
        """Returns (text safe to emit, the stop sequence matched or None)."""
        automaton = self._automaton
        if automaton is None:
            return text, None
        buffer = self.held + text
        state, matched = automaton.run(self._state, text)
        if matched is not None:
            end = len(self.held) + matched[0] + 1
            stop = matched[1]
            self.held, self._state = "", 0
            return buffer[: end - len(stop)], stop
        self._state = state
        keep = automaton.depth[state]
        self.held = buffer[len(buffer) - keep :] if keep else ""
        return buffer[: len(buffer) - keep], None

    def flush(self) -> str:
        out, self.held, self._state = self.held, "", 0
        return out


class _Automaton:
    """Aho-Corasick over the stop sequences: ``goto`` tries, ``fail`` links, and the
    longest stop sequence ending at each state."""

    __slots__ = ("goto", "fail", "depth", "ends")

    def __init__(self, stops: list[str]) -> None:
        goto: list[dict[str, int]] = [{}]
        depth = [0]
        ends: list[str | None] = [None]
        for stop in stops:
            node = 0
            for char in stop:
                nxt = goto[node].get(char)
                if nxt is None:
                    nxt = len(goto)
                    goto[node][char] = nxt
                    goto.append({})
                    depth.append(depth[node] + 1)
                    ends.append(None)
                node = nxt
            ends[node] = stop
        fail = [0] * len(goto)
        queue = list(goto[0].values())
        for node in queue:  # breadth first: a node's fail link is shallower, so already set
            for char, child in goto[node].items():
                link = fail[node]
                while link and char not in goto[link]:
                    link = fail[link]
                target = goto[link].get(char, 0)
                fail[child] = target if target != child else 0
                if ends[child] is None and ends[fail[child]] is not None:
                    ends[child] = ends[fail[child]]
                queue.append(child)
        self.goto, self.fail, self.depth, self.ends = goto, fail, depth, ends

    def run(self, state: int, text: str) -> tuple[int, tuple[int, str] | None]:
        """Feed ``text`` from ``state``: (new state, (index in text, stop) of the first match or None)."""
        goto, fail, ends = self.goto, self.fail, self.ends
        for i, char in enumerate(text):
            while state and char not in goto[state]:
                state = fail[state]
            state = goto[state].get(char, 0)
            stop = ends[state]
            if stop is not None:
                return state, (i, stop)
        return state, None
