"""Resumable streams, client side, sans-IO: when and how a broken stream reconnects.

The client asks with ``x-claudewire-resumable: true``; a server that offers resume answers
with ``x-claudewire-stream-id`` and an SSE ``id`` on every event. When such a stream breaks
(a cut body, a transport error, the idle timeout) the ``Resumer`` plans a reconnect:
``GET /v1/messages/streams/{id}`` with ``Last-Event-ID`` set to the last event handed on,
after a backoff, within the client's retry budget (failed reconnects in a row) and the
stream's total deadline. The parser keeps its snapshot; only the SSE framing restarts, so
an event is never handed on twice and none is skipped. A server that offers no resume (the
real API) gets no reconnect: the stream fails as it always did.

A ``stream_cancelled_error`` event ends the stream: cleanly for the reader that called
``cancel()``, as ``StreamCancelledError`` (with the partial message) for the others.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .._exceptions import APIError
from ._options import ClientOptions
from ._request import RESUMABLE_HEADER, Call, http_request
from ._retry import retry_delay

STREAM_ID_HEADER = "x-claudewire-stream-id"
__all__ = ["RESUMABLE_HEADER", "STREAM_ID_HEADER", "CANCELLED_ERROR", "Reconnect", "Resumer"]
CANCELLED_ERROR = "stream_cancelled_error"


@dataclass(slots=True)
class Reconnect:
    """Wait ``delay`` seconds, then send ``request`` (httpx2 ``build_request`` arguments)."""

    delay: float
    request: dict[str, Any]


class Resumer:
    def __init__(self, options: ClientOptions, stream_id: str, *, async_: bool) -> None:
        self.options = options
        self.stream_id = stream_id
        self.async_ = async_
        self.failed = 0  # reconnects in a row that delivered nothing
        self.cancelled = False  # this reader asked for the cancel

    @classmethod
    def offered(cls, options: ClientOptions, headers: Any, *, async_: bool) -> Resumer | None:
        stream_id = headers.get(STREAM_ID_HEADER)
        return cls(options, stream_id, async_=async_) if stream_id else None

    def request(self, last_event_id: str | None) -> dict[str, Any]:
        headers = {"accept": "text/event-stream"}
        if last_event_id is not None:
            headers["last-event-id"] = last_event_id
        call = Call("GET", f"/v1/messages/streams/{self.stream_id}", stream=True, headers=headers)
        return http_request(self.options, call, async_=self.async_)

    def cancel_call(self) -> Call:
        return Call("POST", f"/v1/messages/streams/{self.stream_id}/cancel")

    def plan(self, error: APIError, last_event_id: str | None, remaining: float | None) -> Reconnect:
        """The next reconnect after ``error``, or ``error`` raised when the budget (max_retries
        reconnects in a row without an event) or the deadline is spent."""
        if self.failed >= self.options.max_retries:
            raise error
        # the first reconnect goes at once (a cut connection is the usual case), then back off
        delay = 0.0 if self.failed == 0 else retry_delay(self.failed - 1, self.options.max_retries, status=None) or 0.0
        if remaining is not None and delay >= remaining:
            raise error
        self.failed += 1
        return Reconnect(delay, self.request(last_event_id))

    def progressed(self) -> None:
        self.failed = 0
