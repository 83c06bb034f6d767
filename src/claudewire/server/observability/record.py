"""One request, as seen from outside the app: status, model, tokens, timings and outcome.

Outcomes:

    completed      the response was sent whole (a stream reached message_stop)
    error          an error response, or an in-band ``event: error`` after the 200 (error_type says which)
    disconnected   the client left before the response ended
    cut            the stream's body ended without message_stop or an error (a fault, a broken backend)
    cancelled      the server stopped the request (shutdown)
"""

from __future__ import annotations

import time
from typing import Any

import msgspec

from ...protocol.sse import SSEDecoder

_decode = msgspec.json.decode
_DELTA = b"event: content_block_delta\n"
MAX_JSON_BODY = 4 * 1024 * 1024  # a non-streamed reply larger than this is not parsed for its usage


class RequestRecord:
    def __init__(self, scope: Any) -> None:
        self.started_wall = time.time()
        self.started = time.monotonic()
        self.method: str = scope.get("method", "")
        self.path: str = scope.get("path", "")
        self.route: str = "other"
        self.request_id: str | None = None
        self.status: int | None = None
        self.streamed = False
        self.model: str | None = None
        self.input_tokens: int | None = None
        self.output_tokens: int | None = None
        self.first_byte: float | None = None
        self.first_token: float | None = None
        self.ended: float | None = None
        self.outcome: str | None = None
        self.error_type: str | None = None
        self.disconnected = False
        self._sse: SSEDecoder | None = None
        self._body: list[bytes] = []
        self._body_size = 0
        self._stopped = False
        self._at_boundary = True  # the last chunk ended an event

    # -- fed by the middleware ------------------------------------------------------------

    def response_start(self, message: dict[str, Any]) -> None:
        self.status = message["status"]
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in message.get("headers", [])}
        self.request_id = headers.get("request-id")
        self.streamed = headers.get("content-type", "").startswith("text/event-stream")
        if self.streamed:
            self._sse = SSEDecoder()

    def body(self, chunk: bytes) -> None:
        if chunk and self.first_byte is None:
            self.first_byte = time.monotonic() - self.started
        if self._sse is not None:
            if self._at_boundary and chunk.startswith(_DELTA) and chunk.endswith(b"\n\n") and chunk.count(b"\n\n") == 1 \
                    and b"\nevent" not in chunk and b"\r" not in chunk:
                self._event("content_block_delta", "")  # one whole delta, as our server frames it: nothing to decode
                return
            for event in self._sse.feed(chunk):
                self._event(event.event, event.data)
            self._at_boundary = chunk.endswith(b"\n\n")
        elif self._body_size <= MAX_JSON_BODY:
            self._body.append(chunk)
            self._body_size += len(chunk)

    def finish(self, outcome: str | None = None) -> None:
        """``outcome`` is given when the request did not end by itself (cancelled, failed)."""
        self.ended = time.monotonic() - self.started
        if outcome is not None:
            self.outcome = outcome
        elif self.disconnected:
            self.outcome = "disconnected"
        elif self._sse is not None:
            self.outcome = "error" if self.error_type else "completed" if self._stopped else "cut"
        else:
            self._json_body()
            self.outcome = "error" if (self.status or 500) >= 400 else "completed"

    # -- what the bytes say ---------------------------------------------------------------

    def _event(self, name: str | None, data: str) -> None:
        if name == "content_block_delta":
            if self.first_token is None:
                self.first_token = time.monotonic() - self.started
        elif name == "message_start":
            message = _decode(data).get("message", {})
            self.model = message.get("model")
            self.input_tokens = message.get("usage", {}).get("input_tokens")
        elif name == "message_delta":
            usage = _decode(data).get("usage", {})
            self.output_tokens = usage.get("output_tokens", self.output_tokens)
            self.input_tokens = usage.get("input_tokens") or self.input_tokens
        elif name == "message_stop":
            self._stopped = True
        elif name == "error":
            self.error_type = _decode(data).get("error", {}).get("type", "error")

    def _json_body(self) -> None:
        if not self._body or self._body_size > MAX_JSON_BODY:
            return
        try:
            body = _decode(b"".join(self._body))
        except msgspec.DecodeError:
            return
        if not isinstance(body, dict):
            return
        if body.get("type") == "error":
            self.error_type = body.get("error", {}).get("type")
        elif body.get("type") == "message":
            self.model = body.get("model")
            usage = body.get("usage") or {}
            self.input_tokens = usage.get("input_tokens")
            self.output_tokens = usage.get("output_tokens")

    # -- derived ----------------------------------------------------------------------------

    @property
    def tokens_per_second(self) -> float | None:
        """Output tokens after the first, over the time after the first token."""
        if not self.output_tokens or self.output_tokens < 2 or self.first_token is None or self.ended is None:
            return None
        generating = self.ended - self.first_token
        return (self.output_tokens - 1) / generating if generating > 0 else None
