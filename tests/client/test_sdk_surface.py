"""Parity with the installed official SDK (anthropic 2.10.0): the exception tree and its
status table, the public names, ``claudewire.types``, the client's attributes and methods.

The SDK is the oracle wherever it can be asked directly (its ``_exceptions`` module, its
``make_status_error``, its ``__all__``); the client calls run over real HTTP.
"""

from __future__ import annotations

import asyncio
import inspect
import json
from typing import Any

import anthropic
import anthropic._error_classes as sdk_error_classes
import anthropic._exceptions as sdk_exceptions
import anthropic.types as sdk_types
import httpx2
import pytest

import claudewire
import claudewire._exceptions as ours
import claudewire.types
from claudewire.protocol.wire import WIRE_ERRORS
from claudewire.server.app import create_app
from claudewire.server.backends.scripted import ScriptedBackend
from claudewire.server.run import ServerThread

from .helpers import KEY, params

assert anthropic.__version__ == "2.10.0", "the parity tests are written against anthropic 2.10.0"


# --- exceptions ---------------------------------------------------------------------------


def sdk_exception_classes() -> dict[str, type]:
    return {name: value for name, value in vars(sdk_exceptions).items()
            if isinstance(value, type) and issubclass(value, BaseException) and not name.startswith("_")}


def test_every_sdk_exception_exists_with_its_status_and_bases() -> None:
    sdk = sdk_exception_classes()
    assert len(sdk) >= 30  # the walk really found the tree
    for name, sdk_cls in sdk.items():
        cls = getattr(claudewire, name)
        assert cls is getattr(ours, name), name
        assert cls.__name__ == sdk_cls.__name__, name  # aliases point at the same class in both
        assert cls.__dict__.get("status_code") == sdk_cls.__dict__.get("status_code"), name
        sdk_bases = [b.__name__ for b in sdk_cls.__bases__]
        our_bases = [b.__name__ for b in cls.__bases__]
        assert our_bases == sdk_bases, (name, our_bases, sdk_bases)
    assert claudewire.RequestTooLargeError is claudewire.ContentTooLargeError
    assert claudewire.DeadlineExceededError is claudewire.GatewayTimeoutError
    assert issubclass(claudewire.OverloadedError, claudewire.InternalServerError)


@pytest.mark.parametrize("status", [400, 401, 402, 403, 404, 405, 408, 409, 412, 413, 418, 422, 429, 431, 499,
                                    500, 501, 502, 503, 504, 520, 529])
def test_status_to_class_matches_the_sdk(status: int) -> None:
    body = {"type": "error", "error": {"type": "x", "message": "m"}}
    response = httpx2.Response(status, request=httpx2.Request("POST", "http://x/v1/messages"), json=body)
    expected = type(sdk_error_classes.make_status_error("m", body=body, response=response)).__name__
    error = ours.make_status_error(status, body, response=response)
    assert type(error).__name__ == expected and error.status_code == status
    assert error.api_message == "m" and error.type == "x"


def test_wire_table_names_real_classes_and_both_sides_agree() -> None:
    for row in WIRE_ERRORS:
        cls = getattr(ours, row.exception)
        assert issubclass(cls, claudewire.APIStatusError) and ours.status_error_class(row.status) is cls
        if row.exception != "InternalServerError":  # the one class that covers many statuses
            assert cls.__dict__["status_code"] == row.status
    # the retry rule of the table is the SDK's: 408, 409, 429 and >= 500
    assert {row.status for row in WIRE_ERRORS if row.retryable} == {408, 409, 429, 500, 501, 503, 504, 529}
    # an in-band error is classed by its type through the same table
    overloaded = ours.in_band_error({"type": "error", "error": {"type": "overloaded_error", "message": "busy"}},
                                    response=None, request_id=None, partial_message=None)
    assert type(overloaded) is claudewire.OverloadedError and isinstance(overloaded, claudewire.InternalServerError)


def test_exceptions_take_the_sdk_constructor_arguments() -> None:
    request = httpx2.Request("POST", "https://api.anthropic.com/v1/messages")
    response = httpx2.Response(429, request=request, headers={"request-id": "req_1", "anthropic-workspace-id": "ws"},
                               json={"type": "error", "error": {"type": "rate_limit_error", "message": "slow",
                                                                 "details": {"error_code": "spend_cap"}}})
    for module in (anthropic, claudewire):  # the same calls work on both
        error = module.RateLimitError("slow down", response=response, body=response.json())
        assert (error.status_code, error.request_id, error.type, error.api_message) == (429, "req_1", "rate_limit_error", "slow")
        assert error.error_code == "spend_cap" and error.workspace_id == "ws" and error.request is request
        timeout = module.APITimeoutError(request)
        assert timeout.request is request and isinstance(timeout, module.APIConnectionError)
        connection = module.APIConnectionError(message="down", request=request)
        assert connection.message == "down"
        invalid = module.APIResponseValidationError(httpx2.Response(200, request=request), {"x": 1})
        assert invalid.status_code == 200 and invalid.body == {"x": 1}


# --- names ---------------------------------------------------------------------------------

NAMES = ["NOT_GIVEN", "NotGiven", "not_given", "Omit", "omit", "Timeout", "DEFAULT_TIMEOUT", "DEFAULT_MAX_RETRIES",
         "DefaultHttpxClient", "DefaultAsyncHttpxClient", "TextEvent", "InputJsonEvent", "MessageStopEvent",
         "ContentBlockStopEvent", "MessageStreamEvent", "MessageStreamManager", "AsyncMessageStreamManager"]


def test_the_sdk_names_exist() -> None:
    for name in NAMES:
        assert hasattr(anthropic, name) and name in claudewire.__all__ and hasattr(claudewire, name), name
    assert isinstance(claudewire.NOT_GIVEN, claudewire.NotGiven) and isinstance(claudewire.not_given, claudewire.NotGiven)
    assert not claudewire.NOT_GIVEN and not claudewire.omit and repr(claudewire.NOT_GIVEN) == "NOT_GIVEN"
    assert claudewire.Timeout is httpx2.Timeout and claudewire.DEFAULT_TIMEOUT == anthropic.DEFAULT_TIMEOUT
    assert claudewire.DEFAULT_MAX_RETRIES == anthropic.DEFAULT_MAX_RETRIES == 2
    with claudewire.DefaultHttpxClient() as http:
        assert isinstance(http, httpx2.Client) and http.follow_redirects and http.timeout == anthropic.DEFAULT_TIMEOUT
    assert issubclass(claudewire.DefaultAsyncHttpxClient, httpx2.AsyncClient)
    assert claudewire.MessageStopEvent.type == "message_stop" and claudewire.ContentBlockStopEvent.type == "content_block_stop"


def test_top_level_names_are_the_sdks_plus_our_stream_errors() -> None:
    assert sorted(claudewire.__all__) == claudewire.__all__  # kept sorted, written by hand
    assert set(claudewire.__all__) - set(dir(anthropic)) == {"IncompleteStreamError", "StreamProtocolError", "StreamCancelledError"}
    assert all(hasattr(claudewire, name) for name in claudewire.__all__)


TYPES = [
    "BashCodeExecutionToolResultBlock", "CacheCreation", "CitationCharLocation", "CitationContentBlockLocation",
    "CitationPageLocation", "CitationsDelta", "CitationsSearchResultLocation", "CitationsWebSearchResultLocation",
    "CodeExecutionToolResultBlock", "ContainerUploadBlock", "ContentBlock", "ContentBlockDeltaEvent", "ContentBlockParam",
    "ContentBlockStartEvent", "ContentBlockStopEvent", "DocumentBlockParam", "ErrorObject", "ErrorResponse",
    "ImageBlockParam", "InputJSONDelta", "Message", "MessageCountTokensParams", "MessageCreateParams",
    "MessageDeltaEvent", "MessageDeltaUsage", "MessageParam", "MessageStartEvent", "MessageStopEvent",
    "MessageStreamEvent", "MessageTokensCount", "Model", "ModelInfo", "ModelParam", "RawContentBlockDeltaEvent",
    "RawContentBlockStartEvent", "RawContentBlockStopEvent", "RawMessageDeltaEvent", "RawMessageStartEvent",
    "RawMessageStopEvent", "RawMessageStreamEvent", "RedactedThinkingBlock", "RedactedThinkingBlockParam",
    "SearchResultBlockParam", "ServerToolUsage", "ServerToolUseBlock", "ServerToolUseBlockParam", "SignatureDelta",
    "StopReason", "TextBlock", "TextBlockParam", "TextCitation", "TextDelta", "TextEditorCodeExecutionToolResultBlock",
    "ThinkingBlock", "ThinkingBlockParam", "ThinkingDelta", "ToolParam", "ToolResultBlockParam",
    "ToolSearchToolResultBlock", "ToolUseBlock", "ToolUseBlockParam", "Usage", "WebFetchToolResultBlock",
    "WebSearchToolResultBlock", "WebSearchToolResultBlockParam",
]


def test_types_exports_api_type_names_only() -> None:
    assert claudewire.types.__all__ == TYPES
    assert [name for name in TYPES if not hasattr(sdk_types, name)] == []  # every one is an SDK type name
    assert claudewire.types.MessageStreamEvent is claudewire.types.RawMessageStreamEvent  # the SDK's alias, as there
    for leaked in ("Any", "Literal", "Union", "Unknown", "TOOL_INPUT_BLOCKS", "TextEvent"):
        assert leaked not in claudewire.types.__all__
    message = claudewire.types.Message(id="msg_1", content=[claudewire.types.TextBlock(text="hi")], model="m",
                                       role="assistant", stop_reason="end_turn", stop_sequence=None,
                                       usage=claudewire.types.Usage(input_tokens=1, output_tokens=1))
    text = message.to_json()
    assert isinstance(text, str) and text.startswith("{\n  ")  # indented like the SDK's
    assert json.loads(text) == json.loads(sdk_types.Message.model_validate(message.to_dict()).to_json())
    assert message.to_json(indent=None) == json.dumps(message.to_dict(), separators=(",", ":"))


# --- the client -------------------------------------------------------------------------------


def test_constructor_shows_its_real_parameters() -> None:
    for cls in (claudewire.Anthropic, claudewire.AsyncAnthropic):
        parameters = inspect.signature(cls).parameters
        assert all(p.kind is not p.VAR_KEYWORD for p in parameters.values())
        sdk = inspect.signature(anthropic.Anthropic).parameters
        shared = {"api_key", "auth_token", "base_url", "timeout", "max_retries", "default_headers", "default_query", "http_client"}
        assert shared <= set(parameters) and shared <= set(sdk)


@pytest.fixture(scope="module")
def recorder():
    """The scripted server behind a tap that records each request's path, query and headers."""
    inner = create_app(ScriptedBackend())
    seen: list[dict[str, Any]] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            body = b""

            async def tapped() -> Any:
                nonlocal body
                message = await receive()
                if message["type"] != "http.request":
                    return message
                body += message.get("body", b"")
                if not message.get("more_body"):
                    seen.append({"path": scope["path"], "query": scope["query_string"].decode(), "body": body,
                                 "headers": {k.decode(): v.decode() for k, v in scope["headers"]}})
                return message

            await inner(scope, tapped, send)
        else:
            await inner(scope, receive, send)

    with ServerThread(app=app) as server:
        server.seen = seen
        yield server


def test_attributes_and_with_options(recorder) -> None:
    client = claudewire.Anthropic(api_key=KEY, base_url=recorder.base_url, max_retries=1, default_headers={"x-team": "a"})
    assert (client.api_key, client.base_url, client.max_retries) == (KEY, recorder.base_url, 1)
    assert client.timeout == anthropic.DEFAULT_TIMEOUT and client.default_headers["x-team"] == "a"
    assert KEY not in repr(client)
    other = client.with_options(max_retries=0, timeout=12.0, default_headers={"x-more": "b"})
    assert type(other) is claudewire.Anthropic and other._http is client._http  # one connection pool
    assert (other.max_retries, other.timeout, other.api_key) == (0, 12.0, KEY)
    assert other.default_headers["x-team"] == "a" and other.default_headers["x-more"] == "b"
    assert client.copy(set_default_headers={"x-only": "c"}).default_headers.get("x-team") is None
    other.messages.count_tokens(model="claude-sonnet-4-6", messages=[{"role": "user", "content": "a"}])
    sent = recorder.seen[-1]["headers"]
    assert sent["x-team"] == "a" and sent["x-more"] == "b" and sent["authorization"] == f"Bearer {KEY}"
    # omit removes a header the client would send
    other.messages.count_tokens(model="claude-sonnet-4-6", messages=[{"role": "user", "content": "a"}],
                                extra_headers={"x-team": claudewire.omit})
    assert "x-team" not in recorder.seen[-1]["headers"]
    # the guide's sampling parameters travel even though SDK 2.10 dropped them from its signatures
    other.messages.create(**params("a b"), temperature=0.2, top_p=0.9, top_k=5)
    body = json.loads(recorder.seen[-1]["body"])
    assert (body["temperature"], body["top_p"], body["top_k"]) == (0.2, 0.9, 5)
    # NOT_GIVEN, not_given and omit leave a parameter out; None is sent as null
    other.messages.create(**params("a"), temperature=claudewire.NOT_GIVEN, top_k=claudewire.not_given, top_p=claudewire.omit,
                          metadata=None)
    body = json.loads(recorder.seen[-1]["body"])
    assert not {"temperature", "top_k", "top_p"} & set(body) and body["metadata"] is None
    asynchronous = claudewire.AsyncAnthropic(api_key=KEY, base_url=recorder.base_url).with_options(max_retries=3)
    assert type(asynchronous) is claudewire.AsyncAnthropic and asynchronous.max_retries == 3


def test_raw_and_streaming_responses_sync(recorder) -> None:
    client = claudewire.Anthropic(api_key=KEY, base_url=recorder.base_url)
    raw = client.messages.with_raw_response.create(**params("one two"))
    assert raw.status_code == 200 and raw.request_id.startswith("req_") and raw.headers["content-type"] == "application/json"
    assert raw.parse().content[0].text == "one two" and raw.parse() is raw.parse() and raw.retries_taken == 0
    assert json.loads(raw.text)["type"] == "message"
    tokens = client.messages.with_raw_response.count_tokens(model="claude-sonnet-4-6", messages=[{"role": "user", "content": "a b c"}])
    assert tokens.parse().input_tokens == 3
    streamed = client.messages.with_raw_response.create(**params("x y"), stream=True)
    assert streamed.headers["content-type"].startswith("text/event-stream")
    assert [e.type for e in streamed.parse()][-1] == "message_stop"
    helper = client.messages.with_raw_response.stream(**params("p q"))
    with helper.parse() as stream:
        assert stream.get_final_text() == "p q"
    with client.messages.with_streaming_response.create(**params("a b"), stream=True) as response:
        assert response.status_code == 200 and not response.is_closed
        lines = list(response.iter_lines())
    assert "event: message_stop" in lines and response.is_closed
    with client.messages.with_streaming_response.create(**params("c d")) as response:
        assert response.parse().content[0].text == "c d"
    with client.messages.with_streaming_response.stream(**params("e f")) as response:
        assert response.parse().get_final_message().content[0].text == "e f"


def test_raw_and_streaming_responses_async(recorder) -> None:
    async def run() -> None:
        client = claudewire.AsyncAnthropic(api_key=KEY, base_url=recorder.base_url)
        raw = await client.messages.with_raw_response.create(**params("one two"))
        assert raw.parse().content[0].text == "one two" and raw.request_id.startswith("req_")
        tokens = await client.messages.with_raw_response.count_tokens(model="claude-sonnet-4-6",
                                                                      messages=[{"role": "user", "content": "a b"}])
        assert tokens.parse().input_tokens == 2
        streamed = await client.messages.with_raw_response.create(**params("x y"), stream=True)
        assert [e.type async for e in streamed.parse()][-1] == "message_stop"
        helper = await client.messages.with_raw_response.stream(**params("p q"))
        async with helper.parse() as stream:
            assert await stream.get_final_text() == "p q"
        async with client.messages.with_streaming_response.create(**params("a b"), stream=True) as response:
            lines = [line async for line in response.iter_lines()]
        assert "event: message_stop" in lines and response.is_closed
        async with client.messages.with_streaming_response.count_tokens(
                model="claude-sonnet-4-6", messages=[{"role": "user", "content": "a b c d"}]) as response:
            assert (await response.parse()).input_tokens == 4 and (await response.json()) == {"input_tokens": 4}
        async with client.messages.with_streaming_response.stream(**params("e f")) as response:
            async with await response.parse() as stream:
                assert await stream.get_final_text() == "e f"

    asyncio.run(run())


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_beta_messages_send_betas(recorder, kind) -> None:
    betas = ["fine-grained-tool-streaming-2025-05-14", "context-1m-2025-08-07"]

    async def run_async() -> list[str]:
        client = claudewire.AsyncAnthropic(api_key=KEY, base_url=recorder.base_url)
        message = await client.beta.messages.create(**params("b c"), betas=betas)
        async with client.beta.messages.stream(**params("d e"), betas=betas) as stream:
            text = await stream.get_final_text()
        count = await client.beta.messages.count_tokens(model="claude-sonnet-4-6", messages=[{"role": "user", "content": "x"}],
                                                        betas=betas)
        return [message.content[0].text, text, str(count.input_tokens)]

    def run_sync() -> list[str]:
        client = claudewire.Anthropic(api_key=KEY, base_url=recorder.base_url)
        message = client.beta.messages.create(**params("b c"), betas=betas)
        with client.beta.messages.stream(**params("d e"), betas=betas) as stream:
            text = stream.get_final_text()
        count = client.beta.messages.count_tokens(model="claude-sonnet-4-6", messages=[{"role": "user", "content": "x"}], betas=betas)
        return [message.content[0].text, text, str(count.input_tokens)]

    before = len(recorder.seen)
    assert (run_sync() if kind == "sync" else asyncio.run(run_async())) == ["b c", "d e", "1"]
    sent = recorder.seen[before:]
    assert [s["path"] for s in sent] == ["/v1/messages", "/v1/messages", "/v1/messages/count_tokens"]
    for request in sent:
        assert request["headers"]["anthropic-beta"] == ",".join(betas) and request["query"] == "beta=true"
        assert "betas" not in json.loads(request["body"])
    # the plain client sends neither
    claudewire.Anthropic(api_key=KEY, base_url=recorder.base_url).messages.create(**params("z"))
    assert "anthropic-beta" not in recorder.seen[-1]["headers"] and recorder.seen[-1]["query"] == ""


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_raw_responses_for_models_and_on_the_client(recorder, kind) -> None:
    async def run_async() -> tuple[Any, ...]:
        client = claudewire.AsyncAnthropic(api_key=KEY, base_url=recorder.base_url)
        info = await client.models.with_raw_response.retrieve("claude-opus-4-5")
        page = await client.with_raw_response.models.list(limit=2)
        every = [m.id async for m in page.parse()]
        message = await client.with_raw_response.messages.create(**params("g h"))
        async with client.with_streaming_response.models.retrieve("claude-haiku-4-5") as streamed:
            haiku = (await streamed.parse()).id
        return info.parse().id, info.request_id, page.parse().has_more, every, message.parse().content[0].text, haiku

    def run_sync() -> tuple[Any, ...]:
        client = claudewire.Anthropic(api_key=KEY, base_url=recorder.base_url)
        info = client.models.with_raw_response.retrieve("claude-opus-4-5")
        page = client.with_raw_response.models.list(limit=2)
        message = client.with_raw_response.messages.create(**params("g h"))
        with client.with_streaming_response.models.retrieve("claude-haiku-4-5") as streamed:
            haiku = streamed.parse().id
        return info.parse().id, info.request_id, page.parse().has_more, [m.id for m in page.parse()], message.parse().content[0].text, haiku

    got = run_sync() if kind == "sync" else asyncio.run(run_async())
    listed = [m.id for m in claudewire.Anthropic(api_key=KEY, base_url=recorder.base_url).models.list()]
    assert got[0] == "claude-opus-4-5-20251101" and got[1].startswith("req_") and got[2] is True
    assert got[3] == listed and got[4] == "g h" and got[5] == "claude-haiku-4-5-20251001"
