"""``AsyncAnthropic``: the asyncio client over ``httpx2.AsyncClient``, twin of ``_sync``.

Connections belong to an event loop, so the client keeps one ``httpx2.AsyncClient`` per
running loop: the same client object works across successive ``asyncio.run`` calls, and
using it with no running loop says what to do instead of failing deep inside asyncio.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import AsyncIterator, Generator
from typing import Any, Literal, overload

import httpx2

from .._exceptions import APIConnectionError
from ..protocol.types import Message, MessageTokensCount, ModelInfo, RawMessageStreamEvent
from . import resources as r
from .._types import NOT_GIVEN
from ._base import BaseClient
from ._options import DEFAULT_CONNECTION_LIMITS, DEFAULT_TIMEOUT
from ._retry import Attempts
from ._transport import transport_errors
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

    def _init_http(self, http_client: httpx2.AsyncClient | None) -> None:
        self._given_http = http_client
        self._per_loop: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, httpx2.AsyncClient] = weakref.WeakKeyDictionary()
        self.messages = AsyncMessages(self)
        self.models = AsyncModels(self)

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
                    return response
                delay = attempts.after_error_status(response, await self._read(response))
            await asyncio.sleep(delay)

    async def _read(self, response: httpx2.Response) -> bytes:
        try:
            with transport_errors():
                return await response.aread()
        finally:
            await response.aclose()

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
    def __init__(self, client: AsyncAnthropic) -> None:
        self._client = client

    @overload
    async def create(self, *, stream: Literal[False] = False, timeout: Any = NOT_GIVEN, **params: Any) -> Message: ...

    @overload
    async def create(self, *, stream: Literal[True], timeout: Any = NOT_GIVEN, **params: Any) -> AsyncStream[RawMessageStreamEvent]: ...

    async def create(self, *, stream: bool = False, timeout: Any = NOT_GIVEN, **params: Any) -> Message | AsyncStream[RawMessageStreamEvent]:
        """A finished ``Message``; with ``stream=True``, the raw events as they arrive."""
        client = self._client
        call = r.create_call(params, stream=stream, timeout=timeout, client_timeout_is_default=client._timeout_is_default(),
                             resumable=client._options.resumable)
        if stream:
            return AsyncStream(await client._send(call), total_timeout=client._options.timeouts.total, client=client)
        content, response = await self._client._request(call)
        return r.parse_message(content, response.headers.get("request-id"))

    def stream(self, *, timeout: Any = NOT_GIVEN, **params: Any) -> AsyncMessageStreamManager:
        client = self._client
        call = r.stream_call(params, timeout=timeout, resumable=client._options.resumable)

        async def open_stream() -> AsyncMessageStream:
            return AsyncMessageStream(await client._send(call), total_timeout=client._options.timeouts.total, client=client)

        return AsyncMessageStreamManager(open_stream)

    def resume(self, stream_id: str, *, after: int | None = None) -> AsyncMessageStreamManager:
        """Attach to a resumable stream started elsewhere (see ``Messages.resume``)."""
        client = self._client
        call = r.resume_call(stream_id)

        async def open_stream() -> AsyncMessageStream:
            response = await client._send(call)
            return AsyncMessageStream(response, total_timeout=client._options.timeouts.total, client=client, after=after or 0)

        return AsyncMessageStreamManager(open_stream)

    async def count_tokens(self, **params: Any) -> MessageTokensCount:
        content, _ = await self._client._request(r.count_tokens_call(params))
        return r.parse_tokens(content)


class AsyncModels:
    def __init__(self, client: AsyncAnthropic) -> None:
        self._client = client

    async def retrieve(self, model_id: str) -> ModelInfo:
        content, _ = await self._client._request(r.model_retrieve_call(model_id))
        return r.parse_model(content)

    def list(self, *, limit: Any = NOT_GIVEN, after_id: Any = NOT_GIVEN, before_id: Any = NOT_GIVEN) -> AsyncPaginator:
        """``await`` it for the first page, or ``async for`` over every model on every page."""
        return AsyncPaginator(self, limit, after_id, before_id)

    async def _page(self, limit: Any, after_id: Any, before_id: Any) -> AsyncPage:
        content, _ = await self._client._request(r.models_list_call(limit, after_id, before_id))
        return AsyncPage(content, before_id, lambda cursor: self._page(limit, **cursor))


class AsyncPage(r.Page[ModelInfo]):
    async def __aiter__(self) -> AsyncIterator[ModelInfo]:
        page: AsyncPage | None = self
        while page is not None:
            for item in page.data:
                yield item
            cursor = page.next_cursor()
            page = await page._fetch_next(cursor) if cursor else None


class AsyncPaginator:
    def __init__(self, models: AsyncModels, *args: Any) -> None:
        self._first = lambda: models._page(*args)

    def __await__(self) -> Generator[Any, None, AsyncPage]:
        return self._first().__await__()

    async def __aiter__(self) -> AsyncIterator[ModelInfo]:
        async for item in await self._first():
            yield item
