"""Errors the server answers with, in the API's own shape and statuses (wire-spec §5).

Status, ``error.type`` and ``x-should-retry`` all come from the wire table in
``protocol/wire.py``, the one the client reads too.
"""

from __future__ import annotations

from ..protocol.wire import error_type_for_status, is_retryable


class APIErrorResponse(Exception):
    """Raise anywhere in a request: before the stream it becomes a JSON error with its
    status; after the 200 it becomes an in-band ``event: error``."""

    def __init__(self, status: int, message: str, *, type: str | None = None, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.type = type or error_type_for_status(status)
        self.message = message
        self.headers = headers or {}

    def body(self, request_id: str) -> dict:
        return {"type": "error", "error": {"type": self.type, "message": self.message}, "request_id": request_id}

    def response_headers(self) -> dict[str, str]:
        return {"x-should-retry": "true" if is_retryable(self.status) else "false", **self.headers}


def invalid(message: str) -> APIErrorResponse:
    return APIErrorResponse(400, message)
