"""The one border where httpx2's exceptions become ours (httpx's ``map_httpcore_exceptions`` idea).

Every read and send of both clients and both stream twins runs inside
``transport_errors()``; nothing above it ever sees a raw httpx2 error.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

import httpx2

from .._exceptions import APIConnectionError, APITimeoutError
from ..protocol.types import Message


def connection_error(exc: Exception, *, partial: Message | None = None, request_id: str | None = None) -> APIConnectionError:
    if isinstance(exc, httpx2.TimeoutException):
        kind = type(exc).__name__
        return APITimeoutError(message=f"Request timed out ({kind}).", partial_message=partial, request_id=request_id)
    return APIConnectionError(f"Connection error: {type(exc).__name__}: {exc}", partial_message=partial, request_id=request_id)


@contextmanager
def transport_errors(on_error: Callable[[Exception], APIConnectionError] = connection_error) -> Iterator[None]:
    """Turn any httpx2 error raised inside into an ``APIConnectionError`` (``on_error`` builds it,
    so a stream can attach its partial message)."""
    try:
        yield
    except httpx2.HTTPError as exc:
        raise on_error(exc) from exc
