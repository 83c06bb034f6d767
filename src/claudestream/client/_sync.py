"""``Anthropic``: the blocking client over ``httpx2.Client``."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx2
import msgspec

from ..protocol.types import Message, MessageTokensCount, ModelInfo, RawMessageStreamEvent
from . import resources as r
from ._base import API_VERSION, DEFAULT_MAX_RETRIES, DEFAULT_MAX_RETRY_AFTER, DEFAULT_TIMEOUT, NOT_GIVEN, ClientOptions, connection_error, retry_delay, status_error
from .streaming import MessageStream, MessageStreamManager, Stream


class Anthropic:
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
        http_client: httpx2.Client | None = None,
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
        self._http = http_client or httpx2.Client(timeout=self._options.timeouts.request)
        self.messages = Messages(self)
        self.models = Models(self)

    @property
    def base_url(self) -> str:
        return self._options.base_url

    @property
    def max_retries(self) -> int:
        return self._options.max_retries

    def __repr__(self) -> str:
        return f"Anthropic(base_url={self.base_url!r}, api_key={self._options.api_key!r})"

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Anthropic:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def _send(self, call: r.Call) -> httpx2.Response:
        """Send with retries before the first byte of a success; never after."""
        options = self._options
        headers = options.headers(async_=False, stream_helper=call.helper) | (call.headers or {})
        timeout = call.timeout if call.timeout is not NOT_GIVEN else (options.timeouts.for_stream() if call.stream else options.timeouts.request)
        attempt = 0
        while True:
            headers["x-stainless-retry-count"] = str(attempt)
            request = self._http.build_request(
                call.method, options.base_url + call.path, content=call.body, params=call.query, headers=headers, timeout=timeout
            )
            try:
                response = self._http.send(request, stream=True)
            except httpx2.TransportError as exc:
                delay = retry_delay(attempt, options.max_retries, response=None)
                if delay is None:
                    raise connection_error(exc) from exc
            else:
                if response.is_success:
                    return response
                try:
                    body = response.read()
                except httpx2.HTTPError as exc:
                    raise connection_error(exc) from exc
                finally:
                    response.close()
                delay = retry_delay(attempt, options.max_retries, response=response, max_retry_after=options.max_retry_after)
                if delay is None:
                    raise status_error(response, body)
            time.sleep(delay)
            attempt += 1

    def _request(self, call: r.Call) -> tuple[bytes, httpx2.Response]:
        response = self._send(call)
        try:
            return response.read(), response
        except httpx2.HTTPError as exc:
            raise connection_error(exc) from exc
        finally:
            response.close()

    def _timeout_is_default(self) -> bool:
        return self._options.timeouts.request is DEFAULT_TIMEOUT


class Messages:
    def __init__(self, client: Anthropic) -> None:
        self._client = client

    def create(self, *, stream: bool = False, timeout: Any = NOT_GIVEN, **params: Any) -> Message | Stream[RawMessageStreamEvent]:
        call = r.create_call(params, stream=stream, timeout=timeout, client_timeout_is_default=self._client._timeout_is_default())
        if stream:
            return Stream(self._client._send(call), total_timeout=self._client._options.timeouts.total)
        content, response = self._client._request(call)
        return r.parse_message(content, response.headers.get("request-id"))

    def stream(self, *, timeout: Any = NOT_GIVEN, **params: Any) -> MessageStreamManager:
        call = r.stream_call(params, timeout=timeout)
        client = self._client
        return MessageStreamManager(lambda: MessageStream(client._send(call), total_timeout=client._options.timeouts.total))

    def count_tokens(self, **params: Any) -> MessageTokensCount:
        content, _ = self._client._request(r.count_tokens_call(params))
        return r.parse_tokens(content)


class Models:
    def __init__(self, client: Anthropic) -> None:
        self._client = client

    def retrieve(self, model_id: str) -> ModelInfo:
        content, _ = self._client._request(r.model_retrieve_call(model_id))
        return r.parse_model(content)

    def list(self, *, limit: Any = NOT_GIVEN, after_id: Any = NOT_GIVEN, before_id: Any = NOT_GIVEN) -> SyncPage:
        return self._page(limit, after_id, before_id)

    def _page(self, limit: Any, after_id: Any, before_id: Any) -> SyncPage:
        content, _ = self._client._request(r.models_list_call(limit, after_id, before_id))
        backwards = before_id is not NOT_GIVEN and before_id is not None
        return SyncPage(msgspec.json.decode(content), lambda cursor: self._page(limit, **{**dict(after_id=NOT_GIVEN, before_id=NOT_GIVEN), **cursor}), backwards)


class SyncPage(r.Page[ModelInfo]):
    def __iter__(self) -> Iterator[ModelInfo]:
        page: SyncPage | None = self
        while page is not None:
            yield from page.data
            cursor = page.next_cursor()
            page = page._fetch_next(cursor) if cursor else None
