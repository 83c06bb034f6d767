"""``client.messages`` and ``client.models``: request shapes and response types, shared.

Each resource's sync and async twins differ only in ``await``: building the request and
typing the answer live here, once.
"""

from __future__ import annotations

from typing import Any, Generic, TypeVar

import msgspec

from ..protocol._model import Decoder, from_builtins
from ..protocol.types import Message, MessageTokensCount, ModelInfo
from .._types import NOT_GIVEN, given
from ._request import Call, build_body, check_nonstreaming
from .resume import RESUMABLE_HEADER

T = TypeVar("T")

_message = Decoder(Message)
_tokens = Decoder(MessageTokensCount)
_model_info = Decoder(ModelInfo)


def create_call(
    params: dict[str, Any], *, stream: bool, timeout: Any, client_timeout_is_default: bool, resumable: bool = False
) -> Call:
    if not stream and params.get("max_tokens") is not None:
        check_nonstreaming(int(params["max_tokens"]), given(timeout) or not client_timeout_is_default)
    body = build_body(params, stream=True if stream else None)
    headers = resume_headers(params.get("extra_headers"), stream and resumable)
    return Call("POST", "/v1/messages", body, params.get("extra_query"), stream=stream, timeout=timeout, headers=headers)


def stream_call(params: dict[str, Any], *, timeout: Any, resumable: bool = False) -> Call:
    body = build_body(params, stream=True)
    return Call("POST", "/v1/messages", body, params.get("extra_query"), stream=True, helper=True, timeout=timeout,
                headers=resume_headers(params.get("extra_headers"), resumable))


def resume_call(stream_id: str) -> Call:
    """Attach to a resumable stream started elsewhere (another process, a page reload)."""
    return Call("GET", f"/v1/messages/streams/{stream_id}", stream=True, headers={"accept": "text/event-stream"})


def resume_headers(headers: dict[str, Any] | None, resumable: bool) -> dict[str, Any] | None:
    """A stream asks for resume (``x-claudewire-resumable``) when the client is ``resumable``."""
    return {RESUMABLE_HEADER: "true", **(headers or {})} if resumable else headers


def count_tokens_call(params: dict[str, Any]) -> Call:
    return Call("POST", "/v1/messages/count_tokens", build_body(params, stream=None), params.get("extra_query"),
                headers=params.get("extra_headers"))


def models_list_call(limit: Any, after_id: Any, before_id: Any) -> Call:
    query = {k: v for k, v in (("limit", limit), ("after_id", after_id), ("before_id", before_id)) if given(v) and v is not None}
    return Call("GET", "/v1/models", query=query)


def model_retrieve_call(model_id: str) -> Call:
    return Call("GET", f"/v1/models/{model_id}")


def parse_message(content: bytes, request_id: str | None) -> Message:
    message = _message.decode(content)
    message.__dict__["_request_id"] = request_id
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
