"""The retry decision, sans-IO: after a failed attempt, wait how long, or give up with which error.

``Attempts`` is driven the same way by both clients: ``next_request()``, send, then on a
failure ``after_transport_error`` / ``after_error_status`` return the seconds to sleep or
raise. What is retried comes from the wire table (``protocol/wire.py``); headers decide
first, as in the official SDK.
"""

from __future__ import annotations

import email.utils
import math
import random
import time
from collections.abc import Mapping
from typing import Any

import msgspec

from .._exceptions import APIConnectionError, APIStatusError, make_status_error
from ..protocol.wire import is_retryable
from ._options import DEFAULT_MAX_RETRY_AFTER, ClientOptions
from ._request import Call, http_request

INITIAL_RETRY_DELAY = 0.5
MAX_RETRY_DELAY = 8.0


class Attempts:
    """One call's attempts: what to send next and, after a failure, how long to wait."""

    def __init__(self, options: ClientOptions, call: Call, *, async_: bool) -> None:
        self.options = options
        self.attempt = 0
        self.request = http_request(options, call, async_=async_)

    def next_request(self) -> dict[str, Any]:
        self.request["headers"]["x-stainless-retry-count"] = str(self.attempt)
        return self.request

    def after_transport_error(self, error: APIConnectionError) -> float:
        """``error`` comes from the transport border; raised again when no retry is left."""
        delay = retry_delay(self.attempt, self.options.max_retries, status=None)
        if delay is None:
            raise error
        self.attempt += 1
        return delay

    def after_error_status(self, response: Any, body: bytes) -> float:
        options = self.options
        delay = retry_delay(self.attempt, options.max_retries, status=response.status_code, headers=response.headers,
                            max_retry_after=options.max_retry_after)
        if delay is None:
            raise status_error(response, body)
        self.attempt += 1
        return delay


def status_error(response: Any, body_bytes: bytes) -> APIStatusError:
    """The exception for an error response, its body parsed as JSON when it is JSON."""
    try:
        body: Any = msgspec.json.decode(body_bytes) if body_bytes else None
    except (msgspec.MsgspecError, ValueError, RecursionError):  # not JSON, not UTF-8, nested too deep
        body = body_bytes.decode("utf-8", "replace") or None
    return make_status_error(response.status_code, body, response=response, request_id=response.headers.get("request-id"))


def retry_delay(
    attempt: int,
    max_retries: int,
    *,
    status: int | None,
    headers: Mapping[str, str] | None = None,
    max_retry_after: float = DEFAULT_MAX_RETRY_AFTER,
    now: float | None = None,
) -> float | None:
    """Seconds to wait before retry number ``attempt + 1``, or None for no retry.

    ``status`` None means the connection failed. Headers decide first (x-should-retry,
    then retry-after-ms, retry-after as seconds or an HTTP date, honoured up to
    ``max_retry_after``), then the status (the wire table's ``retryable``). Backoff:
    0.5 s * 2^n, at most 8 s, less up to 25 % jitter.
    """
    if attempt >= max_retries:
        return None
    if status is not None:
        headers = headers or {}
        should = headers.get("x-should-retry")
        if should == "false":
            return None
        if should != "true" and not is_retryable(status):
            return None
        hinted = _retry_after(headers, time.time() if now is None else now)
        if hinted is not None and 0 <= hinted <= max_retry_after:
            return hinted
    backoff = min(INITIAL_RETRY_DELAY * 2**attempt, MAX_RETRY_DELAY)
    return backoff * (1 - 0.25 * random.random())


def _retry_after(headers: Mapping[str, str], now: float) -> float | None:
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
        try:
            parsed = email.utils.parsedate_to_datetime(raw)
        except (TypeError, ValueError):
            return None
        return None if parsed is None else parsed.timestamp() - now
