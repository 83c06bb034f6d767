"""What each backend generates: the scripted rules exactly, the real model's real behaviour."""

from __future__ import annotations

import asyncio
import json
import threading
import time

import anthropic
import pytest

from claudewire.server.backends.base import StopSequenceFilter
from claudewire.server.backends.local import LocalBackend
from claudewire.server.run import ServerThread

from .test_wire import ok_body, post, split_events


def deltas(server, **changes) -> tuple[list[dict], list[tuple[str, dict]]]:
    events = split_events(post(server, ok_body(stream=True, **changes)).text)
    return [d["delta"] for n, d in events if n == "content_block_delta"], events


def final(events):
    return [d for n, d in events if n == "message_delta"][-1]


# --- scripted --------------------------------------------------------------------------


def test_scripted_echoes_words_with_leading_whitespace(scripted_server) -> None:
    got, events = deltas(scripted_server, messages=[
        {"role": "user", "content": "ignored"}, {"role": "assistant", "content": "ok"},
        {"role": "user", "content": [{"type": "text", "text": "Hello there"}, {"type": "text", "text": "  big\tworld "}]},
    ])
    assert [d["text"] for d in got] == ["Hello", " there", "\n  big", "\tworld "]
    assert final(events)["usage"]["output_tokens"] == 4 and final(events)["delta"]["stop_reason"] == "end_turn"


def test_scripted_max_tokens_and_stop_sequences(scripted_server) -> None:
    got, events = deltas(scripted_server, max_tokens=2, messages=[{"role": "user", "content": "a b c d"}])
    assert [d["text"] for d in got] == ["a", " b"] and final(events)["delta"]["stop_reason"] == "max_tokens"
    got, events = deltas(scripted_server, stop_sequences=["STOP", "c"], messages=[{"role": "user", "content": "a b c d STOP"}])
    assert "".join(d["text"] for d in got) == "a b " and final(events)["delta"] == {"stop_reason": "stop_sequence", "stop_sequence": "c"}
    got, events = deltas(scripted_server, stop_sequences=["STOP"], messages=[{"role": "user", "content": "a b ST"}])
    assert "".join(d["text"] for d in got) == "a b ST" and final(events)["delta"]["stop_reason"] == "end_turn"


def test_scripted_forced_tool_use(scripted_server) -> None:
    schema = {"type": "object", "properties": {"city": {"type": "string"}, "days": {"type": "integer"}, "metric": {"type": "boolean"},
                                               "tags": {"type": "array"}, "extra": {"type": "object"}, "opt": {"type": "number"}},
              "required": ["city", "days", "metric", "tags", "extra"]}
    tools = [{"name": "first", "input_schema": {"type": "object"}}, {"name": "get_weather", "input_schema": schema}]
    got, events = deltas(scripted_server, tools=tools, tool_choice={"type": "tool", "name": "get_weather"})
    start = [d for n, d in events if n == "content_block_start"][0]["content_block"]
    assert start["type"] == "tool_use" and start["name"] == "get_weather" and start["id"].startswith("toolu_01") and start["input"] == {}
    fragments = [d["partial_json"] for d in got]
    assert fragments[0] == "" and all(len(f) <= 8 for f in fragments)
    assert json.loads("".join(fragments)) == {"city": "example", "days": 0, "metric": False, "tags": [], "extra": {}}
    assert final(events)["delta"]["stop_reason"] == "tool_use" and final(events)["usage"]["output_tokens"] == len(fragments)
    _, events = deltas(scripted_server, tools=tools, tool_choice={"type": "any"})
    assert [d for n, d in events if n == "content_block_start"][0]["content_block"]["name"] == "first"


def test_scripted_thinking_then_text(scripted_server) -> None:
    got, events = deltas(scripted_server, max_tokens=4000, thinking={"type": "enabled", "budget_tokens": 2000})
    kinds = [d["type"] for d in got]
    assert kinds[0] == "thinking_delta" and kinds.index("signature_delta") == kinds.count("thinking_delta")
    assert kinds[-1] == "text_delta"
    blocks = [d["content_block"]["type"] for n, d in events if n == "content_block_start"]
    assert blocks == ["thinking", "text"]


def test_scripted_input_tokens_equal_count_tokens(scripted_server) -> None:
    client = anthropic.Anthropic(base_url=scripted_server.base_url, api_key="k")
    params = dict(model="claude-sonnet-4-6", system="Be brief.", messages=[{"role": "user", "content": "count these five words"}])
    counted = client.messages.count_tokens(**params).input_tokens
    assert counted == 6 and client.messages.create(max_tokens=10, **params).usage.input_tokens == counted


def test_two_hundred_concurrent_streams(scripted_server) -> None:
    async def one(client: anthropic.AsyncAnthropic, i: int) -> tuple[int, str, str]:
        prompt = f"stream {i} says {i * 7} and {i * 13}"
        async with client.messages.stream(model="claude-sonnet-4-6", max_tokens=64, messages=[{"role": "user", "content": prompt}],
                                          extra_headers={"x-claudewire-delay-ms": "5"}) as stream:
            text = "".join([t async for t in stream.text_stream])
            message = await stream.get_final_message()
        return i, prompt, text if message.stop_reason == "end_turn" else "incomplete"

    async def run() -> list:
        import httpx2

        limits = httpx2.Limits(max_connections=250, max_keepalive_connections=250)
        client = anthropic.AsyncAnthropic(base_url=scripted_server.base_url, api_key="k", max_retries=0,
                                          http_client=httpx2.AsyncClient(limits=limits, timeout=60))
        return await asyncio.gather(*(one(client, i) for i in range(200)))

    results = asyncio.run(run())
    assert len(results) == 200 and all(prompt == text for _, prompt, text in results)


# --- local (the real SmolLM2 model) -------------------------------------------------------


def test_local_real_tokens_and_counts(local_server) -> None:
    client = anthropic.Anthropic(base_url=local_server.base_url, api_key="k")
    params = dict(model="claude-haiku-4-5", system="You answer in one short sentence.",
                  messages=[{"role": "user", "content": "What is the capital of France?"}])
    counted = client.messages.count_tokens(**params).input_tokens
    message = client.messages.create(max_tokens=40, extra_body={"temperature": 0}, **params)
    assert message.usage.input_tokens + message.usage.cache_read_input_tokens == counted > 10  # the prompt, read or reused
    assert message.content[0].text.strip() and message.model == "claude-haiku-4-5"
    again = client.messages.create(max_tokens=40, extra_body={"temperature": 0}, **params)
    assert again.content[0].text == message.content[0].text  # temperature 0 is greedy


def test_local_max_tokens_and_stop_sequence(local_server) -> None:
    client = anthropic.Anthropic(base_url=local_server.base_url, api_key="k")
    prompt = [{"role": "user", "content": "Write a long story about a dragon and a knight."}]
    cut = client.messages.create(model="claude-sonnet-4-6", max_tokens=5, messages=prompt)
    assert cut.stop_reason == "max_tokens" and cut.usage.output_tokens == 5
    free = client.messages.create(model="claude-sonnet-4-6", max_tokens=60, messages=prompt, extra_body={"temperature": 0})
    word = free.content[0].text.split()[3]
    stopped = client.messages.create(model="claude-sonnet-4-6", max_tokens=60, messages=prompt, stop_sequences=[word],
                                     extra_body={"temperature": 0})
    assert stopped.stop_reason == "stop_sequence" and stopped.stop_sequence == word
    assert word not in stopped.content[0].text and free.content[0].text.startswith(stopped.content[0].text)


def test_local_context_window_exceeded() -> None:
    backend = LocalBackend(n_ctx=256, n_threads=1)  # llama.cpp's smallest context; one thread, as conftest says
    with ServerThread(backend) as server:
        client = anthropic.Anthropic(base_url=server.base_url, api_key="k")
        prompt = "Continue this list of numbers forever: " + ", ".join(str(i) for i in range(1, 45))
        message = client.messages.create(model="smollm2-135m-instruct", max_tokens=256, extra_body={"temperature": 0},
                                         messages=[{"role": "user", "content": prompt}])
        assert message.usage.input_tokens > 150
        assert message.stop_reason == "model_context_window_exceeded"
        assert message.usage.input_tokens + message.usage.output_tokens == 256
        with pytest.raises(anthropic.BadRequestError, match="prompt is too long"):
            client.messages.create(model="smollm2-135m-instruct", max_tokens=10, messages=[{"role": "user", "content": prompt * 3}])


def test_local_multibyte_characters_never_split(local_server) -> None:
    client = anthropic.Anthropic(base_url=local_server.base_url, api_key="k")
    with client.messages.stream(model="claude-sonnet-4-6", max_tokens=80, extra_body={"temperature": 0},
                                messages=[{"role": "user", "content": "Repeat exactly: 🚀 café 日本語 🚀 naïve ☕"}]) as stream:
        pieces = list(stream.text_stream)
    assert pieces and all("\ufffd" not in p for p in pieces)
    assert any(ord(c) > 127 for c in "".join(pieces))


# Left alone, the model counts on for about 325 tokens (several seconds) from this prefill.
COUNTING = [{"role": "user", "content": "Count from 1 to 1000."},
            {"role": "assistant", "content": "1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20,"}]


def wait_until_idle(backend, within: float) -> float:
    start = time.monotonic()
    while backend.active and time.monotonic() - start < within:
        time.sleep(0.005)
    return time.monotonic() - start


def test_local_disconnect_stops_generation_and_spares_others(local_server, local_backend) -> None:
    client = anthropic.Anthropic(base_url=local_server.base_url, api_key="k", max_retries=0)
    long = COUNTING
    before = local_backend.tokens_generated
    with client.messages.stream(model="claude-sonnet-4-6", max_tokens=2000, messages=long, extra_body={"temperature": 0}) as stream:
        for i, _ in enumerate(stream.text_stream):
            if i == 5:
                break
    # Leaving the block closed the connection: the model stops within a moment, not hundreds of tokens later.
    assert wait_until_idle(local_backend, 3.0) < 1.0 and local_backend.active == 0
    stopped_at = local_backend.tokens_generated
    time.sleep(0.3)
    assert local_backend.tokens_generated == stopped_at and stopped_at - before < 60

    # Two streams at once: one client leaves early, the other is unaffected.
    results: dict[str, str] = {}

    def finish() -> None:
        message = client.messages.create(model="claude-sonnet-4-6", max_tokens=30, messages=[{"role": "user", "content": "Say hi."}])
        results["other"] = message.stop_reason

    with client.messages.stream(model="claude-sonnet-4-6", max_tokens=2000, messages=long) as stream:
        other = threading.Thread(target=finish)
        other.start()
        next(iter(stream.text_stream))
    other.join(60)
    assert results["other"] in ("end_turn", "max_tokens")


def test_local_non_streamed_request_stops_when_the_client_leaves(local_server, local_backend) -> None:
    import httpx2

    before = local_backend.tokens_generated
    with pytest.raises(httpx2.ReadTimeout):
        httpx2.post(local_server.base_url + "/v1/messages", timeout=0.5, headers={"anthropic-version": "2023-06-01"},
                    json={"model": "claude-sonnet-4-6", "max_tokens": 3000, "temperature": 0, "messages": COUNTING})
    assert wait_until_idle(local_backend, 3.0) < 1.0 and local_backend.active == 0
    assert local_backend.tokens_generated - before < 200  # about 325 had it run to the end


def test_stop_sequence_filter_holds_back_prefixes() -> None:
    stops = StopSequenceFilter(["END", "xyz"])
    assert stops.push("abc E") == ("abc ", None)
    assert stops.push("N") == ("", None)
    assert stops.push("D more") == ("", "END")
    stops = StopSequenceFilter(["END"])
    assert stops.push("abc EN") == ("abc ", None) and stops.push("ough") == ("ENough", None)


def test_local_backend_unavailable_message() -> None:
    from claudewire.server.backends.registry import BackendUnavailable, load_backend

    with pytest.raises(BackendUnavailable, match="unknown backend"):
        load_backend("nope")
