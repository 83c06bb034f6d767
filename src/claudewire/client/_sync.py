"""``Anthropic``: the blocking client over ``httpx2.Client``."""

from __future__ import annotations

import time
from collections.abc import Iterator
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
from .streaming import MessageStream, MessageStreamManager, Stream


class DefaultHttpxClient(httpx2.Client):
    """The ``httpx2.Client`` the client makes for itself: the SDK's timeout, limits and redirects."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("timeout", DEFAULT_TIMEOUT)
        kwargs.setdefault("limits", DEFAULT_CONNECTION_LIMITS)
        kwargs.setdefault("follow_redirects", True)
        super().__init__(**kwargs)


class Anthropic(BaseClient):
    """The blocking client over ``httpx2.Client``."""

    _http: httpx2.Client

    def _init_http(self, http_client: httpx2.Client | None) -> None:
        self._http = http_client or DefaultHttpxClient(timeout=self._options.timeouts.request)
        self.messages = Messages(self)
        self.models = Models(self)

    def _given_http_client(self) -> httpx2.Client:
        return self._http

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Anthropic:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def _send(self, call: r.Call) -> httpx2.Response:
        """Send with retries before the first byte of a success; never after."""
        attempts = Attempts(self._options, call, async_=False)
        while True:
            try:
                with transport_errors():
                    response = self._http.send(self._http.build_request(**attempts.next_request()), stream=True)
            except APIConnectionError as exc:
                delay = attempts.after_transport_error(exc)
            else:
                if response.is_success:
                    return response
                delay = attempts.after_error_status(response, self._read(response))
            time.sleep(delay)

    def _read(self, response: httpx2.Response) -> bytes:
        try:
            with transport_errors():
                return response.read()
        finally:
            response.close()

    def _request(self, call: r.Call) -> tuple[bytes, httpx2.Response]:
        response = self._send(call)
        return self._read(response), response

    def _resumer(self, response: httpx2.Response) -> Resumer | None:
        return Resumer.offered(self._options, response.headers, async_=False)

    def _reconnect(self, request: dict[str, Any]) -> httpx2.Response | APIConnectionError:
        """One attempt to reattach a broken resumable stream; its StreamCore judges the answer."""
        try:
            with transport_errors():
                response = self._http.send(self._http.build_request(**request), stream=True)
        except APIConnectionError as exc:
            return exc
        if response.status_code not in (200, 204):
            response.close()
        return response


class Messages:
    def __init__(self, client: Anthropic) -> None:
        self._client = client

    @overload
    def create(self, *, stream: Literal[False] = False, timeout: Any = NOT_GIVEN, **params: Any) -> Message: ...

    @overload
    def create(self, *, stream: Literal[True], timeout: Any = NOT_GIVEN, **params: Any) -> Stream[RawMessageStreamEvent]: ...

    def create(self, *, stream: bool = False, timeout: Any = NOT_GIVEN, **params: Any) -> Message | Stream[RawMessageStreamEvent]:
        """A finished ``Message``; with ``stream=True``, the raw events as they arrive."""
        client = self._client
        call = r.create_call(params, stream=stream, timeout=timeout, client_timeout_is_default=client._timeout_is_default(),
                             resumable=client._options.resumable)
        if stream:
            return Stream(client._send(call), total_timeout=client._options.timeouts.total, client=client)
        content, response = self._client._request(call)
        return r.parse_message(content, response.headers.get("request-id"))

    def stream(self, *, timeout: Any = NOT_GIVEN, **params: Any) -> MessageStreamManager:
        client = self._client
        call = r.stream_call(params, timeout=timeout, resumable=client._options.resumable)
        return MessageStreamManager(lambda: MessageStream(client._send(call), total_timeout=client._options.timeouts.total, client=client))

    def resume(self, stream_id: str, *, after: int | None = None) -> MessageStreamManager:
        """Attach to a resumable stream started elsewhere (another process, a page reload): the
        events after ``after`` (default: all), with the whole message's snapshot; it resumes
        again if this connection breaks."""
        client = self._client
        call = r.resume_call(stream_id)
        return MessageStreamManager(
            lambda: MessageStream(client._send(call), total_timeout=client._options.timeouts.total, client=client, after=after or 0)
        )

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
        return SyncPage(content, before_id, lambda cursor: self._page(limit, **cursor))


class SyncPage(r.Page[ModelInfo]):
    def __iter__(self) -> Iterator[ModelInfo]:
        page: SyncPage | None = self
        while page is not None:
            yield from page.data
            cursor = page.next_cursor()
            page = page._fetch_next(cursor) if cursor else None
