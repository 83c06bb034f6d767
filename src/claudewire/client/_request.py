"""Request shaping: a call's body, headers, query and timeout, ready for either client to send."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import msgspec

from .._types import NOT_GIVEN, given
from ._options import ClientOptions, merge_headers

NON_STREAMING_LIMIT_SECONDS = 600
RESUMABLE_HEADER = "x-claudewire-resumable"  # a resumable client's streams ask for resume (client/resume.py)

_encode = msgspec.json.Encoder().encode


@dataclass(slots=True)
class Call:
    """One API call, as the resources describe it."""

    method: str
    path: str
    body: bytes | None = None
    query: dict[str, Any] | None = None
    stream: bool = False
    helper: bool = False  # sent by the messages.stream() helper
    timeout: Any = NOT_GIVEN
    headers: dict[str, Any] | None = None


def build_body(params: dict[str, Any], *, stream: bool | None) -> bytes:
    """The JSON body: every given parameter, then ``extra_body`` on top."""
    body = {k: v for k, v in params.items() if given(v) and not k.startswith("extra_")}
    body.update(params.get("extra_body") or {})
    if stream is not None:
        body["stream"] = stream
    return _encode(body)


def check_nonstreaming(max_tokens: int, timeout_given: bool) -> None:
    """As the official SDK: a plain request that could take over 10 minutes must stream."""
    if timeout_given:
        return
    expected = 60 * 60 * max_tokens / 128_000
    if expected > NON_STREAMING_LIMIT_SECONDS:
        raise ValueError(
            "Streaming is required for operations that may take longer than 10 minutes. "
            f"max_tokens={max_tokens} could; use client.messages.stream(...) "
            "(or pass an explicit timeout)."
        )


def http_request(options: ClientOptions, call: Call, *, async_: bool) -> dict[str, Any]:
    """Keyword arguments for ``httpx2.Client.build_request``. Header layers, lowest first:
    ours, the key, the client's default_headers, the call's extra_headers (``omit`` removes)."""
    ours = options.base_headers(async_=async_)
    if call.helper:
        ours["x-stainless-helper-method"] = "stream"
    if call.stream and options.resumable:
        ours[RESUMABLE_HEADER] = "true"  # a server without resume (the API) ignores it
    headers = merge_headers(ours, options.auth_headers(), options.custom_headers, call.headers)
    timeouts = options.timeouts
    if given(call.timeout):
        timeout = call.timeout
    else:
        timeout = timeouts.for_stream() if call.stream else timeouts.request
    query = {**options.default_query, **(call.query or {})}
    return {
        "method": call.method,
        "url": options.base_url + call.path,
        "content": call.body,
        "params": query or None,
        "headers": headers,
        "timeout": timeout,
    }
