"""The server on the wire, seen by real clients: curl -N and the official anthropic SDK."""

from __future__ import annotations

import asyncio
import json
import re
import subprocess

import anthropic
import httpx2
import pytest

GUIDE_BODY = {
    "model": "claude-sonnet-4-6",
    "max_tokens": 256,
    "stream": True,
    "messages": [{"role": "user", "content": "Explain quantum computing in one sentence."}],
}


def curl(url: str, body: dict | str, *headers: str, method: str = "POST") -> tuple[dict[str, str], str, int]:
    """Run the guide's curl command (with -N); returns (headers, body, status)."""
    args = ["curl", "-sN", "-D", "-", url, "-X", method]
    for header in headers:
        args += ["-H", header]
    if method == "POST":
        args += ["-d", body if isinstance(body, str) else json.dumps(body)]
    out = subprocess.run(args, capture_output=True, check=True, timeout=60).stdout.decode()
    head, _, payload = out.partition("\r\n\r\n")
    lines = head.split("\r\n")
    status = int(lines[0].split()[1])
    parsed = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    return parsed, payload, status


GUIDE_HEADERS = ("content-type: application/json", "x-api-key: sk-ant-test", "anthropic-version: 2023-06-01")


def split_events(payload: str) -> list[tuple[str, dict]]:
    assert payload.endswith("\n\n"), "every event, the last included, ends with a blank line"
    events = []
    for block in payload[:-2].split("\n\n"):
        lines = block.split("\n")
        assert lines[0].startswith("event: ") and lines[1].startswith("data: ") and len(lines) == 2, block
        name, data = lines[0][7:], json.loads(lines[1][6:])
        assert data["type"] == name, "the event line matches the JSON type"
        events.append((name, data))
    return events


def check_grammar(events: list[tuple[str, dict]]) -> None:
    names = [n for n, _ in events if n != "ping"]
    assert names[0] == "message_start" and names[-1] == "message_stop" and names[-2] == "message_delta"
    start = events[0][1]["message"]
    assert start["content"] == [] and start["stop_reason"] is None and start["stop_sequence"] is None
    assert isinstance(start["usage"]["input_tokens"], int) and start["usage"]["input_tokens"] > 0
    assert re.fullmatch(r"msg_01[1-9A-HJ-NP-Za-km-z]{22}", start["id"])
    opened = [d["index"] for n, d in events if n == "content_block_start"]
    assert opened == list(range(len(opened)))
    first_block = next(i for i, (n, _) in enumerate(events) if n == "content_block_start")
    assert events[first_block + 1][0] == "ping", "one ping right after the first content_block_start"
    assert events[first_block + 1][1] == {"type": "ping"}
    delta = [d for n, d in events if n == "message_delta"][-1]
    assert isinstance(delta["usage"]["output_tokens"], int) and delta["delta"]["stop_reason"]
    # cumulative usage, as the live API sends it (wire-spec §4.5)
    cumulative = ("input_tokens", "cache_creation_input_tokens", "cache_read_input_tokens")
    assert list(delta["usage"]) == [*cumulative, "output_tokens"]
    assert all(delta["usage"][k] == start["usage"][k] for k in cumulative)


@pytest.mark.parametrize("server_name", ["scripted_server", "local_server"])
def test_guide_curl_command(server_name: str, request: pytest.FixtureRequest) -> None:
    server = request.getfixturevalue(server_name)
    headers, payload, status = curl(f"{server.base_url}/v1/messages", GUIDE_BODY, *GUIDE_HEADERS)
    assert status == 200
    assert headers["content-type"] == "text/event-stream; charset=utf-8"
    assert re.fullmatch(r"req_011C\w{22}", headers["request-id"])
    assert headers["x-claudewire-backend"] == server.backend.model.id
    events = split_events(payload)
    check_grammar(events)
    text = "".join(d["delta"]["text"] for n, d in events if n == "content_block_delta")
    if server_name == "scripted_server":
        assert text == "Explain quantum computing in one sentence."
        assert [d["delta"]["text"] for n, d in events if n == "content_block_delta"][:2] == ["Explain", " quantum"]
    else:
        assert text.strip()


@pytest.mark.parametrize("server_name", ["scripted_server", "local_server"])
def test_official_sdk_sync_and_async(server_name: str, request: pytest.FixtureRequest) -> None:
    server = request.getfixturevalue(server_name)
    client = anthropic.Anthropic(base_url=server.base_url, api_key="sk-ant-test", max_retries=0)
    params = dict(model="claude-sonnet-4-6", max_tokens=40, messages=[{"role": "user", "content": "Hello, world!"}])
    with client.messages.stream(**params) as stream:
        texts = list(stream.text_stream)
        final = stream.get_final_message()
    assert "".join(texts) == final.content[0].text and final.stop_reason in ("end_turn", "max_tokens")
    usage = final.usage  # the local model's prompt cache may hold part of the prompt
    assert usage.input_tokens + (usage.cache_read_input_tokens or 0) == client.messages.count_tokens(
        model=params["model"], messages=params["messages"]).input_tokens
    assert stream.request_id.startswith("req_")
    message = client.messages.create(**params)
    assert message.content[0].type == "text" and message.stop_reason and message.usage.output_tokens > 0

    async def run() -> str:
        aclient = anthropic.AsyncAnthropic(base_url=server.base_url, api_key="sk-ant-test", max_retries=0)
        async with aclient.messages.stream(**params) as astream:
            return "".join([t async for t in astream.text_stream])

    assert asyncio.run(run())


def test_models_paging_and_retrieve(scripted_server) -> None:
    client = anthropic.Anthropic(base_url=scripted_server.base_url, api_key="k")
    everything = [m.id for m in client.models.list(limit=4)]  # auto-paging walks after_id
    assert everything[:3] == ["claude-fable-5-2", "claude-haiku-5-5", "claude-opus-5"]
    assert {"claude-haiku-4-5-20251001", "claudewire-scripted"} <= set(everything) and len(everything) == len(set(everything))
    first = client.models.list(limit=2)
    assert first.has_more and first.first_id == "claude-fable-5-2" and first.last_id == "claude-haiku-5-5"
    back = httpx2.get(f"{scripted_server.base_url}/v1/models?before_id=claude-opus-5&limit=5&beta=true",
                      headers={"anthropic-version": "2023-06-01"}).json()
    assert [m["id"] for m in back["data"]] == ["claude-fable-5-2", "claude-haiku-5-5"] and back["has_more"] is False
    assert client.models.retrieve("claude-opus-4-5").display_name == "Claude Opus 4.5"
    with pytest.raises(anthropic.NotFoundError):
        client.models.retrieve("claude-nonexistent")


def post(server, body, headers=None, path="/v1/messages") -> httpx2.Response:
    base = {"anthropic-version": "2023-06-01", "content-type": "application/json", "x-api-key": "k"}
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    return httpx2.post(server.base_url + path + "?beta=true", content=content, headers={**base, **(headers or {})}, timeout=30)


def ok_body(**changes) -> dict:
    body = {"model": "claude-sonnet-4-6", "max_tokens": 16, "messages": [{"role": "user", "content": "hi"}]}
    body.update(changes)
    return {k: v for k, v in body.items() if v is not None}


THINKING_DOCS = "https://docs.claude.com/en/docs/build-with-claude/extended-thinking#max-tokens-and-context-window-size"
VALIDATION_CASES = [
    (ok_body(max_tokens=None), 400, "max_tokens: Field required"),
    (ok_body(max_tokens="lots"), 400, "max_tokens: Input should be a valid integer"),
    (ok_body(max_tokens=0), 400, "max_tokens: Input should be greater than or equal to 1"),
    (ok_body(max_tokens=128_001), 400,
     "max_tokens: 128001 > 128000, which is the maximum allowed number of output tokens for claude-sonnet-4-6"),
    (ok_body(model="claude-opus-4-5", max_tokens=64_001), 400,
     "max_tokens: 64001 > 64000, which is the maximum allowed number of output tokens for claude-opus-4-5"),
    (ok_body(messages=[]), 400, "messages: List should have at least 1 item after validation, not 0"),
    (ok_body(messages=[{"role": "system", "content": "x"}]), 400, "messages.0.role: Input value 'system' is not one of the allowed values"),
    (ok_body(messages=[{"role": "user", "content": [{"type": "text", "text": ""}]}]), 400, "messages: text content blocks must be non-empty"),
    (ok_body(messages=[{"role": "user", "content": ""}]), 400,
     "messages.0: all messages must have non-empty content except for the optional final assistant message"),
    (ok_body(temperature=1.5), 400, "temperature: Input should be less than or equal to 1"),
    (ok_body(temperature=-0.1), 400, "temperature: Input should be greater than or equal to 0"),
    (ok_body(top_p=2), 400, "top_p: Input should be less than or equal to 1"),
    (ok_body(top_k=-1), 400, "top_k: Input should be greater than or equal to 0"),
    (ok_body(max_tokens=2000, thinking={"type": "enabled", "budget_tokens": 500}), 400,
     "thinking.enabled.budget_tokens: Input should be greater than or equal to 1024"),
    (ok_body(max_tokens=2000, thinking={"type": "enabled", "budget_tokens": 2000}), 400,
     f"`max_tokens` must be greater than `thinking.budget_tokens`. Please consult our documentation at {THINKING_DOCS}"),
    (ok_body(max_tokens=4000, temperature=0.5, thinking={"type": "enabled", "budget_tokens": 2000}), 400,
     "`temperature` may only be set to 1 when thinking is enabled. Please consult our documentation at "
     "https://docs.anthropic.com/en/docs/build-with-claude/extended-thinking#important-considerations-when-using-extended-thinking"),
    (ok_body(max_tokens=4000, thinking={"type": "enabled", "budget_tokens": 2000}, tool_choice={"type": "any"},
             tools=[{"name": "f", "input_schema": {"type": "object"}}]), 400, "Thinking may not be enabled when tool_choice forces tool use."),
    (ok_body(messages=[{"role": "user", "content": "q"},
                       {"role": "assistant", "content": [{"type": "tool_use", "id": "toolu_017j2qpxhyCwxP7CKs2TporP", "name": "f", "input": {}}]},
                       {"role": "user", "content": "no result"}]), 400,
     "messages.2: `tool_use` ids were found without `tool_result` blocks immediately after: toolu_017j2qpxhyCwxP7CKs2TporP. "
     "Each `tool_use` block must have a corresponding `tool_result` block in the next message."),
    (ok_body(model="claude-nope-9"), 404, "model: claude-nope-9"),
    (ok_body(stop_sequences=["END", ""]), 400, "stop_sequences: each stop sequence must be non-empty"),
    (ok_body(stop_sequences=["", "\n"]), 400, "stop_sequences: each stop sequence must be non-empty"),
    (ok_body(stop_sequences=["END", " \n\t"]), 400, "stop_sequences: each stop sequence must contain non-whitespace"),
    (ok_body(model="claude-3-haiku-20240307"), 404, "model: claude-3-haiku-20240307"),  # retired
    (ok_body(model="claude-mythos-preview"), 404, "model: claude-mythos-preview"),  # retired
]


@pytest.mark.parametrize(("body", "status", "message"), VALIDATION_CASES)
def test_validation_like_the_api(scripted_server, body, status, message) -> None:
    for stream in (False, True):
        response = post(scripted_server, {**body, "stream": stream})
        assert response.status_code == status
        error = response.json()
        assert error["type"] == "error" and error["error"]["message"] == message
        assert error["error"]["type"] == ("not_found_error" if status == 404 else "invalid_request_error")
        assert error["request_id"] == response.headers["request-id"]


def test_validation_seen_by_the_official_sdk(scripted_server) -> None:
    client = anthropic.Anthropic(base_url=scripted_server.base_url, api_key="k", max_retries=0)
    with pytest.raises(anthropic.BadRequestError) as info:
        client.messages.create(model="claude-sonnet-4-6", max_tokens=16, messages=[])
    assert info.value.status_code == 400 and info.value.type == "invalid_request_error"
    assert info.value.request_id and info.value.request_id.startswith("req_")


def test_malformed_json_missing_version_big_body_unknown_route(scripted_server) -> None:
    response = post(scripted_server, b'{"model": "claude-sonnet-4-6", ')
    assert response.status_code == 400 and "parsing the body" in response.json()["error"]["message"]
    response = httpx2.post(scripted_server.base_url + "/v1/messages", json=ok_body())
    assert response.status_code == 400 and response.json()["error"]["message"] == "anthropic-version: header is required"
    response = post(scripted_server, b"x" * (32 * 1024 * 1024 + 1))
    assert response.status_code == 413 and response.json()["error"]["type"] == "request_too_large"
    response = httpx2.get(scripted_server.base_url + "/v1/nothing-here")
    assert response.status_code == 404 and response.json()["error"]["type"] == "not_found_error"
    assert response.headers["request-id"] == response.json()["request_id"]


def test_any_anthropic_version_and_either_key_header(scripted_server) -> None:
    for headers in ({"anthropic-version": "2026-10-21"}, {"x-api-key": None, "authorization": "Bearer k"}):
        headers = {k: v for k, v in headers.items() if v}
        assert post(scripted_server, ok_body(), headers).status_code == 200


def test_auth_with_a_server_key() -> None:
    from claudewire.server.backends.scripted import ScriptedBackend
    from claudewire.server.run import ServerThread

    with ServerThread(ScriptedBackend(), api_key="sk-ant-server-secret") as server:
        base = {"anthropic-version": "2023-06-01"}
        missing = httpx2.post(server.base_url + "/v1/messages", json=ok_body(), headers=base)
        assert missing.status_code == 401 and missing.json()["error"] == {"type": "authentication_error", "message": "x-api-key header is required"}
        wrong = httpx2.post(server.base_url + "/v1/messages", json=ok_body(), headers={**base, "x-api-key": "nope"})
        assert wrong.status_code == 401 and wrong.json()["error"]["message"] == "invalid x-api-key"
        assert "sk-ant-server-secret" not in wrong.text and "sk-ant-server-secret" not in repr(server.app.state.config)
        for header in ({"x-api-key": "sk-ant-server-secret"}, {"authorization": "Bearer sk-ant-server-secret"}):
            assert httpx2.post(server.base_url + "/v1/messages", json=ok_body(), headers={**base, **header}).status_code == 200
        sdk = anthropic.Anthropic(base_url=server.base_url, api_key="sk-ant-server-secret")  # sends Bearer only
        assert sdk.messages.create(**ok_body()).content[0].text == "hi"
        with pytest.raises(anthropic.AuthenticationError):
            anthropic.Anthropic(base_url=server.base_url, api_key="wrong", max_retries=0).messages.create(**ok_body())


def test_vercel_and_litellm_max_tokens_caps(scripted_server) -> None:
    for model, cap in (("claude-sonnet-4-6", 128_000), ("claude-opus-4-5", 64_000), ("claude-haiku-4-5", 64_000)):
        response = post(scripted_server, ok_body(model=model, max_tokens=cap, stream=True))
        assert response.status_code == 200
        events = split_events(response.text)
        assert isinstance(events[0][1]["message"]["usage"]["input_tokens"], int)
        assert events[0][1]["message"]["model"] == model
