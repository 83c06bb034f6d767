"""``AsyncAnthropic``: the asyncio client over ``httpx2.AsyncClient``, twin of ``_sync``.

Connections belong to an event loop, so the client keeps one ``httpx2.AsyncClient`` per
running loop: the same client object works across successive ``asyncio.run`` calls, and
using it with no running loop says what to do instead of failing deep inside asyncio.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import AsyncIterator, Generator
from typing import Any

import httpx2
import msgspec

from ..protocol.types import Message, MessageTokensCount, ModelInfo, RawMessageStreamEvent
from . import resources as r
from ._base import API_VERSION, DEFAULT_MAX_RETRIES, DEFAULT_MAX_RETRY_AFTER, DEFAULT_TIMEOUT, NOT_GIVEN, ClientOptions, connection_error, retry_delay, status_error
from .streaming import AsyncMessageStream, AsyncMessageStreamManager, AsyncStream

NO_LOOP = (
    "AsyncAnthropic must be used inside a running event loop: put the calls in an `async def main()` "
    "and run it with asyncio.run(main()). For blocking code, use claudestream.Anthropic instead."
)


class AsyncAnthropic:
    def __init__(
        self,
        *,
        api_key: str | None = None,
        auth_token: str | None = None,
        base_url: str | None = None,
        timeout: float | httpx2.Timeout | None = NOT_GIVEN,
        idle_timeout: float | None = NOT_GIVEN,
        stream_timeout: float | None = NOT_GIVEN,
        max_retries: int = DEFAULT_MAX_RETRIES,
        max_retry_after: float = DEFAULT_MAX_RETRY_AFTER,
        default_headers: dict[str, str] | None = None,
        api_version: str = API_VERSION,
        http_client: httpx2.AsyncClient | None = None,
    ) -> None:
        self._options = ClientOptions(
            api_key=api_key,
            auth_token=auth_token,
            base_url=base_url,
            timeout=timeout,
            idle_timeout=idle_timeout,
            stream_timeout=stream_timeout,
            max_retries=max_retries,
            max_retry_after=max_retry_after,
            default_headers=default_headers,
            api_version=api_version,
        )
        self._given_http = http_client
        self._per_loop: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, httpx2.AsyncClient] = weakref.WeakKeyDictionary()
        self.messages = AsyncMessages(self)
        self.models = AsyncModels(self)

    @property
    def base_url(self) -> str:
        return self._options.base_url

    def __repr__(self) -> str:
        return f"AsyncAnthropic(base_url={self.base_url!r}, api_key={self._options.api_key!r})"

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
            client = self._per_loop[loop] = httpx2.AsyncClient(timeout=self._options.timeouts.request)
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
        options = self._options
        headers = options.headers(async_=True, stream_helper=call.helper) | (call.headers or {})
        timeout = call.timeout if call.timeout is not NOT_GIVEN else (options.timeouts.for_stream() if call.stream else options.timeouts.request)
        attempt = 0
        while True:
            headers["x-stainless-retry-count"] = str(attempt)
            request = http.build_request(
                call.method, options.base_url + call.path, content=call.body, params=call.query, headers=headers, timeout=timeout
            )
            try:
                response = await http.send(request, stream=True)
            except httpx2.TransportError as exc:
                delay = retry_delay(attempt, options.max_retries, response=None)
                if delay is None:
                    raise connection_error(exc) from exc
            else:
                if response.is_success:
                    return response
                try:
                    body = await response.aread()
                except httpx2.HTTPError as exc:
                    raise connection_error(exc) from exc
                finally:
                    await response.aclose()
                delay = retry_delay(attempt, options.max_retries, response=response, max_retry_after=options.max_retry_after)
                if delay is None:
                    raise status_error(response, body)
            await asyncio.sleep(delay)
            attempt += 1

    async def _request(self, call: r.Call) -> tuple[bytes, httpx2.Response]:
        response = await self._send(call)
        try:
            return await response.aread(), response
        except httpx2.HTTPError as exc:
            raise connection_error(exc) from exc
        finally:
            await response.aclose()

    def _timeout_is_default(self) -> bool:
        return self._options.timeouts.request is DEFAULT_TIMEOUT


class AsyncMessages:
    def __init__(self, client: AsyncAnthropic) -> None:
        self._client = client

    async def create(self, *, stream: bool = False, timeout: Any = NOT_GIVEN, **params: Any) -> Message | AsyncStream[RawMessageStreamEvent]:
        call = r.create_call(params, stream=stream, timeout=timeout, client_timeout_is_default=self._client._timeout_is_default())
        if stream:
            return AsyncStream(await self._client._send(call), total_timeout=self._client._options.timeouts.total)
        content, response = await self._client._request(call)
        return r.parse_message(content, response.headers.get("request-id"))

    def stream(self, *, timeout: Any = NOT_GIVEN, **params: Any) -> AsyncMessageStreamManager:
        call = r.stream_call(params, timeout=timeout)
        client = self._client

        async def open_stream() -> AsyncMessageStream:
            return AsyncMessageStream(await client._send(call), total_timeout=client._options.timeouts.total)

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
        backwards = before_id is not NOT_GIVEN and before_id is not None
        return AsyncPage(msgspec.json.decode(content), lambda cursor: self._page(limit, **{**dict(after_id=NOT_GIVEN, before_id=NOT_GIVEN), **cursor}), backwards)


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
