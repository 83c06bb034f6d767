"""The client against the real server over loopback, every scenario through both clients."""

from __future__ import annotations

import asyncio
import email.utils
import time
import uuid

import httpx2
import pytest

import claudewire
from claudewire.client._retry import retry_delay

from .helpers import KEY, KINDS, call, client, params, stream

SENTENCE = "one two three four five six seven eight"


@pytest.mark.parametrize("kind", KINDS)
def test_stream_text_final_message_and_snapshot(kind, scripted_server) -> None:
    out = stream(kind, scripted_server, **params(SENTENCE))
    assert out.error is None and out.text == SENTENCE and out.texts[:2] == ["one", " two"]
    assert out.message.content[0].text == SENTENCE and out.message.stop_reason == "end_turn"
    assert out.message.usage.output_tokens == 8 and out.message.usage.input_tokens == 8
    assert out.snapshot.content[0].text == SENTENCE and out.request_id.startswith("req_011C")
    assert out.message.to_dict()["content"] == [{"type": "text", "text": SENTENCE}]


@pytest.mark.parametrize("kind", KINDS)
def test_iterating_events_like_the_guide(kind, scripted_server) -> None:
    out = stream(kind, scripted_server, events=True, **params("Hello, world!"))
    types = [e.type for e in out.events]
    assert types[:4] == ["message_start", "content_block_start", "ping", "content_block_delta"]
    assert types.count("text") == 2 and types[-1] == "message_stop"
    deltas = [e.delta.text for e in out.events if e.type == "content_block_delta"]
    assert "".join(deltas) == "Hello, world!"
    assert out.events[-1].message.stop_reason == "end_turn"
    stop = [e for e in out.events if e.type == "content_block_stop"][0]
    assert stop.content_block.text == "Hello, world!"
    text_events = [e for e in out.events if e.type == "text"]
    assert text_events[-1].snapshot == "Hello, world!" and text_events[0].snapshot == "Hello,"


@pytest.mark.parametrize("kind", KINDS)
def test_tool_use_and_thinking_events(kind, scripted_server) -> None:
    tools = [{"name": "get_weather", "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}]
    out = stream(kind, scripted_server, events=True, **params(tools=tools, tool_choice={"type": "any"}))
    assert out.message.stop_reason == "tool_use" and out.message.content[0].input == {"city": "example"}
    partials = [e.snapshot for e in out.events if e.type == "input_json"]
    assert partials[0] == {} and partials[-1] == {"city": "example"}
    out = stream(kind, scripted_server, events=True, **params(max_tokens=3000, thinking={"type": "enabled", "budget_tokens": 2000}))
    assert out.message.content[0].type == "thinking" and out.message.content[0].signature
    assert {"thinking", "signature", "text"} <= {e.type for e in out.events}


@pytest.mark.parametrize("kind", KINDS)
def test_create_count_tokens_and_models(kind, scripted_server) -> None:
    message = call(kind, scripted_server, "messages.create", **params("hi there", temperature=0.2, top_k=5,
                                                                     extra_query={"beta": "true"}, extra_body={"metadata": {"user_id": "u"}}))
    assert isinstance(message, claudewire.types.Message) and message.content[0].text == "hi there"
    assert message._request_id.startswith("req_")
    assert call(kind, scripted_server, "messages.count_tokens", model="claude-sonnet-4-6",
                messages=[{"role": "user", "content": "a b c"}]).input_tokens == 3
    assert call(kind, scripted_server, "models.retrieve", "claude-haiku-4-5").max_tokens == 64000
    page = call(kind, scripted_server, "models.list", limit=3)
    assert len(page.data) == 3 and page.has_more and page.first_id == "claude-fable-5-2"


def test_models_auto_paging_both_clients(scripted_server) -> None:
    sync_ids = [m.id for m in client("sync", scripted_server).models.list(limit=4)]

    async def collect() -> list[str]:
        return [m.id async for m in client("async", scripted_server).models.list(limit=4)]

    assert sync_ids == asyncio.run(collect()) and len(sync_ids) == 12


@pytest.mark.parametrize("kind", KINDS)
def test_raw_stream_from_create(kind, scripted_server) -> None:
    if kind == "sync":
        with client(kind, scripted_server).messages.create(stream=True, **params("a b")) as raw:
            types = [e.type for e in raw]
    else:
        async def run() -> list[str]:
            raw = await client(kind, scripted_server).messages.create(stream=True, **params("a b"))
            return [e.type async for e in raw]

        types = asyncio.run(run())
    assert types == ["message_start", "content_block_start", "ping", "content_block_delta", "content_block_delta",
                     "content_block_stop", "message_delta", "message_stop"]


# --- retries -----------------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_retries_then_success(kind, scripted_server) -> None:
    headers = {"x-claudewire-fault": "overloaded; times=2", "x-claudewire-fault-id": uuid.uuid4().hex}
    out = stream(kind, scripted_server, **params(extra_headers=headers))
    assert out.error is None and out.text == "one two three four five"
    headers = {"x-claudewire-fault": "overloaded; times=3", "x-claudewire-fault-id": uuid.uuid4().hex}
    out = stream(kind, scripted_server, options={"max_retries": 2}, **params(extra_headers=headers))
    assert isinstance(out.error, claudewire.OverloadedError) and out.error.status_code == 529


@pytest.mark.parametrize("kind", KINDS)
def test_retry_after_is_honoured(kind, scripted_server) -> None:
    headers = {"x-claudewire-fault": "rate_limit; times=1", "x-claudewire-fault-id": uuid.uuid4().hex}
    start = time.monotonic()
    message = call(kind, scripted_server, "messages.create", **params(extra_headers=headers))
    assert message.content[0].text and time.monotonic() - start >= 1.0
    error = call(kind, scripted_server, "messages.create", options={"max_retries": 0},
                 **params(extra_headers={"x-claudewire-fault": "rate_limit"}))
    assert isinstance(error, claudewire.RateLimitError) and error.type == "rate_limit_error"


def test_retry_delay_rules() -> None:
    def response(status: int, **headers: str) -> dict:
        return {"status": status, "headers": httpx2.Headers(headers)}

    assert retry_delay(0, 2, **response(400)) is None
    assert retry_delay(0, 2, **response(400, **{"x-should-retry": "true"})) is not None
    assert retry_delay(0, 2, **response(529, **{"x-should-retry": "false"})) is None
    assert retry_delay(2, 2, **response(529)) is None
    assert retry_delay(0, 2, **response(429, **{"retry-after-ms": "250", "retry-after": "9"})) == 0.25
    assert retry_delay(0, 2, **response(429, **{"retry-after": "3"})) == 3
    date = email.utils.formatdate(1_000_010, usegmt=True)
    assert retry_delay(0, 2, **response(503, **{"retry-after": date}), now=1_000_000) == pytest.approx(10)
    capped = retry_delay(0, 2, **response(429, **{"retry-after": "120"}))  # over the 60 s cap: back off instead
    assert capped is not None and capped <= 0.5
    assert retry_delay(0, 2, **response(429, **{"retry-after": "120"}), max_retry_after=200) == 120
    for attempt, top in ((0, 0.5), (1, 1.0), (2, 2.0), (5, 8.0)):
        delay = retry_delay(attempt, 10, status=None)
        assert 0.75 * top <= delay <= top
    for status in (408, 409, 500, 503):
        assert retry_delay(0, 1, **response(status)) is not None


# --- broken streams -----------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_in_band_error_raises_by_type_with_partial(kind, scripted_server) -> None:
    out = stream(kind, scripted_server, **params(SENTENCE, extra_headers={"x-claudewire-fault": "error_after=3"}))
    error = out.error
    assert isinstance(error, claudewire.OverloadedError) and isinstance(error, claudewire.APIStatusError)
    assert error.type == "overloaded_error" and error.status_code == 529 and error.request_id.startswith("req_")
    assert error.partial_message.content[0].text == "one two three" and out.text == "one two three"


@pytest.mark.parametrize("kind", KINDS)
def test_cut_stream_is_incomplete_with_partial(kind, scripted_server) -> None:
    out = stream(kind, scripted_server, **params(SENTENCE, extra_headers={"x-claudewire-fault": "disconnect_after=2"}))
    assert isinstance(out.error, claudewire.IncompleteStreamError) and isinstance(out.error, claudewire.APIConnectionError)
    assert out.error.partial_message.content[0].text == "one two"


@pytest.mark.parametrize("kind", KINDS)
def test_pings_keep_a_stalled_stream_alive(kind, scripted_server) -> None:
    # Silence of 1.5 s, pings every 0.3 s, idle timeout 1 s: the pings count, the stream completes.
    out = stream(kind, scripted_server, options={"idle_timeout": 1.0},
                 **params(SENTENCE, extra_headers={"x-claudewire-fault": "stall_after=2; seconds=1.5"}))
    assert out.error is None and out.text == SENTENCE


@pytest.fixture(scope="module")
def quiet_server():
    """Pings only every 30 s, so a stall is real silence."""
    from claudewire.server.backends.scripted import ScriptedBackend
    from claudewire.server.run import ServerThread

    with ServerThread(ScriptedBackend(), faults=True, ping_interval=30) as server:
        yield server


@pytest.mark.parametrize("kind", KINDS)
def test_idle_timeout_raises_with_partial(kind, quiet_server) -> None:
    start = time.monotonic()
    out = stream(kind, quiet_server, options={"idle_timeout": 0.5, "max_retries": 0},
                 **params(SENTENCE, extra_headers={"x-claudewire-fault": "stall_after=2; seconds=3"}))
    assert isinstance(out.error, claudewire.APITimeoutError)
    assert out.error.partial_message.content[0].text == "one two"
    assert time.monotonic() - start < 2.5


@pytest.mark.parametrize("kind", KINDS)
def test_total_deadline(kind, scripted_server) -> None:
    out = stream(kind, scripted_server, options={"stream_timeout": 0.5},
                 **params(SENTENCE, extra_headers={"x-claudewire-delay-ms": "200"}))
    assert isinstance(out.error, claudewire.APITimeoutError) and "deadline" in out.error.message
    assert 0 < len(out.error.partial_message.content[0].text) < len(SENTENCE)


@pytest.mark.parametrize("kind", KINDS)
def test_leaving_the_block_disconnects_at_once(kind, local_server, local_backend) -> None:
    out = stream(kind, local_server, stop_after=3, **params("Write a very long essay about mountains.", max_tokens=2000))
    assert len(out.texts) == 3
    deadline = time.monotonic() + 5
    while local_backend.active and time.monotonic() < deadline:
        time.sleep(0.02)
    assert local_backend.active == 0  # the server saw the client leave and the model stopped


@pytest.mark.parametrize("kind", KINDS)
def test_connection_refused_is_ours(kind) -> None:
    class Nowhere:
        base_url = "http://127.0.0.1:9"

    out = stream(kind, Nowhere, options={"max_retries": 1}, **params())
    assert isinstance(out.error, claudewire.APIConnectionError) and not isinstance(out.error, claudewire.APIStatusError)
    assert KEY not in str(out.error) and KEY not in repr(out.error)


# --- the guide's troubleshooting cases 7 and 8, and the long-request guard ---------------------


def test_message_has_no_text_stream(scripted_server) -> None:
    message = call("sync", scripted_server, "messages.create", **params())
    with pytest.raises(AttributeError, match=r"messages\.stream\("):
        message.text_stream  # noqa: B018


def test_async_client_says_how_to_use_it(scripted_server) -> None:
    aclient = client("async", scripted_server)
    with pytest.raises(TypeError, match="async with"), aclient.messages.stream(**params()):
        pass
    with pytest.raises(RuntimeError, match=r"asyncio\.run\(main\(\)\)"):
        aclient._http  # noqa: B018

    async def once() -> str:
        async with aclient.messages.stream(**params("again")) as s:
            return await s.get_final_text()

    assert asyncio.run(once()) == "again" and asyncio.run(once()) == "again"  # one client, two event loops


def test_long_non_streaming_request_must_stream(scripted_server) -> None:
    c = client("sync", scripted_server)
    with pytest.raises(ValueError, match="Streaming is required"):
        c.messages.create(**params(max_tokens=64000))
    assert c.messages.create(timeout=30, **params(max_tokens=64000)).stop_reason == "end_turn"


# --- errors and their classes ---------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_status_errors_from_the_real_server(kind, scripted_server) -> None:
    cases = [
        (params(messages=[]), claudewire.BadRequestError, 400),
        (params(model="claude-none"), claudewire.NotFoundError, 404),
        (params(extra_headers={"x-claudewire-fault": "overloaded"}), claudewire.OverloadedError, 529),
        (params(extra_headers={"x-claudewire-fault": "rate_limit"}), claudewire.RateLimitError, 429),
    ]
    for body, cls, status in cases:
        error = call(kind, scripted_server, "messages.create", options={"max_retries": 0}, **body)
        assert type(error) is cls and error.status_code == status and error.request_id.startswith("req_")
        assert error.body["error"]["type"] == error.type and error.message.startswith(f"Error code: {status}")
    big = call(kind, scripted_server, "messages.create", **params("x" * (33 * 1024 * 1024)))
    assert isinstance(big, claudewire.RequestTooLargeError)


@pytest.mark.parametrize(("status", "cls"), [(401, "AuthenticationError"), (403, "PermissionDeniedError"), (409, "ConflictError"),
                                             (422, "UnprocessableEntityError"), (500, "InternalServerError"),
                                             (503, "ServiceUnavailableError"), (402, "PaymentRequiredError"),
                                             (418, "APIStatusError"), (502, "InternalServerError")])
def test_status_mapping(status: int, cls: str) -> None:
    # Statuses the local server has no reason to send: a mock transport stands in for them.
    body = {"type": "error", "error": {"type": "some_error", "message": "nope"}, "request_id": "req_x"}

    def handler(request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(status, json=body, headers={"request-id": "req_x", "x-should-retry": "false"})

    c = claudewire.Anthropic(api_key=KEY, base_url="http://test", http_client=httpx2.Client(transport=httpx2.MockTransport(handler)))
    with pytest.raises(claudewire.APIStatusError) as info:
        c.messages.create(**params())
    assert type(info.value).__name__ == cls and info.value.status_code == status and info.value.type == "some_error"


def test_exception_tree() -> None:
    c = claudewire
    assert issubclass(c.APITimeoutError, c.APIConnectionError) and issubclass(c.APIConnectionError, c.APIError)
    assert issubclass(c.IncompleteStreamError, c.APIConnectionError)
    for name in ("BadRequestError", "AuthenticationError", "PermissionDeniedError", "NotFoundError", "ConflictError",
                 "RequestTooLargeError", "UnprocessableEntityError", "RateLimitError", "InternalServerError", "OverloadedError"):
        assert issubclass(getattr(c, name), c.APIStatusError)
    assert not issubclass(c.APIStatusError, c.APIConnectionError)
