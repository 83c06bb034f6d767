"""The exception tree, with the official SDK's names and hierarchy.

    APIError
    ├── APIConnectionError            the connection failed or broke
    │   ├── APITimeoutError           connect, idle or total deadline
    │   └── IncompleteStreamError     the body ended before the message was complete
    ├── StreamProtocolError           the stream broke the Messages grammar
    └── APIStatusError                the API answered with an error (status, or in-band)
        ├── BadRequestError 400       ├── RequestTooLargeError 413
        ├── AuthenticationError 401   ├── UnprocessableEntityError 422
        ├── PermissionDeniedError 403 ├── RateLimitError 429
        ├── NotFoundError 404         ├── InternalServerError >= 500
        ├── ConflictError 409         └── OverloadedError 529

Every error raised while streaming carries ``partial_message``: the snapshot so far.
No message ever includes request headers, so the API key cannot leak through one.
"""

from __future__ import annotations

from typing import Any

from .protocol.errors import ProtocolError
from .protocol.types import Message

__all__ = [
    "APIError",
    "APIConnectionError",
    "APITimeoutError",
    "IncompleteStreamError",
    "StreamProtocolError",
    "APIStatusError",
    "BadRequestError",
    "AuthenticationError",
    "PermissionDeniedError",
    "NotFoundError",
    "ConflictError",
    "RequestTooLargeError",
    "UnprocessableEntityError",
    "RateLimitError",
    "InternalServerError",
    "OverloadedError",
    "AnthropicError",
    "StreamCancelledError",
]


class AnthropicError(Exception):
    pass


class APIError(AnthropicError):
    message: str
    body: object | None
    type: str | None
    request_id: str | None
    partial_message: Message | None

    def __init__(
        self,
        message: str,
        *,
        body: object | None = None,
        request_id: str | None = None,
        partial_message: Message | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.body = body
        error = body.get("error") if isinstance(body, dict) else None
        self.type = error.get("type") if isinstance(error, dict) else None
        self.request_id = request_id
        self.partial_message = partial_message


class APIConnectionError(APIError):
    def __init__(self, message: str = "Connection error.", **kwargs: Any) -> None:
        super().__init__(message, **kwargs)


class APITimeoutError(APIConnectionError):
    def __init__(self, message: str = "Request timed out.", **kwargs: Any) -> None:
        super().__init__(message, **kwargs)


class IncompleteStreamError(APIConnectionError):
    """The body ended before ``message_delta``: the message is not complete."""


class StreamProtocolError(APIError, ProtocolError):
    """The stream broke the Messages API's event grammar (for example a delta with no block)."""


class APIStatusError(APIError):
    status_code: int

    def __init__(self, message: str, *, status_code: int, response: Any = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.status_code = status_code
        self.response = response


class BadRequestError(APIStatusError):
    pass


class AuthenticationError(APIStatusError):
    pass


class PermissionDeniedError(APIStatusError):
    pass


class NotFoundError(APIStatusError):
    pass


class ConflictError(APIStatusError):
    pass


class RequestTooLargeError(APIStatusError):
    pass


class UnprocessableEntityError(APIStatusError):
    pass


class RateLimitError(APIStatusError):
    pass


class InternalServerError(APIStatusError):
    pass


class OverloadedError(APIStatusError):
    pass


class StreamCancelledError(APIStatusError):
    """Someone else cancelled this resumable stream (``POST /v1/messages/streams/{id}/cancel``);
    ``partial_message`` holds what was generated. The reader that cancelled gets no error."""


_BY_STATUS: dict[int, type[APIStatusError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    413: RequestTooLargeError,
    422: UnprocessableEntityError,
    429: RateLimitError,
    529: OverloadedError,
}

# An in-band ``event: error`` has HTTP status 200; its error.type says what happened.
STATUS_BY_TYPE = {
    "invalid_request_error": 400,
    "authentication_error": 401,
    "billing_error": 402,
    "permission_error": 403,
    "not_found_error": 404,
    "conflict_error": 409,
    "request_too_large": 413,
    "rate_limit_error": 429,
    "api_error": 500,
    "timeout_error": 504,
    "overloaded_error": 529,
}


def status_error_class(status: int) -> type[APIStatusError]:
    if status in _BY_STATUS:
        return _BY_STATUS[status]
    return InternalServerError if status >= 500 else APIStatusError


def make_status_error(
    status: int,
    body: object | None,
    *,
    response: Any = None,
    request_id: str | None = None,
    partial_message: Message | None = None,
) -> APIStatusError:
    error = body.get("error") if isinstance(body, dict) else None
    detail = error.get("message") if isinstance(error, dict) else None
    message = f"Error code: {status} - {body if body is not None else detail}"
    cls = status_error_class(status)
    return cls(message, status_code=status, response=response, body=body, request_id=request_id, partial_message=partial_message)


def in_band_error(body: dict[str, Any], *, response: Any, request_id: str | None, partial_message: Message | None) -> APIStatusError:
    """The exception for an ``event: error``: classed by error.type, not by the 200 status."""
    error = body.get("error") or {}
    status = STATUS_BY_TYPE.get(error.get("type", ""), 500)
    cls = status_error_class(status)
    message = f"{error.get('type', 'error')}: {error.get('message', '')} (in-band error after the stream began)"
    return cls(
        message,
        status_code=status,
        response=response,
        body=body,
        request_id=body.get("request_id") or request_id,
        partial_message=partial_message,
    )
