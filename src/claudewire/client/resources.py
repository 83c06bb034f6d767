"""``client.messages`` and ``client.models``: request shapes and response types, shared.

Each resource's sync and async twins differ only in ``await``: building the request and
typing the answer live here, once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, Literal, TypeVar

import msgspec

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
    return Request(call, parse=lambda content, response: parse_tokens(content))


def models_list_call(limit: Any, after_id: Any, before_id: Any) -> Call:
    query = {k: v for k, v in (("limit", limit), ("after_id", after_id), ("before_id", before_id)) if given(v) and v is not None}
    return Call("GET", "/v1/models", query=query)


def model_retrieve_call(model_id: str) -> Call:
    return Call("GET", f"/v1/models/{model_id}")


def parse_message(content: bytes, response: Any) -> Message:
    message = _message.decode(content)
    message.__dict__["_request_id"] = response.headers.get("request-id")
    return message


def parse_tokens(content: bytes) -> MessageTokensCount:
    return _tokens.decode(content)


def parse_model(content: bytes) -> ModelInfo:
    return _model_info.decode(content)


class Page(Generic[T]):
    """One page of a list; iterating it walks every following page too (auto-paging)."""

    def __init__(self, content: bytes, before_id: Any, fetch_next: Any) -> None:
        body = msgspec.json.decode(content)
        self.data: list[T] = [from_builtins(ModelInfo, item) for item in body.get("data", [])]
        self.has_more: bool = bool(body.get("has_more"))
        self.first_id: str | None = body.get("first_id")
        self.last_id: str | None = body.get("last_id")
        self._fetch_next = fetch_next
        self._backwards = given(before_id) and before_id is not None

    def next_cursor(self) -> dict[str, Any] | None:
        """The after_id/before_id of the next page (as the SDK pages), or None at the end."""
        if not self.has_more or not self.data:
            return None
        if self._backwards:
            return {"after_id": NOT_GIVEN, "before_id": self.first_id}
        return {"after_id": self.last_id, "before_id": NOT_GIVEN}

    def __repr__(self) -> str:
        return f"Page(data={len(self.data)} items, has_more={self.has_more})"
