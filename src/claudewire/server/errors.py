"""Errors the server answers with, in the API's own shape and statuses (wire-spec §5)."""

from __future__ import annotations

ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    402: "billing_error",
    403: "permission_error",
    404: "not_found_error",
    405: "invalid_request_error",
    409: "conflict_error",
    413: "request_too_large",
    429: "rate_limit_error",
    500: "api_error",
    504: "timeout_error",
    529: "overloaded_error",
}


class APIErrorResponse(Exception):
    """Raise anywhere in a request: before the stream it becomes a JSON error with its
    status; after the 200 it becomes an in-band ``event: error``."""

    def __init__(self, status: int, message: str, *, type: str | None = None, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.type = type or ERROR_TYPES.get(status, "api_error")
        self.message = message
        self.headers = headers or {}

    def body(self, request_id: str) -> dict:
        return {"type": "error", "error": {"type": self.type, "message": self.message}, "request_id": request_id}


def invalid(message: str) -> APIErrorResponse:
    return APIErrorResponse(400, message)
