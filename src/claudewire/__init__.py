"""claudewire: stream Claude Messages API responses end to end.

``import claudewire as anthropic`` runs code written for the official SDK; the
protocol core (``claudewire.protocol``) is usable on its own, with no I/O.
"""

from . import types
from ._exceptions import (
    AnthropicError,
    APIConnectionError,
    APIError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    IncompleteStreamError,
    InternalServerError,
    NotFoundError,
    OverloadedError,
    PermissionDeniedError,
    RateLimitError,
    RequestTooLargeError,
    StreamCancelledError,
    StreamProtocolError,
    UnprocessableEntityError,
)
from ._version import __version__ as __version__
from .client import Anthropic, AsyncAnthropic, AsyncMessageStream, AsyncStream, MessageStream, Stream

__all__ = [
    "APIConnectionError",
    "APIError",
    "APIStatusError",
    "APITimeoutError",
    "Anthropic",
    "AnthropicError",
    "AsyncAnthropic",
    "AsyncMessageStream",
    "AsyncStream",
    "AuthenticationError",
    "BadRequestError",
    "ConflictError",
    "IncompleteStreamError",
    "InternalServerError",
    "MessageStream",
    "NotFoundError",
    "OverloadedError",
    "PermissionDeniedError",
    "RateLimitError",
    "RequestTooLargeError",
    "Stream",
    "StreamCancelledError",
    "StreamProtocolError",
    "UnprocessableEntityError",
    "types",
]
