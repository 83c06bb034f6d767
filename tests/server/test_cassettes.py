"""Record through the proxy, stop the upstream, replay: the same bytes, offline."""

from __future__ import annotations

import json
import time

import anthropic
import httpx2
import pytest

from claudewire.server.backends.scripted import ScriptedBackend
from claudewire.server.cassettes.match import key_digest, request_key
from claudewire.server.cassettes.replay import ReplayBackend
from claudewire.server.proxy.backend import ProxyBackend
from claudewire.server.run import ServerThread

from .test_wire import ok_body, post, split_events
from .upstreams import BrokenUpstream

UPSTREAM_KEY = "sk-ant-upstream-" + "r3c" * 8
CLIENT_KEY = "sk-ant-client-" + "c1i" * 8
SENTENCE = "one two three four five six seven eight"
HEADERS = {"x-api-key": CLIENT_KEY}


def body(**changes) -> dict:
    return ok_body(messages=[{"role": "user", "content": SENTENCE}], **changes)


EXCHANGES = [  # (path, body, headers)
    ("/v1/messages", body(stream=True), {}),
    ("/v1/messages", body(max_tokens=3), {}),
    ("/v1/messages", body(stream=True), {"x-claudewire-fault": "error_after=2"}),
    ("/v1/messages", body(), {"x-claudewire-fault": "rate_limit"}),
    ("/v1/messages/count_tokens", {"model": "claude-sonnet-4-6", "messages": [{"role": "user", "content": "a b"}]}, {}),
]


def sdk_events(server) -> list[dict]:
    client = anthropic.Anthropic(base_url=server.base_url, api_key=CLIENT_KEY, max_retries=0)
    return [event.to_dict() for event in client.messages.create(**body(), stream=True)]


@pytest.fixture(scope="module")
def recorded(tmp_path_factory):
    """Every exchange above, made through a recording proxy; then the upstream is stopped."""
    folder = tmp_path_factory.mktemp("cassettes")
    with ServerThread(ScriptedBackend(), faults=True, ping_interval=30.0) as upstream:
        with ServerThread(ProxyBackend(upstream=upstream.base_url, record=folder, api_key=UPSTREAM_KEY, retries=0)) as proxy:
            seen = [post(proxy, b, {**HEADERS, **h}, path=p) for p, b, h in EXCHANGES]
            models = httpx2.get(proxy.base_url + "/v1/models?limit=2", headers={"anthropic-version": "2023-06-01", **HEADERS})
            events = sdk_events(proxy)
            paced = post(proxy, body(stream=True, max_tokens=6), {**HEADERS, "x-claudewire-delay-ms": "100"})
    return folder, seen, models, events, paced


def test_replay_gives_the_same_bytes(recorded) -> None:
    folder, seen, models, events, _ = recorded
    with ServerThread(ReplayBackend(cassettes=folder, speed=0)) as replay:
        again = [post(replay, b, h, path=p) for p, b, h in EXCHANGES]  # no key at all: the replay server needs none
        for before, after in zip(seen, again, strict=True):
            assert (after.status_code, after.content) == (before.status_code, before.content)
            assert after.headers["request-id"] == before.headers["request-id"]
            assert after.headers["content-type"] == before.headers["content-type"]
        assert again[3].headers["retry-after"] == "1"
        assert split_events(again[2].text)[-1][1]["error"]["type"] == "overloaded_error"
        replayed_models = httpx2.get(replay.base_url + "/v1/models?limit=2", headers={"anthropic-version": "2023-06-01"})
        assert replayed_models.content == models.content
        assert sdk_events(replay) == events


def test_a_cassette_is_readable_and_holds_no_key(recorded) -> None:
    folder = recorded[0]
    names = sorted(p.name for p in folder.iterdir())
    assert any(n.startswith("messages-one-two-three-four-five-") for n in names) and any(n.startswith("models-") for n in names)
    for path in folder.iterdir():
        text = path.read_text()
        assert UPSTREAM_KEY not in text and CLIENT_KEY not in text and "x-api-key" not in text
        tape = json.loads(text)
        assert tape["request"]["headers"]["anthropic-version"] in ("2023-06-01", "2026-10-21")
        assert all(isinstance(t, float) and isinstance(c, str) for t, c in tape["response"]["chunks"])
        if tape["request"].get("body", {}).get("stream"):
            assert tape["response"]["chunks"][0][1].startswith("event: message_start\ndata: {")


def test_replay_paces_as_recorded_and_speed_zero_does_not(recorded) -> None:
    folder, *_, paced = recorded
    timings = {}
    for speed in (1.0, 0.0):
        with ServerThread(ReplayBackend(cassettes=folder, speed=speed)) as replay:
            started = time.monotonic()
            response = post(replay, body(stream=True, max_tokens=6), {"x-claudewire-delay-ms": "100"})
            timings[speed] = time.monotonic() - started
            assert response.content == paced.content
    assert timings[1.0] >= 0.4 and timings[0.0] < timings[1.0] / 3  # five 100 ms gaps as recorded; none at speed 0


def test_a_request_with_no_cassette_is_a_clear_404(recorded) -> None:
    with ServerThread(ReplayBackend(cassettes=recorded[0], speed=0)) as replay:
        client = anthropic.Anthropic(base_url=replay.base_url, api_key="k", max_retries=0)
        with pytest.raises(anthropic.NotFoundError) as info:
            client.messages.create(**body(max_tokens=7))
        message = info.value.body["error"]["message"]
        assert info.value.body["error"]["type"] == "not_found_error"
        assert f"no cassette in {recorded[0]} matches POST /v1/messages" in message and '"max_tokens":7' in message
        assert "claudewire serve --backend proxy --record" in message


def test_matching_ignores_documented_noise() -> None:
    a = request_key("POST", "/v1/messages", [], b'{"model":"m","max_tokens":1,"metadata":{"user_id":"u1"},"stream":false}')
    b = request_key("POST", "/v1/messages", [("anthropic-version", "x"), ("user-agent", "y")], b'{ "max_tokens": 1, "model": "m" }')
    assert key_digest(a) == key_digest(b)
    c = request_key("POST", "/v1/messages", [], b'{"model":"m","max_tokens":1,"stream":true}')
    d = request_key("POST", "/v1/messages", [("anthropic-beta", "b2, b1")], b'{"model":"m","max_tokens":1}')
    assert len({key_digest(a), key_digest(c), key_digest(d)}) == 3
    assert key_digest(d) == key_digest(request_key("POST", "/v1/messages", [("anthropic-beta", "b1,b2")], b'{"max_tokens":1,"model":"m"}'))


def test_faults_and_resumable_streams_on_replays(recorded) -> None:
    with ServerThread(ReplayBackend(cassettes=recorded[0], speed=0), faults=True) as replay:
        events = split_events(post(replay, body(stream=True), {"x-claudewire-fault": "error_after=3"}).text)
        assert [n for n, _ in events].count("content_block_delta") == 3 and events[-1][0] == "error"
        assert post(replay, body(), {"x-claudewire-fault": "overloaded"}).status_code == 529
        assert resume_after_a_cut(replay) == SENTENCE


def resume_after_a_cut(server, **extra: str) -> str:
    """Start a resumable stream, read four events, hang up, resume from the last id: the whole text."""
    headers = {"anthropic-version": "2023-06-01", "x-api-key": "k", "x-claudewire-resumable": "true", **extra}
    ids, text = [], []

    def read(response) -> None:
        current = None
        for line in response.iter_lines():
            if line.startswith("id: "):
                current = int(line[4:])
            elif line.startswith("data: ") and current is not None:
                ids.append(current)
                event = json.loads(line[6:])
                if event["type"] == "content_block_delta":
                    text.append(event["delta"]["text"])
                if len(ids) == 4 and response.request.method == "POST":
                    return

    with httpx2.stream("POST", server.base_url + "/v1/messages", json=body(stream=True), headers=headers, timeout=10) as response:
        stream_id = response.headers["x-claudewire-stream-id"]
        read(response)
    with httpx2.stream("GET", f"{server.base_url}/v1/messages/streams/{stream_id}", timeout=10,
                       headers={**headers, "last-event-id": str(ids[-1])}) as response:
        read(response)
    assert ids == list(range(1, len(ids) + 1))  # each event once, none lost
    return "".join(text)


def test_a_broken_upstream_is_recorded_and_replayed_broken(tmp_path) -> None:
    upstream = BrokenUpstream("cut")
    try:
        with ServerThread(ProxyBackend(upstream=upstream.base_url, record=tmp_path, retries=0)) as proxy:
            live = post(proxy, body(stream=True))
    finally:
        upstream.close()
    assert "broken: the upstream connection broke" in next(tmp_path.iterdir()).read_text()
    with ServerThread(ReplayBackend(cassettes=tmp_path, speed=0)) as replay:
        assert post(replay, body(stream=True)).content == live.content
