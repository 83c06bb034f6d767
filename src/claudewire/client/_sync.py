"""``Anthropic``: the blocking client over ``httpx2.Client``."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
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
from .responses import APIResponse, LegacyAPIResponse, ResponseContextManager
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
    _event_stream = Stream
    _message_stream = MessageStream

    def _init_http(self, http_client: httpx2.Client | None) -> None:
        self._http = http_client or DefaultHttpxClient(timeout=self._options.timeouts.request)
        self.messages = Messages(self)
        self.beta = Beta(self)
        self.models = Models(self)
        self.with_raw_response = Resources(self, "raw")
        self.with_streaming_response = Resources(self, "streaming")

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
                    response.extensions["claudewire.retries_taken"] = attempts.attempt
                    return response
                delay = attempts.after_error_status(response, self._read(response))
            time.sleep(delay)

    def _read(self, response: httpx2.Response) -> bytes:
        try:
            with transport_errors():
                return response.read()
        finally:
            response.close()

    def _execute(self, build: Callable[[], r.Request], mode: Mode) -> Any:
        """Run one request: its typed answer, or (raw, streaming) the response around it."""
        if mode == "streaming":

            def open_response() -> APIResponse:
                request = build()
                return APIResponse(self._send(request.call), self._typer(request), stream=request.stream is not None)

            return ResponseContextManager(open_response)
        request = build()
        response = self._send(request.call)
        content = None if request.stream else self._read(response)
        if mode == "raw":
            return LegacyAPIResponse(response, content, self._typer(request), stream=request.stream is not None)
        return self._typer(request)(response, content)

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
    """``client.messages``; ``with_raw_response`` and ``with_streaming_response`` are the same
    methods answering with the response around the result (``mode``)."""

    def __init__(self, client: Anthropic, *, mode: Mode = "parsed", beta: bool = False) -> None:
        self._client = client
        self._mode: Mode = mode
        self._beta = beta
        if mode == "parsed":
            self.with_raw_response = Messages(client, mode="raw", beta=beta)
            self.with_streaming_response = Messages(client, mode="streaming", beta=beta)

    @overload
    def create(self, *, stream: Literal[False] = False, timeout: Any = NOT_GIVEN, **params: Any) -> Message: ...

    @overload
    def create(self, *, stream: Literal[True], timeout: Any = NOT_GIVEN, **params: Any) -> Stream[RawMessageStreamEvent]: ...

    def create(self, *, stream: bool = False, timeout: Any = NOT_GIVEN, **params: Any) -> Any:
        """A finished ``Message``; with ``stream=True``, the raw events as they arrive."""
        client = self._client
        return client._execute(lambda: r.create_request(params, stream=stream, timeout=timeout, beta=self._beta,
                                                        client_timeout_is_default=client._timeout_is_default()), self._mode)

    def stream(self, *, timeout: Any = NOT_GIVEN, **params: Any) -> MessageStreamManager:
        """``with client.messages.stream(...) as stream``: the request is sent when the block starts."""
        client = self._client

        def build() -> r.Request:
            return r.stream_request(params, timeout=timeout, beta=self._beta)

        if self._mode == "parsed":
            return MessageStreamManager(lambda: client._execute(build, "parsed"))
        return client._execute(build, self._mode)

    def resume(self, stream_id: str, *, after: int | None = None) -> MessageStreamManager:
        """Attach to a resumable stream started elsewhere (another process, a page reload): the
        events after ``after`` (default: all) with the whole message's snapshot; a break of
        this connection is resumed too."""
        client = self._client
        return MessageStreamManager(lambda: client._execute(lambda: r.resume_request(stream_id, after), "parsed"))

    def count_tokens(self, **params: Any) -> MessageTokensCount:
        return self._client._execute(lambda: r.count_tokens_request(params, beta=self._beta), self._mode)


class Beta:
    """``client.beta``: the messages API with ``betas=[...]``."""

    def __init__(self, client: Anthropic, *, mode: Mode = "parsed") -> None:
        self.messages = Messages(client, mode=mode, beta=True)


class Models:
    def __init__(self, client: Anthropic, *, mode: Mode = "parsed") -> None:
        self._client = client
        self._mode: Mode = mode
        if mode == "parsed":
            self.with_raw_response = Models(client, mode="raw")
            self.with_streaming_response = Models(client, mode="streaming")

    def retrieve(self, model_id: str) -> ModelInfo:
        return self._client._execute(lambda: r.model_retrieve_request(model_id), self._mode)

    def list(self, *, limit: Any = NOT_GIVEN, after_id: Any = NOT_GIVEN, before_id: Any = NOT_GIVEN) -> SyncPage:
        """The first page; iterating it walks every page."""
        return self._client._execute(lambda: self._list_request(limit, after_id, before_id), self._mode)

    def _list_request(self, limit: Any, after_id: Any, before_id: Any) -> r.Request:
        def fetch_next(cursor: dict[str, Any]) -> SyncPage:
            return self._client._execute(lambda: self._list_request(limit, **cursor), "parsed")

        def page(content: bytes, response: Any) -> SyncPage:
            return SyncPage(content, response, {"after_id": after_id, "before_id": before_id}, fetch_next)

        return r.models_list_request(limit, after_id, before_id, page)


class Resources:
    """``client.with_raw_response`` / ``client.with_streaming_response``: every resource in that mode."""

    def __init__(self, client: Anthropic, mode: Mode) -> None:
        self.messages = Messages(client, mode=mode)
        self.beta = Beta(client, mode=mode)
        self.models = Models(client, mode=mode)


class SyncPage(r.Page[ModelInfo]):
    def __iter__(self) -> Iterator[ModelInfo]:
        page: SyncPage | None = self
        while page is not None:
            yield from page.data
            cursor = page.next_cursor()
            page = page._fetch_next(cursor) if cursor else None
