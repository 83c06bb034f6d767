"""What ``Anthropic`` and ``AsyncAnthropic`` share: the constructor, the SDK's attributes,
``with_options``/``copy`` and the repr. The pieces without I/O live beside it:
``_options`` (configuration), ``_request`` (request shaping), ``_retry`` (the retry
decision) and ``_transport`` (the one border for httpx2's errors).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal, TypeVar

import httpx2

from .._types import NOT_GIVEN, NotGiven, given
from ._options import API_VERSION, DEFAULT_MAX_RETRIES, DEFAULT_MAX_RETRY_AFTER, DEFAULT_TIMEOUT, ClientOptions

Self = TypeVar("Self", bound="BaseClient")
Mode = Literal["parsed", "raw", "streaming"]
"""What a resource method answers with: the result, a ``LegacyAPIResponse`` or a streaming response."""


class BaseClient:
    """The official SDK's options, plus ``idle_timeout`` (longest silence a stream may keep,
    pings count; default 60 s), ``stream_timeout`` (a deadline for a whole stream),
    ``max_retry_after`` (the longest retry-after honoured, default 60 s) and ``resumable``
    (streams ask a claudewire server for resume and reconnect when they break)."""

    def __init__(
        self,
        *,
        api_key: str | None = None,
        auth_token: str | None = None,
        base_url: str | httpx2.URL | None = None,
        timeout: float | httpx2.Timeout | None | NotGiven = NOT_GIVEN,
        max_retries: int = DEFAULT_MAX_RETRIES,
        default_headers: Mapping[str, str] | None = None,
        default_query: Mapping[str, object] | None = None,
        http_client: Any = None,
        idle_timeout: float | None | NotGiven = NOT_GIVEN,
        stream_timeout: float | None | NotGiven = NOT_GIVEN,
        max_retry_after: float = DEFAULT_MAX_RETRY_AFTER,
        api_version: str = API_VERSION,
        resumable: bool = False,
    ) -> None:
        self._init_args: dict[str, Any] = {
            "api_key": api_key,
            "auth_token": auth_token,
            "base_url": base_url,
            "timeout": timeout,
            "max_retries": max_retries,
            "default_headers": dict(default_headers or {}),
            "default_query": dict(default_query or {}),
            "idle_timeout": idle_timeout,
            "stream_timeout": stream_timeout,
            "max_retry_after": max_retry_after,
            "api_version": api_version,
            "resumable": resumable,
        }
        self._options = ClientOptions(**self._init_args)  # the same arguments; with_options() starts from them
        self._init_http(http_client)

    def _init_http(self, http_client: Any) -> None:
        raise NotImplementedError

    def _given_http_client(self) -> Any:
        raise NotImplementedError

    # --- the SDK's attributes -------------------------------------------------------------

    @property
    def api_key(self) -> str | None:
        return None if self._options.api_key is None else self._options.api_key.reveal()

    @property
    def auth_token(self) -> str | None:
        return None if self._options.auth_token is None else self._options.auth_token.reveal()

    @property
    def base_url(self) -> str:
        return self._options.base_url

    @property
    def timeout(self) -> float | httpx2.Timeout | None:
        return self._options.timeout

    @property
    def max_retries(self) -> int:
        return self._options.max_retries

    @property
    def default_headers(self) -> dict[str, str]:
        """The headers every request carries (the key's header aside)."""
        return {**self._options.base_headers(async_=self._is_async), **self._options.custom_headers}

    @property
    def default_query(self) -> dict[str, object]:
        return dict(self._options.default_query)

    _is_async = False

    # --- with_options / copy ----------------------------------------------------------------

    def copy(
        self: Self,
        *,
        api_key: str | None = None,
        auth_token: str | None = None,
        base_url: str | httpx2.URL | None = None,
        timeout: float | httpx2.Timeout | None | NotGiven = NOT_GIVEN,
        http_client: Any = None,
        max_retries: int | NotGiven = NOT_GIVEN,
        default_headers: Mapping[str, str] | None = None,
        set_default_headers: Mapping[str, str] | None = None,
        default_query: Mapping[str, object] | None = None,
        set_default_query: Mapping[str, object] | None = None,
        idle_timeout: float | None | NotGiven = NOT_GIVEN,
        stream_timeout: float | None | NotGiven = NOT_GIVEN,
        max_retry_after: float | NotGiven = NOT_GIVEN,
        resumable: bool | NotGiven = NOT_GIVEN,
    ) -> Self:
        """A new client with these options changed, sharing this one's connection pool (as the SDK).
        ``default_headers``/``default_query`` add to the current ones; ``set_*`` replace them."""
        if default_headers is not None and set_default_headers is not None:
            raise ValueError("The `default_headers` and `set_default_headers` arguments are mutually exclusive")
        if default_query is not None and set_default_query is not None:
            raise ValueError("The `default_query` and `set_default_query` arguments are mutually exclusive")
        args = dict(self._init_args)
        changes: dict[str, Any] = {
            "api_key": api_key,
            "auth_token": auth_token,
            "base_url": base_url,
        }
        args.update({k: v for k, v in changes.items() if v is not None})
        for name, value in (("timeout", timeout), ("max_retries", max_retries), ("idle_timeout", idle_timeout),
                            ("stream_timeout", stream_timeout), ("max_retry_after", max_retry_after),
                            ("resumable", resumable)):
            if given(value):
                args[name] = value
        if set_default_headers is not None:
            args["default_headers"] = dict(set_default_headers)
        elif default_headers is not None:
            args["default_headers"] = {**args["default_headers"], **default_headers}
        if set_default_query is not None:
            args["default_query"] = dict(set_default_query)
        elif default_query is not None:
            args["default_query"] = {**args["default_query"], **default_query}
        return type(self)(http_client=http_client or self._given_http_client(), **args)

    with_options = copy

    def __repr__(self) -> str:
        return f"{type(self).__name__}(base_url={self.base_url!r}, api_key={self._options.api_key!r})"

    _event_stream: Any  # Stream / AsyncStream
    _message_stream: Any  # MessageStream / AsyncMessageStream

    def _typer(self, request: Any) -> Any:
        """(response, body) -> what the plain call returns, for either twin."""
        total = self._options.timeouts.total
        if request.stream == "events":
            return lambda response, _: self._event_stream(response, total_timeout=total, client=self)
        if request.stream == "message":
            return lambda response, _: self._message_stream(response, total_timeout=total, client=self, after=request.after)
        parse = request.parse
        return lambda response, content: parse(content, response)

    def _timeout_is_default(self) -> bool:
        return self._options.timeouts.request is DEFAULT_TIMEOUT
