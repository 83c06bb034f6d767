"""One suite over both clients: each scenario runs through ``Anthropic`` and ``AsyncAnthropic``."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

import claudewire

KEY = "sk-ant-api03-SECRET-never-shown-0123456789"
KINDS = ["sync", "async"]


@dataclass
class Outcome:
    texts: list[str] = field(default_factory=list)
    events: list[Any] = field(default_factory=list)
    message: Any = None
    error: BaseException | None = None
    request_id: str | None = None
    snapshot: Any = None

    @property
    def text(self) -> str:
        return "".join(self.texts)


def client(kind: str, server: Any, **options: Any) -> Any:
    cls = claudewire.Anthropic if kind == "sync" else claudewire.AsyncAnthropic
    options.setdefault("api_key", KEY)
    return cls(base_url=server.base_url, **options)


def params(text: str = "one two three four five", **changes: Any) -> dict[str, Any]:
    return {"model": "claude-sonnet-4-6", "max_tokens": 64, "messages": [{"role": "user", "content": text}], **changes}


def stream(kind: str, server: Any, *, options: dict | None = None, events: bool = False, stop_after: int | None = None,
           **call: Any) -> Outcome:
    """``with client.messages.stream(**call)``: text (or events), then the final message."""
    out = Outcome()
    c = client(kind, server, **(options or {}))
    if kind == "sync":
        try:
            with c.messages.stream(**call) as s:
                out.request_id = s.request_id
                source = iter(s) if events else s.text_stream
                for i, item in enumerate(source):
                    (out.events if events else out.texts).append(item)
                    if stop_after is not None and i + 1 >= stop_after:
                        break
                out.snapshot = s.current_message_snapshot
                if stop_after is None:
                    out.message = s.get_final_message()
        except claudewire.APIError as exc:
            out.error = exc
        return out

    async def run() -> None:
        try:
            async with c.messages.stream(**call) as s:
                out.request_id = s.request_id
                source = s if events else s.text_stream
                i = 0
                async for item in source:
                    (out.events if events else out.texts).append(item)
                    i += 1
                    if stop_after is not None and i >= stop_after:
                        break
                out.snapshot = s.current_message_snapshot
                if stop_after is None:
                    out.message = await s.get_final_message()
        except claudewire.APIError as exc:
            out.error = exc

    asyncio.run(run())
    return out


def call(kind: str, server: Any, method: str, *args: Any, options: dict | None = None, **kwargs: Any) -> Any:
    """Call ``client.<method>`` (dotted) on either client; returns the result or the APIError raised."""
    c = client(kind, server, **(options or {}))
    target: Any = c
    for part in method.split("."):
        target = getattr(target, part)
    try:
        if kind == "sync":
            return target(*args, **kwargs)

        async def run() -> Any:
            result = target(*args, **kwargs)
            return await result if asyncio.iscoroutine(result) or hasattr(result, "__await__") else result

        return asyncio.run(run())
    except claudewire.APIError as exc:
        return exc
