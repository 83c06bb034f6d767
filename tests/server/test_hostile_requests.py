"""Hostile requests against a real server: a 4xx in the API's shape for anything a client can send.

The regression examples come from the issue; the property test sends generated bodies
(real requests with fields swapped for odd JSON, duplicated keys, deep nesting, bad bytes).
"""

from __future__ import annotations

import json
import logging
import random
import socket
import time

import httpx2
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from claudewire.server.backends.base import StopSequenceFilter
from claudewire.server.backends.scripted import ScriptedBackend
from claudewire.server.faults import FaultPlan
from claudewire.server.limits import MAX_STOP_SEQUENCE_CHARS
from claudewire.server.run import ServerThread

from .test_wire import ok_body, post

HEADERS = b"host: x\r\ncontent-type: application/json\r\nanthropic-version: 2023-06-01\r\nx-api-key: k\r\n"


def deep(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


def with_field(path: bytes, value: bytes) -> bytes:
    """A valid request whose JSON has ``value`` spliced in at ``path`` (raw bytes: any value at all)."""
    base = b'{"model":"claude-sonnet-4-6","max_tokens":16,"messages":[{"role":"user","content":"hi"}]'
    return base + b"," + path + b":" + value + b"}"


def assert_api_error(response: httpx2.Response, status: int = 400, text: str = "") -> None:
    assert response.status_code == status, (response.status_code, response.text[:300])
    body = response.json()
    assert body["type"] == "error" and body["error"]["type"] and text in body["error"]["message"], body


@pytest.mark.parametrize(
    "body, text",
    [
        (b'{"model":"claude-sonnet-4-6","max_tokens":16,"messages":[{"role":"user","content":"h\xff\xfei"}]}', "invalid UTF-8"),
        (with_field(b'"metadata"', deep(100_000)), ""),
        (with_field(b'"system"', deep(100_000)), ""),
        (with_field(b'"tools"', b'[{"name":"t","input_schema":{"a":' + deep(100_000) + b"}}]"), "nested"),
        (with_field(b'"tools"', b'[{"name":"t","input_schema":{"a":' + b'{"a":' * 300 + b"1" + b"}" * 300 + b"}}]"), "nested more than 128"),
        (b'{"model":"claude-sonnet-4-6","max_tokens":16,"messages":[{"role":"user","content":' + deep(100_000) + b"}]}", ""),
        (b'{"model":"claude-sonnet-4-6","model":"claude-haiku-4-5","max_tokens":16,"messages":[{"role":"user","content":"hi"}]}',
         "duplicate key 'model'"),
        (with_field(b'"tools"', b'[{"name":"t","input_schema":{"type":"object","type":"array"}}]'), "duplicate key 'type'"),
        (with_field(b'"stop_sequences"', json.dumps(["x" * 800_000]).encode()), "stop_sequences"),
        (with_field(b'"stop_sequences"', json.dumps(["s"] * 2000).encode()), "at most 1024 items"),
        (b"1e999", ""),
        (b"{" * 100_000, ""),
    ],
)
def test_bad_bodies_get_an_api_shaped_400(scripted_server, body: bytes, text: str) -> None:
    assert_api_error(post(scripted_server, body), 400, text)


@pytest.mark.parametrize("schema", [
    {"properties": 5, "required": ["a"]},
    {"properties": {"a": 5}, "required": ["a", 7, None]},
    {"properties": {"a": {"type": ["string", "null"]}}, "required": {"a": 1}},
    {"type": [1], "properties": [], "required": "a"},
    {"properties": {"a": {"type": {"x": 1}}}, "required": ["a"]},
])
def test_forced_tool_use_takes_any_schema(scripted_server, schema) -> None:
    body = ok_body(tools=[{"name": "t", "input_schema": schema}], tool_choice={"type": "any"})
    response = post(scripted_server, body)
    assert response.status_code == 200 and response.json()["content"][0]["type"] == "tool_use"


def test_list_limit_that_is_a_digit_but_not_a_number(scripted_server) -> None:
    for limit in ("%C2%B2", "%D9%A3", "1e3", "-1", ""):
        response = httpx2.get(f"{scripted_server.base_url}/v1/models?limit={limit}", headers={"anthropic-version": "2023-06-01"})
        assert_api_error(response, 400, "limit")


def test_a_client_leaving_mid_body_is_no_internal_error(scripted_server, caplog) -> None:
    caplog.set_level(logging.WARNING)
    for _ in range(3):
        with socket.create_connection(("127.0.0.1", scripted_server.port)) as sock:
            sock.sendall(b"POST /v1/messages HTTP/1.1\r\n" + HEADERS + b"content-length: 100000\r\n\r\n" + b'{"model": "')
        time.sleep(0.1)
    time.sleep(0.3)
    assert post(scripted_server, ok_body()).status_code == 200
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], [r.getMessage() for r in caplog.records]


def test_a_slow_body_gets_a_408() -> None:
    from claudewire.server.limits import Limits

    with ServerThread(ScriptedBackend(), limits=Limits(body_timeout=0.5)) as server:
        with socket.create_connection(("127.0.0.1", server.port)) as sock:
            sock.settimeout(10)
            sock.sendall(b"POST /v1/messages HTTP/1.1\r\n" + HEADERS + b"content-length: 50\r\n\r\n{")
            answer = b""
            while not answer.endswith(b"}") and (chunk := sock.recv(65536)):  # head and body may come apart
                answer += chunk
    assert answer.startswith(b"HTTP/1.1 408") and b'"invalid_request_error"' in answer and b"did not arrive within 0.5" in answer


def test_faults_are_bounded(scripted_server) -> None:
    assert_api_error(post(scripted_server, ok_body(), {"x-claudewire-delay-ms": "1e9"}), 400, "x-claudewire-delay-ms")
    assert_api_error(post(scripted_server, ok_body(), {"x-claudewire-delay-ms": "nan"}), 400)
    assert_api_error(post(scripted_server, ok_body(), {"x-claudewire-fault": "stall_after=1; seconds=1e9"}), 400, "seconds")
    assert_api_error(post(scripted_server, ok_body(), {"x-claudewire-fault": "error_after=\u00b2".encode()}), 400)
    plan = FaultPlan(max_ids=3)
    for n in range(100):
        plan.select({"x-claudewire-fault": "overloaded; times=1", "x-claudewire-fault-id": f"id-{n}"})
    assert len(plan.seen) == 3  # the memory of fault ids is bounded
    headers = {"x-claudewire-fault": "overloaded; times=1", "x-claudewire-fault-id": "id-99"}
    assert plan.select(headers)[0] is None  # a remembered id keeps its count


# --- the stop-sequence filter: linear, and the same answer as the obvious quadratic one -----------


def reference_cut(text: str, stops: list[str]) -> tuple[str, str | None]:
    """Generation meets the stop sequence that ends first (the longest, if several end together)."""
    for end in range(1, len(text) + 1):
        ending = [s for s in stops if s and text[:end].endswith(s)]
        if ending:
            stop = max(ending, key=len)
            return text[: end - len(stop)], stop
    return text, None


@settings(max_examples=300, deadline=None)
@given(st.lists(st.text("abc", min_size=1, max_size=5), min_size=1, max_size=4), st.text("abcd", max_size=30),
       st.lists(st.integers(1, 6), max_size=30))
def test_stop_filter_finds_the_first_stop_whatever_the_pieces(stops: list[str], text: str, sizes: list[int]) -> None:
    flt, out, matched, at = StopSequenceFilter(stops), "", None, 0
    for size in [*sizes, len(text)]:
        emitted, matched = flt.push(text[at : at + size])
        out, at = out + emitted, at + size
        if matched is not None or at >= len(text):
            break
    if matched is None:
        out += flt.flush()
    assert (out, matched) == reference_cut(text, stops)


def test_stop_filter_with_the_longest_stop_sequence_allowed_fed_token_by_token() -> None:
    """The limit's worth of stop sequence against text that keeps almost matching it: the
    quadratic filter this replaced took minutes here; this one walks each character once."""
    stop = "x" * MAX_STOP_SEQUENCE_CHARS
    flt = StopSequenceFilter([stop, "zz"])
    rng = random.Random(1)
    text = "".join("x" * rng.randint(1, 70_000) + "y" for _ in range(6))
    emitted = ""
    for i in range(0, len(text), 4):
        out, matched = flt.push(text[i : i + 4])
        emitted += out
        if matched:
            break
    expected_cut, expected_stop = reference_cut_fast(text, [stop, "zz"])
    assert matched == expected_stop and emitted == expected_cut


def reference_cut_fast(text: str, stops: list[str]) -> tuple[str, str | None]:
    ends = [(text.find(s) + len(s), -len(s), s) for s in stops if s in text]
    if not ends:
        return text, None
    end, minus, stop = min(ends)
    return text[: end + minus], stop


# --- generated requests: never a 5xx ------------------------------------------------------------

json_value = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**64), 2**64) | st.floats(allow_nan=False) | st.text(max_size=6),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(["type", "text", "name", "a"]), inner, max_size=3),
    max_leaves=8,
)
fields = st.sampled_from(["model", "max_tokens", "messages", "system", "stop_sequences", "tools", "tool_choice", "thinking",
                          "temperature", "metadata", "stream", "top_k", "content", "role"])
GOOD = {"model": "claude-sonnet-4-6", "max_tokens": 8, "messages": [{"role": "user", "content": "one two"}],
        "tools": [{"name": "t", "input_schema": {"type": "object", "properties": {"a": {"type": "string"}}, "required": ["a"]}}]}


@st.composite
def hostile_body(draw: st.DrawFn) -> bytes:
    body = json.loads(json.dumps(GOOD))
    if draw(st.booleans()):
        body["tool_choice"] = {"type": "any"}
    for _ in range(draw(st.integers(0, 3))):
        target = body
        if draw(st.booleans()):
            target = body["messages"][0] if isinstance(body.get("messages"), list) and body["messages"] else body
        target[draw(fields)] = draw(json_value)
    data = json.dumps(body).encode()
    how = draw(st.sampled_from(["json", "json", "duplicate", "truncate", "bytes", "deep", "utf8"]))
    if how == "duplicate":
        data = data[:-1] + b', "model": "claude-haiku-4-5"}'
    elif how == "truncate":
        data = data[: draw(st.integers(0, len(data)))]
    elif how == "bytes":
        data = draw(st.binary(max_size=50))
    elif how == "deep":
        data = data[:-1] + b', "metadata": {"a": ' + deep(draw(st.sampled_from([50, 200, 5000]))) + b"}}"
    elif how == "utf8":
        data = data.replace(b"one", b"\xc3\x28", 1)
    return data


@pytest.fixture(scope="module")
def http(scripted_server):
    with httpx2.Client(base_url=scripted_server.base_url, timeout=30,
                       headers={"anthropic-version": "2023-06-01", "content-type": "application/json", "x-api-key": "k"}) as client:
        yield client


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(body=hostile_body(), path=st.sampled_from(["/v1/messages", "/v1/messages", "/v1/messages/count_tokens"]))
def test_no_request_body_gets_a_5xx(http, body: bytes, path: str) -> None:
    response = http.post(path, content=body)
    assert response.status_code < 500, (response.status_code, response.text[:300])
    if response.status_code >= 400:
        assert response.json()["type"] == "error"
