"""Hostile responses over real HTTP: the client raises one of its typed errors or returns a valid result.

A raw socket server answers each request with exactly the bytes a test gives it (an HTML
page with 200, a body that is not UTF-8, a gzip event stream, a cursor that never moves).
"""

from __future__ import annotations

import gzip
import json
import socket
import zlib
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import claudewire
from claudewire.client._retry import retry_delay

from ..conftest import load_vector
from ..rawhttp import RawServer, read_request
from .helpers import KINDS, call, client, params, stream


class CannedServer(RawServer):
    """Answers every request with ``self.responses[i % n]`` (status, headers, body), then closes."""

    def __init__(self) -> None:
        super().__init__(backlog=64)
        self.responses: list[tuple[int, dict[str, str], bytes]] = []
        self.requests: list[bytes] = []
        self.start()

    def answer(self, status: int, body: bytes, **headers: str) -> None:
        self.responses, self.requests = [(status, {k.replace("_", "-"): v for k, v in headers.items()}, body)], []

    def handle(self, conn: socket.socket) -> None:
        request = read_request(conn)
        if request is None:
            return
        head, _ = request
        self.requests.append(head.split(b"\r\n")[0])
        status, headers, body = self.responses[(len(self.requests) - 1) % len(self.responses)]
        lines = [f"HTTP/1.1 {status} X", f"content-length: {len(body)}", "connection: close"]
        lines += [f"{k}: {v}" for k, v in headers.items()]
        conn.sendall("\r\n".join(lines).encode("latin-1") + b"\r\n\r\n" + body)


@pytest.fixture(scope="module")
def canned() -> Iterator[CannedServer]:
    server = CannedServer()
    yield server
    server.close()


MESSAGE = {"id": "msg_1", "type": "message", "role": "assistant", "model": "m", "content": [{"type": "text", "text": "Hi"}],
           "stop_reason": "end_turn", "stop_sequence": None, "usage": {"input_tokens": 1, "output_tokens": 1}}
JSON = {"content_type": "application/json"}
NO_RETRY = {"max_retries": 0}


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(
    "body",
    [b"<html><body>Bad gateway</body></html>", b'{"id": 5}', b"[1, 2]", b"1e999", b'{"type": "message", "content": ' + b"[" * 3000 + b"]" * 3000 + b"}",
     b"\xff\xfe\xfd", b'{"id": "m", "content": "\xff"}', b""],
)
def test_a_200_that_is_not_a_message_is_a_validation_error(kind, canned, body) -> None:
    canned.answer(200, body, **JSON)
    error = call(kind, canned, "messages.create", options=NO_RETRY, **params())
    assert isinstance(error, claudewire.APIResponseValidationError), error
    assert error.status_code == 200


@pytest.mark.parametrize("kind", KINDS)
def test_an_error_body_that_is_not_utf8_or_json_is_still_a_status_error(kind, canned) -> None:
    for body in (b"\xff\xfe not utf-8", b'{"error": "\xff"}', b"[" * 5000, b'{"type": "error", "error": 5}'):
        canned.answer(400, body, **JSON)
        error = call(kind, canned, "messages.create", options=NO_RETRY, **params())
        assert type(error) is claudewire.BadRequestError and error.status_code == 400


def test_a_retry_after_that_is_neither_seconds_nor_a_date_is_ignored() -> None:
    for value in ("soon", "", "1e999", "nan", "Mon, 99 Foo 2026 99:99:99 GMT", "\x00"):
        delay = retry_delay(0, 2, status=529, headers={"retry-after": value}, now=0.0)
        assert delay is not None and 0.375 <= delay <= 0.5, (value, delay)  # the default backoff


@pytest.mark.parametrize("kind", KINDS)
def test_models_pages_of_the_wrong_shape_are_validation_errors(kind, canned) -> None:
    for body in (b"[]", b"5", b'{"data": 5}', b'{"data": [5]}', b'{"data": [], "has_more": "x"}', b"<html>"):
        canned.answer(200, body, **JSON)
        error = call(kind, canned, "models.list", options=NO_RETRY)
        assert isinstance(error, claudewire.APIResponseValidationError), (body, error)
    canned.answer(200, b'{"id": []}', **JSON)
    assert isinstance(call(kind, canned, "models.retrieve", "m", options=NO_RETRY), claudewire.APIResponseValidationError)
    canned.answer(200, b'{"input_tokens": "many"}', **JSON)
    error = call(kind, canned, "messages.count_tokens", options=NO_RETRY, model="m", messages=[])
    assert isinstance(error, claudewire.APIResponseValidationError)


def _walk(kind: str, page) -> list:
    if kind == "sync":
        return [m.id for m in page]

    async def run() -> list:
        return [m.id async for m in await page]

    import asyncio

    return asyncio.run(run())


@pytest.mark.parametrize("kind", KINDS)
def test_auto_paging_stops_with_a_typed_error_when_the_cursor_does_not_advance(kind, canned) -> None:
    model = {"type": "model", "id": "a", "display_name": "A", "created_at": "2025-01-01T00:00:00Z"}
    stuck = {"data": [model], "has_more": True, "first_id": "a", "last_id": "a"}
    canned.answer(200, json.dumps(stuck).encode(), **JSON)
    c = client(kind, canned, max_retries=0)
    with pytest.raises(claudewire.APIResponseValidationError, match="does not advance"):
        _walk(kind, c.models.list(after_id="a") if kind == "sync" else c.models.list(after_id="a"))
    no_cursor = {"data": [model], "has_more": True, "first_id": None, "last_id": None}
    canned.answer(200, json.dumps(no_cursor).encode(), **JSON)
    with pytest.raises(claudewire.APIResponseValidationError):
        _walk(kind, c.models.list())
    assert len(canned.requests) == 1  # the same page is never asked for again


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("encoding", ["gzip", "deflate"])
def test_a_compressed_event_stream_is_decoded(kind, canned, encoding) -> None:
    body, expect = load_vector("docs_text")
    packed = gzip.compress(body) if encoding == "gzip" else zlib.compress(body)
    canned.answer(200, packed, content_type="text/event-stream", content_encoding=encoding)
    out = stream(kind, canned, options=NO_RETRY, **params())
    assert out.error is None, out.error
    assert out.text == expect["text_stream"] and out.message.stop_reason == expect["message"]["stop_reason"]


# --- generated -------------------------------------------------------------------------------

bodies = st.one_of(
    st.binary(max_size=60),
    st.sampled_from([json.dumps(MESSAGE).encode(), b"<html></html>", b"{}", b"[]", b"null", b"1e999", b"[" * 2000]),
    st.builds(lambda key, value: json.dumps({**MESSAGE, key: value}).encode(),
              st.sampled_from(["content", "usage", "id", "stop_reason", "type", "__dict__", "to_dict", "role", "data", "error"]),
              st.one_of(st.none(), st.integers(), st.text(max_size=5), st.lists(st.integers(), max_size=2),
                        st.dictionaries(st.text(max_size=4), st.integers(), max_size=2))),
)
statuses = st.sampled_from([200, 200, 200, 201, 400, 401, 404, 413, 429, 500, 529, 599])
header_sets = st.fixed_dictionaries({}, optional={
    "content_type": st.sampled_from(["application/json", "text/html", "text/event-stream", "x/\u00ff"]),
    "retry_after": st.sampled_from(["soon", "1", "-1", "1e999", "Wed, 21 Oct 2015 07:28:00 GMT"]),
    "content_encoding": st.sampled_from(["gzip", "deflate", "br", "identity"]),
    "request_id": st.text(st.characters(min_codepoint=33, max_codepoint=126), max_size=8),
})
methods = st.sampled_from(["create", "stream", "count_tokens", "list", "retrieve"])


@pytest.fixture(scope="module")
def one_client(canned):
    with client("sync", canned, max_retries=0) as c:
        yield c


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(status=statuses, body=bodies, headers=header_sets, method=methods)
def test_any_response_gives_a_typed_error_or_a_valid_result(canned, one_client, status, body, headers, method) -> None:
    canned.answer(status, body, **headers)
    c = one_client
    try:
        if method == "stream":
            with c.messages.stream(**params()) as s:
                s.get_final_message()
        elif method == "create":
            c.messages.create(**params())
        elif method == "count_tokens":
            c.messages.count_tokens(model="m", messages=[])
        elif method == "list":
            list(c.models.list())
        else:
            c.models.retrieve("m")
    except claudewire.APIError:
        pass
    except RuntimeError as exc:  # the SDK's own: a stream that ended without a message has no final message
        assert "closed before its message was complete" in str(exc)
