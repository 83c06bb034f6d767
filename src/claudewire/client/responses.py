"""The SDK's raw response objects: ``.with_raw_response`` and ``.with_streaming_response``.

``with_raw_response.<method>()`` returns a ``LegacyAPIResponse``: the body already read
(not for streams), headers at hand, and ``parse()`` for what the plain call returns.
``with_streaming_response.<method>()`` returns a context manager around an
``APIResponse`` (``AsyncAPIResponse``) whose body is read only when asked, and always
released on exit. Typing the answer (``typer``) is the resource's, shared with the plain
call; reading goes through the one transport-error border.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

import httpx2

from ._transport import transport_errors

__all__ = [
    "LegacyAPIResponse",
    "APIResponse",
    "AsyncAPIResponse",
    "ResponseContextManager",
    "AsyncResponseContextManager",
]

Typer = Callable[[httpx2.Response, "bytes | None"], Any]
"""(response, body or None for a stream) -> what the plain call returns."""


class _ResponseFacts:
    http_response: httpx2.Response

    @property
    def headers(self) -> httpx2.Headers:
        return self.http_response.headers

    @property
    def status_code(self) -> int:
        return self.http_response.status_code

    @property
    def url(self) -> httpx2.URL:
        return self.http_response.url

    @property
    def method(self) -> str:
        return self.http_response.request.method

    @property
    def http_request(self) -> httpx2.Request:
        return self.http_response.request

    @property
    def http_version(self) -> str:
        return self.http_response.http_version

    @property
    def elapsed(self) -> datetime.timedelta:
        return self.http_response.elapsed

    @property
    def is_closed(self) -> bool:
        return self.http_response.is_closed

    @property
    def request_id(self) -> str | None:
        return self.http_response.headers.get("request-id")

    @property
    def retries_taken(self) -> int:
        return int(self.http_response.extensions.get("claudewire.retries_taken", 0))

    def __repr__(self) -> str:
        return f"<{type(self).__name__} [{self.status_code} {self.http_response.reason_phrase}]>"


class LegacyAPIResponse(_ResponseFacts):
    """``with_raw_response``: the response, its body already read unless it is a stream."""

    def __init__(self, response: httpx2.Response, content: bytes | None, typer: Typer, *, stream: bool) -> None:
        self.http_response = response
        self._content = content
        self._typer = typer
        self._stream = stream
        self._parsed: Any = None
        self._done = False

    @property
    def content(self) -> bytes:
        if self._content is None:
            raise RuntimeError("a streamed response's body is read by iterating parse()")
        return self._content

    @property
    def text(self) -> str:
        return self.content.decode(self.http_response.encoding or "utf-8")

    def json(self) -> Any:
        return json.loads(self.content)

    def parse(self) -> Any:
        """What the plain call returns (a ``Message``, a ``Stream``, a ``MessageStream``…), made once."""
        if not self._done:
            self._parsed, self._done = self._typer(self.http_response, self._content), True
        return self._parsed


class APIResponse(_ResponseFacts):
    """``with_streaming_response`` (blocking): nothing of the body is read until asked."""

    def __init__(self, response: httpx2.Response, typer: Typer, *, stream: bool) -> None:
        self.http_response = response
        self._typer = typer
        self._stream = stream
        self._parsed: Any = None
        self._done = False

    def read(self) -> bytes:
        with transport_errors():
            return self.http_response.read()

    def text(self) -> str:
        self.read()
        return self.http_response.text

    def json(self) -> Any:
        return json.loads(self.read())

    def iter_bytes(self, chunk_size: int | None = None) -> Iterator[bytes]:
        with transport_errors():
            yield from self.http_response.iter_bytes(chunk_size)

    def iter_text(self, chunk_size: int | None = None) -> Iterator[str]:
        with transport_errors():
            yield from self.http_response.iter_text(chunk_size)

    def iter_lines(self) -> Iterator[str]:
        with transport_errors():
            yield from self.http_response.iter_lines()

    def parse(self) -> Any:
        if not self._done:
            content = None if self._stream else self.read()
            self._parsed, self._done = self._typer(self.http_response, content), True
        return self._parsed

    def close(self) -> None:
        self.http_response.close()


class AsyncAPIResponse(_ResponseFacts):
    """``with_streaming_response`` (asyncio): the twin of ``APIResponse``."""

    def __init__(self, response: httpx2.Response, typer: Typer, *, stream: bool) -> None:
        self.http_response = response
        self._typer = typer
        self._stream = stream
        self._parsed: Any = None
        self._done = False

    async def read(self) -> bytes:
        with transport_errors():
            return await self.http_response.aread()

    async def text(self) -> str:
        await self.read()
        return self.http_response.text

    async def json(self) -> Any:
        return json.loads(await self.read())

    async def iter_bytes(self, chunk_size: int | None = None) -> AsyncIterator[bytes]:
        with transport_errors():
            async for chunk in self.http_response.aiter_bytes(chunk_size):
                yield chunk

    async def iter_text(self, chunk_size: int | None = None) -> AsyncIterator[str]:
        with transport_errors():
            async for text in self.http_response.aiter_text(chunk_size):
                yield text

    async def iter_lines(self) -> AsyncIterator[str]:
        with transport_errors():
            async for line in self.http_response.aiter_lines():
                yield line

    async def parse(self) -> Any:
        if not self._done:
            content = None if self._stream else await self.read()
            self._parsed, self._done = self._typer(self.http_response, content), True
        return self._parsed

    async def close(self) -> None:
        await self.http_response.aclose()


class ResponseContextManager:
    """``with client.messages.with_streaming_response.create(...) as response:`` sends on entry,
    releases the connection on exit."""

    def __init__(self, open_response: Callable[[], APIResponse]) -> None:
        self._open = open_response
        self._response: APIResponse | None = None

    def __enter__(self) -> APIResponse:
        self._response = self._open()
        return self._response

    def __exit__(self, *exc: Any) -> None:
        if self._response is not None:
            self._response.close()


class AsyncResponseContextManager:
    def __init__(self, open_response: Callable[[], Awaitable[AsyncAPIResponse]]) -> None:
        self._open = open_response
        self._response: AsyncAPIResponse | None = None

    async def __aenter__(self) -> AsyncAPIResponse:
        self._response = await self._open()
        return self._response

    async def __aexit__(self, *exc: Any) -> None:
        if self._response is not None:
            await self._response.close()
