"""What one request may cost the server, and the checks that hold it there.

Every limit answers in the API's shape (a 4xx ``invalid_request_error``, 413
``request_too_large``, 408 when the body is too slow), never a 500. The numbers are ours
where the API publishes none; the README lists each with its ``claudewire serve`` option.
"""

from __future__ import annotations

import asyncio
import json
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from starlette.requests import ClientDisconnect, Request

from . import defaults
from .errors import APIErrorResponse, invalid

MAX_BODY_BYTES = defaults.MAX_BODY_BYTES
MAX_JSON_DEPTH = 128  # objects and arrays nested deeper are refused
MAX_STOP_SEQUENCES = 1024
MAX_STOP_SEQUENCE_CHARS = 65_536  # all stop sequences together
DEFAULT_BODY_TIMEOUT = defaults.BODY_TIMEOUT
OFF_LOOP_BYTES = 256 * 1024  # larger bodies (and texts) are decoded and scanned in the one CPU thread


@dataclass(slots=True)
class Limits:
    max_body_bytes: int = MAX_BODY_BYTES
    body_timeout: float = defaults.BODY_TIMEOUT  # seconds for the whole body, once the headers are in


async def read_body(request: Request, limits: Limits) -> bytearray:
    """The request body, refused with 413 past ``max_body_bytes`` and 408 past ``body_timeout``.

    One growing buffer (no list of chunks joined at the end), so the peak is the body
    itself. A client that leaves mid-body gets no answer and leaves no traceback.
    """
    declared = request.headers.get("content-length")
    if declared is not None and declared.isascii() and declared.isdigit() and int(declared) > limits.max_body_bytes:
        raise APIErrorResponse(413, "Request exceeds the maximum allowed number of bytes.")
    body = bytearray()
    try:
        async with asyncio.timeout(limits.body_timeout):
            async for chunk in request.stream():
                body += chunk
                if len(body) > limits.max_body_bytes:
                    raise APIErrorResponse(413, "Request exceeds the maximum allowed number of bytes.")
    except TimeoutError:
        raise APIErrorResponse(408, f"The request body did not arrive within {limits.body_timeout:g} seconds.") from None
    except ClientDisconnect:
        raise APIErrorResponse(499, "Client closed the request before sending its body.") from None
    return body


class _Object:
    """What ``check_structure`` keeps of a decoded object: only how deep it goes."""

    __slots__ = ("depth",)

    def __init__(self, depth: int) -> None:
        self.depth = depth


def _depth(value: Any) -> int:
    if type(value) is _Object:
        return value.depth
    if type(value) is not list:
        return 0
    deepest, stack = 0, [(value, 1)]
    while stack:
        items, level = stack.pop()
        deepest = max(deepest, level)
        for item in items:
            if type(item) is list:
                stack.append((item, level + 1))
            elif type(item) is _Object:
                deepest = max(deepest, level + item.depth)
    return deepest


def _object(pairs: list[tuple[str, Any]]) -> _Object:
    if len(pairs) > 1 and len({key for key, _ in pairs}) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise invalid(f"There was an error parsing the body of your request: duplicate key {key!r} in an object")
            seen.add(key)
    depth = 1 + max((_depth(value) for _, value in pairs), default=0)
    if depth > MAX_JSON_DEPTH:
        raise invalid(f"There was an error parsing the body of your request: JSON nested more than {MAX_JSON_DEPTH} levels deep")
    return _Object(depth)


def check_structure(body: bytes | bytearray) -> None:
    """Refuse duplicate keys (the last would silently win) and nesting past ``MAX_JSON_DEPTH``.

    A second, C-speed pass over a body that already decoded: each object is reduced to its
    depth as soon as it is read, so nothing of the body is kept.
    """
    try:
        depth = _depth(json.loads(body, object_pairs_hook=_object))
    except RecursionError:
        depth = MAX_JSON_DEPTH + 1
    except ValueError as exc:  # msgspec accepted what json refuses (NaN-like oddities): say so
        raise invalid(f"There was an error parsing the body of your request: {exc}") from None
    if depth > MAX_JSON_DEPTH:
        raise invalid(f"There was an error parsing the body of your request: JSON nested more than {MAX_JSON_DEPTH} levels deep")


def check_stop_sequences(stop_sequences: list[str] | None) -> None:
    stops = stop_sequences or []
    if len(stops) > MAX_STOP_SEQUENCES:
        raise invalid(f"stop_sequences: List should have at most {MAX_STOP_SEQUENCES} items after validation, not {len(stops)}")
    total = sum(map(len, stops))
    if total > MAX_STOP_SEQUENCE_CHARS:
        raise invalid(f"stop_sequences: at most {MAX_STOP_SEQUENCE_CHARS} characters in all, not {total}")
    if any(not seq for seq in stops):  # the API's own texts, with no item index
        raise invalid("stop_sequences: each stop sequence must be non-empty")
    if any(not seq.strip() for seq in stops):
        raise invalid("stop_sequences: each stop sequence must contain non-whitespace")


# One thread, not a pool: decoding and scanning are C calls that hold the GIL for a whole
# call, so each extra thread is one more the event loop may wait behind. Large work queues here.
_decoder = ThreadPoolExecutor(max_workers=1, thread_name_prefix="claudewire-cpu")


async def validated(request: Request, limits: Limits, validate: Any, *args: Any) -> Any:
    """Read the body and run ``validate(body, *args)``: in the decoding thread when the body
    is large, so decoding megabytes never holds up the event loop's other clients."""
    body = await read_body(request, limits)
    return await off_loop(len(body), validate, body, *args)


async def off_loop(size: int, work: Any, *args: Any) -> Any:
    """``work(*args)``, in the one CPU thread when ``size`` (bytes or characters of input) is
    over ``OFF_LOOP_BYTES``; inline when small, where a thread hop would cost more."""
    if size <= OFF_LOOP_BYTES:
        return work(*args)
    return await asyncio.get_running_loop().run_in_executor(_decoder, work, *args)
