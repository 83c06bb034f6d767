"""The one table of API errors on the wire: status ↔ ``error.type`` ↔ retryable ↔ exception.

Both sides read it. The server answers a status with its ``error.type`` and an
``x-should-retry`` header; the client turns a status (or, inside a 200 stream, an
``error.type``) into the exception class of the official SDK 2.10 named here, and decides
whether to retry. Exception classes are named, not imported, so the protocol core stays
free of the client.

Sources: the API's error docs (2026) for the types (wire-spec §5.1); the SDK's
``ERROR_CLASSES`` for the classes; its ``_should_retry`` for what is retried
(408, 409, 429 and every status >= 500).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["WireError", "WIRE_ERRORS", "by_status", "status_for_type", "error_type_for_status", "is_retryable"]


@dataclass(frozen=True, slots=True)
class WireError:
    status: int
    exception: str  # class name in claudewire._exceptions (the SDK's name)
    type: str | None  # the error.type the API sends with this status; None: not documented
    retryable: bool


# fmt: off
WIRE_ERRORS: tuple[WireError, ...] = (
    WireError(400, "BadRequestError",                  "invalid_request_error", False),
    WireError(401, "AuthenticationError",              "authentication_error",  False),
    WireError(402, "PaymentRequiredError",             "billing_error",         False),
    WireError(403, "PermissionDeniedError",            "permission_error",      False),
    WireError(404, "NotFoundError",                    "not_found_error",       False),
    WireError(408, "RequestTimeoutError",              None,                    True),
    WireError(409, "ConflictError",                    "conflict_error",        True),
    WireError(412, "PreconditionFailedError",          None,                    False),
    WireError(413, "ContentTooLargeError",             "request_too_large",     False),
    WireError(422, "UnprocessableEntityError",         None,                    False),
    WireError(429, "RateLimitError",                   "rate_limit_error",      True),
    WireError(431, "RequestHeaderFieldsTooLargeError", None,                    False),
    WireError(499, "ClientClosedRequestError",         None,                    False),
    WireError(500, "InternalServerError",              "api_error",             True),
    WireError(501, "HTTPNotImplementedError",          None,                    True),
    WireError(503, "ServiceUnavailableError",          None,                    True),
    WireError(504, "GatewayTimeoutError",              "timeout_error",         True),
    WireError(529, "OverloadedError",                  "overloaded_error",      True),
)
# fmt: on

# error.type values the SDK knows that share a status above, and the relay's cancel (ours).
_MORE_TYPES = {"memory_precondition_failed_error": 412, "memory_path_conflict_error": 409, "stream_cancelled_error": 499}

_BY_STATUS = {row.status: row for row in WIRE_ERRORS}
_STATUS_BY_TYPE = {row.type: row.status for row in WIRE_ERRORS if row.type is not None} | _MORE_TYPES


def by_status(status: int) -> WireError:
    """The row for a status; an unlisted status gets the generic class (InternalServerError at >= 500)."""
    row = _BY_STATUS.get(status)
    if row is not None:
        return row
    if status >= 500:
        return WireError(status, "InternalServerError", "api_error", True)
    return WireError(status, "APIStatusError", "invalid_request_error" if status >= 400 else None, False)


def status_for_type(error_type: str | None) -> int:
    """The status an ``error.type`` stands for (an in-band error arrives with 200); 500 if unknown."""
    return _STATUS_BY_TYPE.get(error_type or "", 500)


def error_type_for_status(status: int) -> str:
    """What a server puts in ``error.type``: the documented type, else the API's catch-alls."""
    row = by_status(status)
    if row.type is not None:
        return row.type
    return "api_error" if status >= 500 else "invalid_request_error"


def is_retryable(status: int) -> bool:
    return by_status(status).retryable
