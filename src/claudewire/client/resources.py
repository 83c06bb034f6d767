"""``client.messages`` and ``client.models``: request shapes and response types, shared.

Each resource's sync and async twins differ only in ``await``: building the request and
typing the answer live here, once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, Literal, TypeVar

import msgspec

from .._exceptions import APIResponseValidationError
from .._types import NOT_GIVEN, given
from ..protocol._model import Decoder, from_builtins
from ..protocol.types import Message, MessageTokensCount, ModelInfo
from ._request import Call, build_body, check_nonstreaming

T = TypeVar("T")

_message = Decoder(Message)
_tokens = Decoder(MessageTokensCount)
_model_info = Decoder(ModelInfo)


@dataclass(slots=True)
class Request:
    """One call and how to type its answer: ``parse`` (body, response) for a plain reply, or
    ``stream``: "events" (``create(stream=True)``) or "message" (``messages.stream()``)."""

    call: Call
    parse: Callable[[bytes, Any], Any] | None = None
    stream: Literal["events", "message"] | None = None
    after: int = 0  # resume(after=n): events up to n build the snapshot but are not handed on


def _beta(params: dict[str, Any], call: Call) -> Call:
    """``client.beta.messages``: ``betas=[...]`` travels as ``anthropic-beta``; the path gets
    ``?beta=true``, as the official SDK sends it."""
    betas = params.pop("betas", None)
    if given(betas) and betas:
        call.headers = {"anthropic-beta": ",".join(betas), **(call.headers or {})}
    call.query = {"beta": "true", **(call.query or {})}
    return call


def _call(path: str, params: dict[str, Any], *, beta: bool, body_stream: bool | None, **options: Any) -> Call:
    call = Call("POST", path, None, params.get("extra_query"), headers=params.get("extra_headers"), **options)
    if beta:
        _beta(params, call)
    call.body = build_body(params, stream=body_stream)
    return call


def create_request(params: dict[str, Any], *, stream: bool, timeout: Any, client_timeout_is_default: bool,
                   beta: bool = False) -> Request:
    if not stream and params.get("max_tokens") is not None:
        check_nonstreaming(int(params["max_tokens"]), given(timeout) or not client_timeout_is_default)
    call = _call("/v1/messages", params, beta=beta, body_stream=True if stream else None, stream=stream, timeout=timeout)
    return Request(call, stream="events") if stream else Request(call, parse=parse_message)


def stream_request(params: dict[str, Any], *, timeout: Any, beta: bool = False) -> Request:
    call = _call("/v1/messages", params, beta=beta, body_stream=True, stream=True, helper=True, timeout=timeout)
    return Request(call, stream="message")


def resume_request(stream_id: str, after: int | None) -> Request:
    """Attach to a resumable stream started elsewhere (another process, a page reload)."""
    call = Call("GET", f"/v1/messages/streams/{stream_id}", stream=True, headers={"accept": "text/event-stream"})
    return Request(call, stream="message", after=after or 0)


def count_tokens_request(params: dict[str, Any], *, beta: bool = False) -> Request:
    call = _call("/v1/messages/count_tokens", params, beta=beta, body_stream=None)
    return Request(call, parse=parse_tokens)


def models_list_request(limit: Any, after_id: Any, before_id: Any, page: Callable[[bytes, Any], Any]) -> Request:
    query = {k: v for k, v in (("limit", limit), ("after_id", after_id), ("before_id", before_id)) if given(v) and v is not None}
    return Request(Call("GET", "/v1/models", query=query), parse=page)


def model_retrieve_request(model_id: str) -> Request:
    return Request(Call("GET", f"/v1/models/{model_id}"), parse=parse_model)


# --- the one border where a success body becomes objects -------------------------------

# What decoding a hostile body can raise: bad JSON, bad UTF-8, numbers out of range,
# nesting too deep, the wrong shape. Past ``parse_body`` only APIResponseValidationError leaves.
_DECODE_ERRORS = (msgspec.MsgspecError, RecursionError, ValueError, TypeError, AttributeError, KeyError)


def parse_body(content: bytes, response: Any, parse: Callable[[bytes], T], what: str) -> T:
    """Type a success body with ``parse``; anything it cannot type is an ``APIResponseValidationError``."""
    try:
        return parse(content)
    except _DECODE_ERRORS as exc:
        shown = content[:200].decode("utf-8", "replace") + ("…" if len(content) > 200 else "")
        message = f"the {response.status_code} response is not a valid {what}: {str(exc) or type(exc).__name__}"
        raise APIResponseValidationError(response, shown, message=message,
                                         request_id=response.headers.get("request-id")) from None


def parse_message(content: bytes, response: Any) -> Message:
    message = parse_body(content, response, _message.decode, "Message")
    message.__dict__["_request_id"] = response.headers.get("request-id")
    return message


def parse_tokens(content: bytes, response: Any) -> MessageTokensCount:
    return parse_body(content, response, _tokens.decode, "MessageTokensCount")


def parse_model(content: bytes, response: Any) -> ModelInfo:
    return parse_body(content, response, _model_info.decode, "ModelInfo")


class _PageBody(msgspec.Struct):
    data: list[Any] = []
    has_more: bool = False
    first_id: str | None = None
    last_id: str | None = None


_page_body = msgspec.json.Decoder(_PageBody)


def _decode_page(content: bytes) -> tuple[_PageBody, list[ModelInfo]]:
    body = _page_body.decode(content)
    return body, [from_builtins(ModelInfo, item) for item in body.data]


class Page(Generic[T]):
    """One page of a list; iterating it walks every following page too (auto-paging)."""

    def __init__(self, content: bytes, response: Any, cursor: dict[str, Any], fetch_next: Any) -> None:
        body, data = parse_body(content, response, _decode_page, "page of models")
        self.data: list[T] = data  # type: ignore[assignment]
        self.has_more: bool = body.has_more
        self.first_id: str | None = body.first_id
        self.last_id: str | None = body.last_id
        self._response = response
        self._fetch_next = fetch_next
        self._cursor = {k: v for k, v in cursor.items() if given(v) and v is not None}
        self._backwards = "before_id" in self._cursor

    def next_cursor(self) -> dict[str, Any] | None:
        """The after_id/before_id of the next page (as the SDK pages), or None at the end.

        A server whose cursor does not move would page forever: that is an
        ``APIResponseValidationError``, raised before the same page is asked for again.
        """
        if not self.has_more or not self.data:
            return None
        if self._backwards:
            cursor = {"after_id": NOT_GIVEN, "before_id": self.first_id}
        else:
            cursor = {"after_id": self.last_id, "before_id": NOT_GIVEN}
        if {k: v for k, v in cursor.items() if given(v)} == self._cursor or None in cursor.values():
            raise APIResponseValidationError(
                self._response, None, message=f"auto-paging stopped: the server's cursor does not advance ({self._cursor or cursor})"
            )
        return cursor

    def __repr__(self) -> str:
        return f"Page(data={len(self.data)} items, has_more={self.has_more})"
