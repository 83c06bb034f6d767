"""Fault injection, seen through the official SDK and raw HTTP."""

from __future__ import annotations

import time
import uuid

import anthropic
import httpx2
import pytest

from .test_wire import ok_body, post, split_events

SENTENCE = "one two three four five six seven eight"


def sdk(server, **options) -> anthropic.Anthropic:
    return anthropic.Anthropic(base_url=server.base_url, api_key="k", **options)


def body(**changes) -> dict:
    return ok_body(messages=[{"role": "user", "content": SENTENCE}], **changes)


def test_overloaded_and_rate_limit_before_the_stream(scripted_server) -> None:
    response = post(scripted_server, body(stream=True), {"x-claudewire-fault": "overloaded"})
    assert response.status_code == 529 and response.json()["error"]["type"] == "overloaded_error"
    response = post(scripted_server, body(), {"x-claudewire-fault": "rate_limit"})
    assert response.status_code == 429 and response.headers["retry-after"] == "1"
    assert response.json()["error"]["type"] == "rate_limit_error"
    with pytest.raises(anthropic.OverloadedError):
        sdk(scripted_server, max_retries=0).messages.create(**body(), extra_headers={"x-claudewire-fault": "overloaded"})


def test_times_lets_a_retrying_client_through(scripted_server) -> None:
    fault_id = uuid.uuid4().hex
    headers = {"x-claudewire-fault": "overloaded; times=2", "x-claudewire-fault-id": fault_id}
    message = sdk(scripted_server, max_retries=2).messages.create(**body(), extra_headers=headers)
    assert message.content[0].text == SENTENCE
    assert post(scripted_server, body(), headers).status_code == 200  # the id has used up its failures


def test_error_after_n_deltas(scripted_server) -> None:
    response = post(scripted_server, body(stream=True), {"x-claudewire-fault": "error_after=3"})
    assert response.status_code == 200
    events = split_events(response.text)
    assert [n for n, _ in events].count("content_block_delta") == 3
    assert events[-1][0] == "error" and events[-1][1]["error"]["type"] == "overloaded_error"
    assert events[-1][1]["request_id"] == response.headers["request-id"]
    assert "message_stop" not in [n for n, _ in events]
    with pytest.raises(anthropic.APIStatusError) as info, sdk(scripted_server).messages.stream(
        **body(), extra_headers={"x-claudewire-fault": "error_after=3"}
    ) as stream:
        stream.get_final_message()
    assert info.value.type == "overloaded_error"


def test_disconnect_after_n_deltas(scripted_server) -> None:
    response = post(scripted_server, body(stream=True), {"x-claudewire-fault": "disconnect_after=2"})
    names = [n for n, _ in split_events(response.text)]
    assert names.count("content_block_delta") == 2 and names[-1] == "content_block_delta"


def test_stall_sends_only_pings_then_the_rest(scripted_server) -> None:
    start = time.monotonic()
    response = post(scripted_server, body(stream=True), {"x-claudewire-fault": "stall_after=2; seconds=1.2"})
    assert time.monotonic() - start >= 1.2
    events = split_events(response.text)
    names = [n for n, _ in events]
    deltas = [i for i, n in enumerate(names) if n == "content_block_delta"]
    between = names[deltas[1] + 1 : deltas[2]]
    assert between and set(between) == {"ping"} and len(between) >= 3  # ping interval is 0.3 s here
    assert names[-1] == "message_stop" and len(deltas) == len(SENTENCE.split())


def test_delay_between_deltas(scripted_server) -> None:
    start = time.monotonic()
    response = post(scripted_server, body(stream=True), {"x-claudewire-delay-ms": "50"})
    assert time.monotonic() - start >= 0.05 * (len(SENTENCE.split()) - 1)
    assert split_events(response.text)[-1][0] == "message_stop"


@pytest.mark.parametrize("value", ["explode", "error_after=x", "stall_after=1; minutes=3", ""])
def test_unknown_fault_is_a_clear_400(scripted_server, value: str) -> None:
    response = post(scripted_server, body(), {"x-claudewire-fault": value or ";"})
    assert response.status_code == 400 and "x-claudewire-fault" in response.json()["error"]["message"]


def test_faults_are_ignored_without_the_flag() -> None:
    from claudewire.server.backends.scripted import ScriptedBackend
    from claudewire.server.run import ServerThread

    with ServerThread(ScriptedBackend()) as server:
        response = httpx2.post(server.base_url + "/v1/messages", json=body(),
                               headers={"anthropic-version": "2023-06-01", "x-claudewire-fault": "overloaded"})
        assert response.status_code == 200
