"""The exception tree of the official SDK 2.10, name for name, plus two stream errors of ours.

    AnthropicError
    ├── APIError
    │   ├── APIConnectionError                the connection failed or broke
    │   │   ├── APITimeoutError               connect, idle or total deadline
    │   │   └── IncompleteStreamError *       the body ended before the message was complete
    │   ├── StreamProtocolError *             the stream broke the Messages grammar (also a ProtocolError)
    │   ├── APIResponseValidationError        a success body that is not the promised shape
    │   ├── APIWebhookValidationError
    │   └── APIStatusError                    the API answered with an error (a status, or in-band)
    │       ├── BadRequestError 400           ├── ContentTooLargeError 413 (= RequestTooLargeError)
    │       ├── AuthenticationError 401       ├── UnprocessableEntityError 422
    │       ├── PaymentRequiredError 402      ├── RateLimitError 429
    │       ├── PermissionDeniedError 403     ├── RequestHeaderFieldsTooLargeError 431
    │       ├── NotFoundError 404             ├── ClientClosedRequestError 499
    │       │                                 │   └── StreamCancelledError *  a resumable stream, cancelled by another reader
    │       ├── RequestTimeoutError 408       └── InternalServerError >= 500
    │       ├── ConflictError 409                 ├── HTTPNotImplementedError 501
    │       └── PreconditionFailedError 412       ├── ServiceUnavailableError 503
    │                                             ├── GatewayTimeoutError 504 (= DeadlineExceededError)
    │                                             └── OverloadedError 529
    ├── RetryableError
    └── CredentialsError
        └── IdentityTokenFileError
    (* ours, not in the SDK)

Which class a status or an in-band ``error.type`` gets comes from the wire table
(``protocol/wire.py``), shared with the server. Every error raised while streaming carries
``partial_message``: the snapshot so far. No message ever includes request headers, so the
API key cannot leak through one.
"""

from __future__ import annotations

import pathlib
from typing import Any, Literal

from .protocol.errors import ProtocolError
from .protocol.types import Message
from .protocol.wire import by_status, status_for_type

__all__ = [
    "AnthropicError",
    "APIError",
    "APIConnectionError",
    "APITimeoutError",
    "IncompleteStreamError",
    "StreamProtocolError",
    "APIResponseValidationError",
    "APIWebhookValidationError",
    "APIStatusError",
    "BadRequestError",
    "AuthenticationError",
    "PaymentRequiredError",
    "PermissionDeniedError",
    "NotFoundError",
    "RequestTimeoutError",
    "ConflictError",
    "PreconditionFailedError",
    "ContentTooLargeError",
    "RequestTooLargeError",
    "UnprocessableEntityError",
    "RateLimitError",
    "RequestHeaderFieldsTooLargeError",
    "ClientClosedRequestError",
    "StreamCancelledError",
    "InternalServerError",
    "HTTPNotImplementedError",
    "ServiceUnavailableError",
    "GatewayTimeoutError",
    "DeadlineExceededError",
    "OverloadedError",
    "RetryableError",
    "CredentialsError",
    "IdentityTokenFileError",
]


def _error_field(body: object, *names: str) -> Any:
    value: Any = body
    for name in ("error", *names):
        value = value.get(name) if isinstance(value, dict) else None
    return value


def _request_of(response: Any) -> Any:
    try:
        return None if response is None else response.request
    except RuntimeError:  # an httpx2.Response built by hand has no request
        return None


class AnthropicError(Exception):
    pass


class APIError(AnthropicError):
    """``request`` is the httpx2 request when there was one (positional, as in the SDK)."""

    message: str
    body: object | None
    type: str | None
    request_id: str | None
    partial_message: Message | None

    def __init__(
        self,
        message: str,
        request: Any = None,
        *,
        body: object | None = None,
        request_id: str | None = None,
        partial_message: Message | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.request = request
        self.body = body
        self.type = _error_field(body, "type")
        self.request_id = request_id
        self.partial_message = partial_message


class APIConnectionError(APIError):
    def __init__(self, message: str = "Connection error.", request: Any = None, **kwargs: Any) -> None:
        super().__init__(message, request, **kwargs)


class APITimeoutError(APIConnectionError):
    """``APITimeoutError(request)`` as in the SDK; ``message=`` says which deadline passed."""

    def __init__(self, request: Any = None, *, message: str = "Request timed out.", **kwargs: Any) -> None:
        if isinstance(request, str):  # APITimeoutError("...") reads as the message
            message, request = request, None
        super().__init__(message, request, **kwargs)


class IncompleteStreamError(APIConnectionError):
    """The body ended before ``message_delta``: the message is not complete."""


class StreamProtocolError(APIError, ProtocolError):
    """The stream broke the Messages API's event grammar (for example a delta with no block)."""


class APIResponseValidationError(APIError):
    """A success status whose body is not what the endpoint promises."""

    def __init__(self, response: Any, body: object | None, *, message: str | None = None, **kwargs: Any) -> None:
        super().__init__(message or "Data returned by API invalid for expected schema.", _request_of(response),
                         body=body, **kwargs)
        self.response = response
        self.status_code: int = response.status_code


class APIWebhookValidationError(APIError):
    pass


class APIStatusError(APIError):
    """The API answered with an error: ``status_code``, ``type``, ``request_id`` and the SDK's
    ``api_message``, ``error_code``, ``details`` and ``workspace_id``."""

    status_code: int
    response: Any

    def __init__(
        self,
        message: str,
        *,
        response: Any = None,
        body: object | None = None,
        status_code: int | None = None,
        request_id: str | None = None,
        **kwargs: Any,
    ) -> None:
        headers = getattr(response, "headers", None) or {}
        super().__init__(message, _request_of(response), body=body,
                         request_id=request_id or headers.get("request-id"), **kwargs)
        self.response = response
        if status_code is None:
            status_code = response.status_code if response is not None else type(self).__dict__.get("status_code", 0)
        self.status_code = status_code
        self.workspace_id: str | None = headers.get("anthropic-workspace-id")
        self.api_message: str | None = _error_field(body, "message")
        code = _error_field(body, "details", "error_code")
        self.error_code: str | None = code if isinstance(code, str) else None
        self.details: Any = _error_field(body, "details")


class BadRequestError(APIStatusError):
    status_code: Literal[400] = 400


class AuthenticationError(APIStatusError):
    status_code: Literal[401] = 401


class PaymentRequiredError(APIStatusError):
    status_code: Literal[402] = 402


class PermissionDeniedError(APIStatusError):
    status_code: Literal[403] = 403


class NotFoundError(APIStatusError):
    status_code: Literal[404] = 404


class RequestTimeoutError(APIStatusError):
    status_code: Literal[408] = 408


class ConflictError(APIStatusError):
    status_code: Literal[409] = 409


class PreconditionFailedError(APIStatusError):
    status_code: Literal[412] = 412


class ContentTooLargeError(APIStatusError):
    status_code: Literal[413] = 413


RequestTooLargeError = ContentTooLargeError
"""The SDK's older name; the same class."""


class UnprocessableEntityError(APIStatusError):
    status_code: Literal[422] = 422


class RateLimitError(APIStatusError):
    status_code: Literal[429] = 429


class RequestHeaderFieldsTooLargeError(APIStatusError):
    status_code: Literal[431] = 431


class ClientClosedRequestError(APIStatusError):
    status_code: Literal[499] = 499


class StreamCancelledError(ClientClosedRequestError):
    """Someone else cancelled this resumable stream (``POST /v1/messages/streams/{id}/cancel``);
    ``partial_message`` holds what was generated. The reader that cancelled gets no error."""


class InternalServerError(APIStatusError):
    pass


class HTTPNotImplementedError(InternalServerError):
    status_code: Literal[501] = 501


class ServiceUnavailableError(InternalServerError):
    status_code: Literal[503] = 503


class GatewayTimeoutError(InternalServerError):
    status_code: Literal[504] = 504


DeadlineExceededError = GatewayTimeoutError
"""The SDK's older name; the same class."""


class OverloadedError(InternalServerError):
    status_code: Literal[529] = 529


class RetryableError(AnthropicError):
    """The SDK's opt-in retry signal for its middleware (claudewire has no middleware yet)."""


class CredentialsError(AnthropicError):
    """Credentials could not be loaded (claudewire reads only the key and token it is given, or the env)."""


class IdentityTokenFileError(CredentialsError):
    def __init__(self, message: str, *, path: pathlib.Path | None = None) -> None:
        super().__init__(message)
        self.path = path


def status_error_class(status: int) -> type[APIStatusError]:
    """The class for an HTTP status, from the wire table."""
    cls = globals()[by_status(status).exception]
    assert issubclass(cls, APIStatusError)
    return cls


def make_status_error(
    status: int,
    body: object | None,
    *,
    response: Any = None,
    request_id: str | None = None,
    partial_message: Message | None = None,
) -> APIStatusError:
    """The SDK's message: ``Error code: {status} - {parsed body}``."""
    detail = _error_field(body, "message")
    message = f"Error code: {status} - {body if body is not None else detail}"
    cls = status_error_class(status)
    return cls(message, status_code=status, response=response, body=body, request_id=request_id, partial_message=partial_message)


def in_band_error(body: dict[str, Any], *, response: Any, request_id: str | None, partial_message: Message | None) -> APIStatusError:
    """The exception for an ``event: error``: classed by error.type, not by the 200 status."""
    error = body.get("error") or {}
    status = status_for_type(error.get("type"))
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
