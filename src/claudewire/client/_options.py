"""The client's configuration: defaults, environment, the masked key and the timeouts.

Resolved once when a client is made (and again by ``with_options``); nothing here does I/O.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx2

from .._types import NotGiven, Omit, given
from .._version import __version__

DEFAULT_BASE_URL = "https://api.anthropic.com"
API_VERSION = "2026-10-21"  # what the current official SDK sends
DEFAULT_TIMEOUT = httpx2.Timeout(timeout=600.0, connect=5.0)
DEFAULT_IDLE_TIMEOUT = 60.0
DEFAULT_MAX_RETRIES = 2
DEFAULT_MAX_RETRY_AFTER = 60.0
DEFAULT_CONNECTION_LIMITS = httpx2.Limits(max_connections=1000, max_keepalive_connections=100)


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


def as_timeout(timeout: float | httpx2.Timeout | None) -> httpx2.Timeout:
    if isinstance(timeout, httpx2.Timeout):
        return timeout
    if timeout is None:
        return httpx2.Timeout(None)
    return httpx2.Timeout(timeout, connect=min(5.0, float(timeout)))


def resolve_timeouts(timeout: Any, idle_timeout: Any, stream_timeout: Any) -> Timeouts:
    idle: float | None
    if not given(timeout) or timeout is None:
        request = DEFAULT_TIMEOUT
        idle = DEFAULT_IDLE_TIMEOUT
    else:
        request = as_timeout(timeout)
        idle = request.read  # the guide's `Anthropic(timeout=60.0)` is the stream's read timeout too
    if given(idle_timeout):
        idle = idle_timeout
    total = stream_timeout if given(stream_timeout) else None
    return Timeouts(request, idle, total)


def custom_headers_from_env() -> dict[str, str]:
    """ANTHROPIC_CUSTOM_HEADERS: extra headers, one ``Name: value`` per line."""
    headers = {}
    for line in os.environ.get("ANTHROPIC_CUSTOM_HEADERS", "").splitlines():
        name, colon, value = line.partition(":")
        if colon and name.strip():
            headers[name.strip().lower()] = value.strip()
    return headers


def merge_headers(base: Mapping[str, str], *layers: Mapping[str, Any] | None) -> dict[str, str]:
    """Later layers win, case-insensitively; a value of ``omit`` removes the header."""
    out = {k.lower(): v for k, v in base.items()}
    for layer in layers:
        for name, value in (layer or {}).items():
            if isinstance(value, (Omit, NotGiven)):
                out.pop(name.lower(), None)
            else:
                out[name.lower()] = str(value)
    return out


class ClientOptions:
    """The resolved configuration; its repr shows no secret."""

    def __init__(
        self,
        *,
        api_key: str | None,
        auth_token: str | None,
        base_url: str | httpx2.URL | None,
        timeout: Any,
        idle_timeout: Any,
        stream_timeout: Any,
        max_retries: int,
        max_retry_after: float,
        default_headers: Mapping[str, Any] | None,
        default_query: Mapping[str, Any] | None,
        api_version: str,
        resumable: bool = False,
    ) -> None:
        api_key = api_key if api_key is not None else os.environ.get("ANTHROPIC_API_KEY")
        auth_token = auth_token if auth_token is not None else os.environ.get("ANTHROPIC_AUTH_TOKEN")
        self.api_key = Secret(api_key) if api_key else None
        self.auth_token = Secret(auth_token) if auth_token else None
        self.base_url = str(base_url or os.environ.get("ANTHROPIC_BASE_URL") or DEFAULT_BASE_URL).rstrip("/")
        self.timeout = timeout if given(timeout) else DEFAULT_TIMEOUT
        self.timeouts = resolve_timeouts(timeout, idle_timeout, stream_timeout)
        self.max_retries = max_retries
        self.max_retry_after = max_retry_after
        self.custom_headers: dict[str, Any] = {**custom_headers_from_env(), **(default_headers or {})}
        self.default_query: dict[str, Any] = dict(default_query or {})
        self.api_version = api_version
        self.resumable = resumable  # streams ask for x-claudewire-resumable (client/resume.py)

    def base_headers(self, *, async_: bool) -> dict[str, str]:
        """The headers every request carries before the key and the caller's own."""
        return {
            "accept": "application/json",
            "content-type": "application/json",
            "anthropic-version": self.api_version,
            "user-agent": f"claudewire/{__version__}",
            "x-stainless-lang": "python",
            "x-stainless-async": "async:asyncio" if async_ else "false",
        }

    def auth_headers(self) -> dict[str, str]:
        secret = self.api_key or self.auth_token
        return {} if secret is None else {"authorization": f"Bearer {secret.reveal()}"}

    def __repr__(self) -> str:
        return f"ClientOptions(base_url={self.base_url!r}, api_key={self.api_key!r}, max_retries={self.max_retries})"
