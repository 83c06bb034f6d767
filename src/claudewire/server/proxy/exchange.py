"""One forwarded exchange: the request as it goes upstream, and the reply as it comes back."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

from .headers import Headers


@dataclass(slots=True)
class Call:
    """A client's request, read whole (so it can be retried and recorded)."""

    method: str
    target: str  # path and query, as the client sent them
    headers: Headers  # the client's headers, credentials included; the backend decides what goes on
    body: bytes


class UpstreamBroke(Exception):
    """The upstream failed after its status line: the body ends here. The message names why."""


class Reply:
    """An upstream response: status, headers and the raw body, chunk by chunk as it arrives.

    ``chunks`` raises ``UpstreamBroke`` when the body is cut by a transport failure or an
    idle timeout; a body that simply ends is faithful and raises nothing. ``aclose`` must
    run whatever happens: it closes the upstream connection of an unfinished body.
    """

    __slots__ = ("status", "headers", "chunks", "_close")

    def __init__(self, status: int, headers: Headers, chunks: AsyncIterator[bytes], close: Callable[[], Awaitable[None]]) -> None:
        self.status = status
        self.headers = headers
        self.chunks = chunks
        self._close = close

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers if k.lower() == name), None)

    @property
    def is_event_stream(self) -> bool:
        return (self.header("content-type") or "").lower().startswith("text/event-stream")

    async def aclose(self) -> None:
        await self._close()
