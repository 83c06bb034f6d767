"""``AsyncAnthropic``: the asyncio client over ``httpx2.AsyncClient``, twin of ``_sync``.

Connections belong to an event loop, so the client keeps one ``httpx2.AsyncClient`` per
running loop: the same client object works across successive ``asyncio.run`` calls, and
using it with no running loop says what to do instead of failing deep inside asyncio.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable, Generator
from typing import Any, Literal, overload

import httpx2

from .._exceptions import APIConnectionError
from .._types import NOT_GIVEN
from ..protocol.types import Message, MessageTokensCount, ModelInfo, RawMessageStreamEvent
from . import resources as r
from ._base import BaseClient, Mode
from ._options import DEFAULT_CONNECTION_LIMITS, DEFAULT_TIMEOUT
from ._retry import Attempts
from ._transport import transport_errors
from .responses import AsyncAPIResponse, AsyncResponseContextManager, LegacyAPIResponse
from .resume import Resumer
from .streaming import AsyncMessageStream, AsyncMessageStreamManager, AsyncStream

NO_LOOP = (
    "AsyncAnthropic must be used inside a running event loop: put the calls in an `async def main()` "
    "and run it with asyncio.run(main()). For blocking code, use claudewire.Anthropic instead."
)


class DefaultAsyncHttpxClient(httpx2.AsyncClient):
    """The ``httpx2.AsyncClient`` the client makes for itself: the SDK's timeout, limits and redirects."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("timeout", DEFAULT_TIMEOUT)
        kwargs.setdefault("limits", DEFAULT_CONNECTION_LIMITS)
        kwargs.setdefault("follow_redirects", True)
        super().__init__(**kwargs)


class AsyncAnthropic(BaseClient):
    """The asyncio client; the same options as ``Anthropic``."""

    _is_async = True
    _event_stream = AsyncStream
    _message_stream = AsyncMessageStream

    def _init_http(self, http_client: httpx2.AsyncClient | None) -> None:
        self._given_http = http_client
        self._per_loop: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, httpx2.AsyncClient] = weakref.WeakKeyDictionary()
        self.messages = AsyncMessages(self)
        self.beta = AsyncBeta(self)
        self.models = AsyncModels(self)
        self.with_raw_response = AsyncResources(self, "raw")
        self.with_streaming_response = AsyncResources(self, "streaming")

    def _given_http_client(self) -> httpx2.AsyncClient | None:
        return self._given_http

    @property
    def _http(self) -> httpx2.AsyncClient:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            raise RuntimeError(NO_LOOP) from None
        if self._given_http is not None:
            return self._given_http
        client = self._per_loop.get(loop)
        if client is None:
            client = self._per_loop[loop] = DefaultAsyncHttpxClient(timeout=self._options.timeouts.request)
        return client

    async def close(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> AsyncAnthropic:
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.close()

    async def _send(self, call: r.Call) -> httpx2.Response:
        """Send with retries before the first byte of a success; never after."""
        http = self._http
        attempts = Attempts(self._options, call, async_=True)
        while True:
            try:
                with transport_errors():
                    response = await http.send(http.build_request(**attempts.next_request()), stream=True)
            except APIConnectionError as exc:
                delay = attempts.after_transport_error(exc)
            else:
                if response.is_success:
                    response.extensions["claudewire.retries_taken"] = attempts.attempt
                    return response
                delay = attempts.after_error_status(response, await self._read(response))
            await asyncio.sleep(delay)

    async def _read(self, response: httpx2.Response) -> bytes:
        try:
            with transport_errors():
                return await response.aread()
        finally:
            await response.aclose()

    def _execute(self, build: Callable[[], r.Request], mode: Mode) -> Any:
        """An awaitable of the typed answer (or the raw response), or for ``streaming`` an
        ``async with`` manager; the request is built and sent only when awaited or entered."""
        if mode == "streaming":

            async def open_response() -> AsyncAPIResponse:
                request = build()
                response = await self._send(request.call)
                return AsyncAPIResponse(response, self._typer(request), stream=request.stream is not None)

            return AsyncResponseContextManager(open_response)
        return self._run(build, mode)

    async def _run(self, build: Callable[[], r.Request], mode: Mode) -> Any:
        request = build()
        response = await self._send(request.call)
        content = None if request.stream else await self._read(response)
        if mode == "raw":
            return LegacyAPIResponse(response, content, self._typer(request), stream=request.stream is not None)
        return self._typer(request)(response, content)

    async def _request(self, call: r.Call) -> tuple[bytes, httpx2.Response]:
        response = await self._send(call)
        return await self._read(response), response

    def _resumer(self, response: httpx2.Response) -> Resumer | None:
        return Resumer.offered(self._options, response.headers, async_=True)

    async def _reconnect(self, request: dict[str, Any]) -> httpx2.Response | APIConnectionError:
        """One attempt to reattach a broken resumable stream; its StreamCore judges the answer."""
        http = self._http
        try:
            with transport_errors():
                response = await http.send(http.build_request(**request), stream=True)
        except APIConnectionError as exc:
            return exc
        if response.status_code not in (200, 204):
            await response.aclose()
        return response


class AsyncMessages:
    """``client.messages`` (asyncio); the twin of ``Messages``. Each method returns an awaitable,
    or (``with_streaming_response``) an ``async with`` context manager."""

    def __init__(self, client: AsyncAnthropic, *, mode: Mode = "parsed", beta: bool = False) -> None:
        self._client = client
        self._mode: Mode = mode
        self._beta = beta
        if mode == "parsed":
            self.with_raw_response = AsyncMessages(client, mode="raw", beta=beta)
            self.with_streaming_response = AsyncMessages(client, mode="streaming", beta=beta)

    @overload
    def create(self, *, stream: Literal[False] = False, timeout: Any = NOT_GIVEN, **params: Any) -> Awaitable[Message]: ...

    @overload
    def create(self, *, stream: Literal[True], timeout: Any = NOT_GIVEN, **params: Any) -> Awaitable[AsyncStream[RawMessageStreamEvent]]: ...

    def create(self, *, stream: bool = False, timeout: Any = NOT_GIVEN, **params: Any) -> Any:
        """A finished ``Message``; with ``stream=True``, the raw events as they arrive."""
        client = self._client
        return client._execute(lambda: r.create_request(params, stream=stream, timeout=timeout, beta=self._beta,
                                                        client_timeout_is_default=client._timeout_is_default()), self._mode)

    def stream(self, *, timeout: Any = NOT_GIVEN, **params: Any) -> AsyncMessageStreamManager:
        """``async with client.messages.stream(...) as stream``: sent when the block starts."""
        client = self._client

        def build() -> r.Request:
            return r.stream_request(params, timeout=timeout, beta=self._beta)

        if self._mode == "parsed":
            return AsyncMessageStreamManager(lambda: client._execute(build, "parsed"))
        return client._execute(build, self._mode)

    def resume(self, stream_id: str, *, after: int | None = None) -> AsyncMessageStreamManager:
        """Attach to a resumable stream started elsewhere (another process, a page reload): the
        events after ``after`` (default: all) with the whole message's snapshot; a break of
        this connection is resumed too."""
        client = self._client
        return AsyncMessageStreamManager(lambda: client._execute(lambda: r.resume_request(stream_id, after), "parsed"))

    def count_tokens(self, **params: Any) -> Awaitable[MessageTokensCount]:
        return self._client._execute(lambda: r.count_tokens_request(params, beta=self._beta), self._mode)


class AsyncBeta:
    """``client.beta``: the messages API with ``betas=[...]``."""

    def __init__(self, client: AsyncAnthropic, *, mode: Mode = "parsed") -> None:
        self.messages = AsyncMessages(client, mode=mode, beta=True)


class AsyncModels:
    def __init__(self, client: AsyncAnthropic, *, mode: Mode = "parsed") -> None:
        self._client = client
        self._mode: Mode = mode
        if mode == "parsed":
            self.with_raw_response = AsyncModels(client, mode="raw")
            self.with_streaming_response = AsyncModels(client, mode="streaming")

    def retrieve(self, model_id: str) -> Awaitable[ModelInfo]:
        return self._client._execute(lambda: r.model_retrieve_request(model_id), self._mode)

    def list(self, *, limit: Any = NOT_GIVEN, after_id: Any = NOT_GIVEN, before_id: Any = NOT_GIVEN) -> AsyncPaginator:
        """``await`` it for the first page, or ``async for`` over every model on every page."""
        def build() -> r.Request:
            return self._list_request(limit, after_id, before_id)

        if self._mode == "parsed":
            return AsyncPaginator(lambda: self._client._execute(build, "parsed"))
        return self._client._execute(build, self._mode)

    def _list_request(self, limit: Any, after_id: Any, before_id: Any) -> r.Request:
        def fetch_next(cursor: dict[str, Any]) -> Awaitable[AsyncPage]:
            return self._client._execute(lambda: self._list_request(limit, **cursor), "parsed")

        def page(content: bytes, response: Any) -> AsyncPage:
            return AsyncPage(content, response, {"after_id": after_id, "before_id": before_id}, fetch_next)

        return r.models_list_request(limit, after_id, before_id, page)


class AsyncResources:
    """``client.with_raw_response`` / ``client.with_streaming_response``: every resource in that mode."""

    def __init__(self, client: AsyncAnthropic, mode: Mode) -> None:
        self.messages = AsyncMessages(client, mode=mode)
        self.beta = AsyncBeta(client, mode=mode)
        self.models = AsyncModels(client, mode=mode)


class AsyncPage(r.Page[ModelInfo]):
    async def __aiter__(self) -> AsyncIterator[ModelInfo]:
        page: AsyncPage | None = self
        while page is not None:
            for item in page.data:
                yield item
            cursor = page.next_cursor()
            page = await page._fetch_next(cursor) if cursor else None


class AsyncPaginator:
    """What ``models.list()`` returns: awaitable (the first page) and async-iterable (every model)."""

    def __init__(self, first_page: Callable[[], Awaitable[AsyncPage]]) -> None:
        self._first = first_page

    def __await__(self) -> Generator[Any, None, AsyncPage]:
        return self._first().__await__()

    async def __aiter__(self) -> AsyncIterator[ModelInfo]:
        async for item in await self._first():
            yield item
