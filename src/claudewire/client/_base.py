"""Everything the sync and async clients share that needs no I/O.

Options and environment, request building, the error for a failed response, the retry
decision (which statuses, how long to wait) and the timeouts. The two clients only send,
read and sleep.
"""

from __future__ import annotations

import email.utils
import math
import os
import random
import time
from dataclasses import dataclass
from typing import Any

import httpx2
import msgspec

from .._exceptions import APIConnectionError, APIStatusError, APITimeoutError, make_status_error
from .._version import __version__
from ..protocol.types import Message

DEFAULT_BASE_URL = "https://api.anthropic.com"
API_VERSION = "2026-10-21"  # what the current official SDK sends
DEFAULT_TIMEOUT = httpx2.Timeout(timeout=600.0, connect=5.0)
DEFAULT_IDLE_TIMEOUT = 60.0
DEFAULT_MAX_RETRIES = 2
DEFAULT_MAX_RETRY_AFTER = 60.0
RETRY_STATUSES = frozenset({408, 409, 429})
NON_STREAMING_LIMIT_SECONDS = 600

_encode = msgspec.json.Encoder().encode
NOT_GIVEN: Any = object()


class Secret:
    """Holds the API key; shows itself masked (``'sk-ant-…'``, or ``'***'``) in every repr and str."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        # Only the public, fixed prefix of Anthropic keys is ever shown; nothing of other keys.
        return "'sk-ant-…'" if self._value.startswith("sk-ant-") else "'***'"

    __str__ = __repr__

    def __reduce__(self) -> Any:  # never pickled into a log or a cache
        raise TypeError("the API key cannot be pickled")


@dataclass(slots=True)
class Timeouts:
    """``request``: connect/read for plain requests. ``idle``: longest silence a stream may
    keep (pings count). ``total``: deadline for a whole stream, or None."""

    request: httpx2.Timeout
    idle: float | None
    total: float | None

    def for_stream(self) -> httpx2.Timeout:
        return httpx2.Timeout(
            connect=self.request.connect, read=self.idle, write=self.request.write, pool=self.request.pool
        )


def resolve_timeouts(timeout: Any, idle_timeout: Any, stream_timeout: Any) -> Timeouts:
    idle: float | None
    if timeout is NOT_GIVEN or timeout is None:
        request = DEFAULT_TIMEOUT
        idle = DEFAULT_IDLE_TIMEOUT
    else:
        request = timeout if isinstance(timeout, httpx2.Timeout) else httpx2.Timeout(timeout, connect=min(5.0, float(timeout)))
        idle = request.read  # the guide's `Anthropic(timeout=60.0)` is the stream's read timeout too
    if idle_timeout is not NOT_GIVEN:
        idle = idle_timeout
    total = None if stream_timeout is NOT_GIVEN else stream_timeout
    return Timeouts(request, idle, total)


class ClientOptions:
    """The resolved configuration; its repr shows no secret."""

    def __init__(
        self,
        *,
        api_key: str | None,
        auth_token: str | None,
        base_url: str | None,
        timeout: Any,
        idle_timeout: Any,
        stream_timeout: Any,
        max_retries: int,
        max_retry_after: float,
        default_headers: dict[str, str] | None,
        api_version: str,
        resumable: bool = False,
    ) -> None:
        api_key = api_key if api_key is not None else os.environ.get("ANTHROPIC_API_KEY")
        auth_token = auth_token if auth_token is not None else os.environ.get("ANTHROPIC_AUTH_TOKEN")
        self.api_key = Secret(api_key) if api_key else None
        self.auth_token = Secret(auth_token) if auth_token else None
        self.base_url = (base_url or os.environ.get("ANTHROPIC_BASE_URL") or DEFAULT_BASE_URL).rstrip("/")
        self.timeouts = resolve_timeouts(timeout, idle_timeout, stream_timeout)
        self.max_retries = max_retries
        self.max_retry_after = max_retry_after
        self.default_headers = {**custom_headers_from_env(), **(default_headers or {})}
        self.api_version = api_version
        self.resumable = resumable  # streams ask for x-claudewire-resumable (client/resume.py)

    def headers(self, *, async_: bool, stream_helper: bool = False) -> dict[str, str]:
        headers = {
            "accept": "application/json",
            "content-type": "application/json",
            "anthropic-version": self.api_version,
            "user-agent": f"claudewire/{__version__}",
            "x-stainless-lang": "python",
            "x-stainless-async": "async:asyncio" if async_ else "false",
        }
        if stream_helper:
            headers["x-stainless-helper-method"] = "stream"
        secret = self.api_key or self.auth_token
        if secret is not None:
            headers["authorization"] = f"Bearer {secret.reveal()}"
        headers.update(self.default_headers)
        return headers

    def __repr__(self) -> str:
        return f"ClientOptions(base_url={self.base_url!r}, api_key={self.api_key!r}, max_retries={self.max_retries})"


@dataclass(slots=True)
class Call:
    """One API call, ready for either client to send."""

    method: str
    path: str
    body: bytes | None = None
    query: dict[str, Any] | None = None
    stream: bool = False
    helper: bool = False  # sent by the messages.stream() helper
    timeout: Any = NOT_GIVEN
    headers: dict[str, str] | None = None


class BaseClient:
    """What ``Anthropic`` and ``AsyncAnthropic`` share: configuration, repr, timeouts."""

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
        resumable: bool = False,
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
            resumable=resumable,
        )

    @property
    def base_url(self) -> str:
        return self._options.base_url

    @property
    def max_retries(self) -> int:
        return self._options.max_retries

    def __repr__(self) -> str:
        return f"{type(self).__name__}(base_url={self.base_url!r}, api_key={self._options.api_key!r})"

    def _timeout_is_default(self) -> bool:
        return self._options.timeouts.request is DEFAULT_TIMEOUT


class Attempts:
    """One call's attempts, sans-IO: what to send next and, after a failure, how long to wait
    (or the exception to raise). The clients only send, read the error body and sleep."""

    def __init__(self, options: ClientOptions, call: Call, *, async_: bool) -> None:
        self.options = options
        self.attempt = 0
        timeouts = options.timeouts
        self.headers = options.headers(async_=async_, stream_helper=call.helper) | (call.headers or {})
        self.request: dict[str, Any] = {
            "method": call.method,
            "url": options.base_url + call.path,
            "content": call.body,
            "params": call.query,
            "headers": self.headers,
            "timeout": call.timeout if call.timeout is not NOT_GIVEN else (timeouts.for_stream() if call.stream else timeouts.request),
        }

    def next_request(self) -> dict[str, Any]:
        self.headers["x-stainless-retry-count"] = str(self.attempt)
        return self.request

    def after_transport_error(self, exc: Exception) -> float:
        delay = retry_delay(self.attempt, self.options.max_retries, response=None)
        if delay is None:
            raise connection_error(exc) from exc
        self.attempt += 1
        return delay

    def after_error_status(self, response: httpx2.Response, body: bytes) -> float:
        options = self.options
        delay = retry_delay(self.attempt, options.max_retries, response=response, max_retry_after=options.max_retry_after)
        if delay is None:
            raise status_error(response, body)
        self.attempt += 1
        return delay


def custom_headers_from_env() -> dict[str, str]:
    """ANTHROPIC_CUSTOM_HEADERS: extra headers, one ``Name: value`` per line."""
    headers = {}
    for line in os.environ.get("ANTHROPIC_CUSTOM_HEADERS", "").splitlines():
        name, colon, value = line.partition(":")
        if colon and name.strip():
            headers[name.strip().lower()] = value.strip()
    return headers


def build_body(params: dict[str, Any], *, stream: bool | None) -> bytes:
    body = {k: v for k, v in params.items() if v is not NOT_GIVEN and not k.startswith("extra_")}
    body.update(params.get("extra_body") or {})
    if stream is not None:
        body["stream"] = stream
    return _encode(body)


def check_nonstreaming(max_tokens: int, timeout_given: bool) -> None:
    """As the official SDK: a plain request that could take over 10 minutes must stream."""
    if timeout_given:
        return
    expected = 60 * 60 * max_tokens / 128_000
    if expected > NON_STREAMING_LIMIT_SECONDS:
        raise ValueError(
            "Streaming is required for operations that may take longer than 10 minutes. "
            f"max_tokens={max_tokens} could; use client.messages.stream(...) "
            "(or pass an explicit timeout)."
        )


def status_error(response: httpx2.Response, body_bytes: bytes) -> APIStatusError:
    try:
        body: Any = msgspec.json.decode(body_bytes) if body_bytes else None
    except msgspec.DecodeError:
        body = body_bytes.decode("utf-8", "replace") or None
    return make_status_error(response.status_code, body, response=response, request_id=response.headers.get("request-id"))


def retry_delay(
    attempt: int,
    max_retries: int,
    *,
    response: httpx2.Response | None,
    max_retry_after: float = DEFAULT_MAX_RETRY_AFTER,
    now: float | None = None,
) -> float | None:
    """Seconds to wait before retry number ``attempt + 1``, or None for no retry.

    ``response`` None means the connection failed. Headers decide first (x-should-retry,
    then retry-after-ms, retry-after as seconds or an HTTP date, honoured up to
    ``max_retry_after``), then the status: 408, 409, 429 and >= 500. Backoff: 0.5 s * 2^n,
    at most 8 s, less up to 25 % jitter.
    """
    if attempt >= max_retries:
        return None
    if response is not None:
        should = response.headers.get("x-should-retry")
        if should == "false":
            return None
        if should != "true" and not (response.status_code in RETRY_STATUSES or response.status_code >= 500):
            return None
        hinted = _retry_after(response.headers, time.time() if now is None else now)
        if hinted is not None and 0 <= hinted <= max_retry_after:
            return hinted
    backoff = min(0.5 * 2**attempt, 8.0)
    return backoff * (1 - 0.25 * random.random())


def _retry_after(headers: httpx2.Headers, now: float) -> float | None:
    raw_ms = headers.get("retry-after-ms")
    if raw_ms:
        try:
            return float(raw_ms) / 1000
        except ValueError:
            pass
    raw = headers.get("retry-after")
    if not raw:
        return None
    try:
        seconds = float(raw)
        return seconds if math.isfinite(seconds) else None
    except ValueError:
        parsed = email.utils.parsedate_to_datetime(raw) if raw else None
        return None if parsed is None else parsed.timestamp() - now


def connection_error(exc: Exception, *, partial: Message | None = None, request_id: str | None = None) -> APIConnectionError:
    """The one place a transport exception becomes ours (never a raw httpx2 error)."""
    if isinstance(exc, httpx2.TimeoutException):
        kind = type(exc).__name__
        return APITimeoutError(f"Request timed out ({kind}).", partial_message=partial, request_id=request_id)
    return APIConnectionError(f"Connection error: {type(exc).__name__}: {exc}", partial_message=partial, request_id=request_id)
