"""The proxy backend in front of real servers over loopback: faithful, unbuffered, safe."""

from __future__ import annotations

import json
import logging
import time
import uuid

import anthropic
import httpx2
import pytest

import claudewire
from claudewire.server.app import create_app
from claudewire.server.backends.scripted import ScriptedBackend
from claudewire.server.proxy.backend import ProxyBackend
from claudewire.server.proxy.framing import EventAligner
from claudewire.server.proxy.headers import upstream_request_headers
from claudewire.server.run import ServerThread

from .test_wire import ok_body, post, split_events
from .upstreams import BrokenUpstream, SpyApp

UPSTREAM_KEY = "sk-ant-upstream-" + "k3y" * 8
SENTENCE = "one two three four five six seven eight"


@pytest.fixture(scope="module")
def spy():
    """A scripted upstream with faults, pinging only every 30 s, that notes what it was sent."""
    app = SpyApp(create_app(ScriptedBackend(), faults=True, ping_interval=30.0))
    with ServerThread(app=app) as server:
        server.spy = app
        yield server


@pytest.fixture(scope="module")
def proxy(spy):
    with ServerThread(ProxyBackend(upstream=spy.base_url, retries=0, api_key=UPSTREAM_KEY), ping_interval=30.0) as server:
        yield server


def sdk(server, **options) -> anthropic.Anthropic:
    return anthropic.Anthropic(base_url=server.base_url, api_key="sk-ant-client", **options)


def body(**changes) -> dict:
    return ok_body(messages=[{"role": "user", "content": SENTENCE}], **changes)


def test_event_aligner_at_every_split() -> None:
    stream = b"event: a\ndata: 1\n\nevent: b\r\ndata: 2\r\n\r\ndata: 3\r\r: c\n\ndata: tail"
    for cut in range(len(stream) + 1):
        aligner = EventAligner()
        out = [aligner.feed(stream[:cut]), aligner.feed(stream[cut:])]
        assert b"".join(out) + aligner.flush() == stream
        assert all(piece.endswith((b"\n\n", b"\r\r", b"\n\r", b"\r\n\r\n")) for piece in out if piece)


def test_request_headers_lose_hop_by_hop_and_credentials() -> None:
    client = [("Connection", "keep-alive, x-trace"), ("x-trace", "1"), ("x-api-key", "sk-ant-client"), ("authorization", "Bearer t"),
              ("anthropic-beta", "b1"), ("te", "trailers"), ("host", "proxy"), ("content-length", "3"), ("x-custom", "kept")]
    assert upstream_request_headers(client, upstream_key="up", forward_client_key=False) == [
        ("anthropic-beta", "b1"), ("x-custom", "kept"), ("x-api-key", "up")]
    forwarded = upstream_request_headers(client, upstream_key="up", forward_client_key=True)
    assert ("x-api-key", "sk-ant-client") in forwarded and ("authorization", "Bearer t") in forwarded and ("x-api-key", "up") not in forwarded


def test_sdk_sees_the_upstream_through_the_proxy(proxy, spy) -> None:
    client = sdk(proxy, max_retries=0)
    direct_models = [m.id for m in sdk(spy).models.list(limit=3).data]
    with client.messages.stream(**body()) as stream:
        assert "".join(stream.text_stream) == SENTENCE
        assert stream.get_final_message().stop_reason == "end_turn"
    models = client.models.list(limit=3)
    assert [m.id for m in models.data] == direct_models
    assert client.models.retrieve("claude-haiku-4-5").max_tokens == 64_000
    assert client.messages.count_tokens(model="claude-sonnet-4-6", messages=[{"role": "user", "content": "a b c"}]).input_tokens == 3
    assert [s.path for s in spy.spy.seen[-4:]] == ["/v1/messages", "/v1/models", "/v1/models/claude-haiku-4-5", "/v1/messages/count_tokens"]
    assert len({s.client for s in spy.spy.seen[-3:]}) == 1  # one kept-alive connection to the upstream
    with pytest.raises(anthropic.NotFoundError) as info:  # the upstream's own 404, body and all
        client.models.retrieve("claude-nonexistent")
    assert info.value.body["error"] == {"type": "not_found_error", "message": "model: claude-nonexistent"}


def test_request_reaches_the_upstream_unchanged(proxy, spy) -> None:
    raw = b'{"model":"claude-sonnet-4-6","max_tokens":16,  "messages":[{"role":"user","content":"hi"}],"brand_new_feature":{"x":[1,2]}}'
    headers = {"anthropic-beta": "new-feature-2026-11-01", "x-claudewire-delay-ms": "1", "x-custom": "kept", "Connection": "keep-alive",
               "accept-encoding": "identity", "user-agent": "test-agent/1"}
    response = post(proxy, raw, headers)
    seen = spy.spy.seen[-1]
    assert seen.body == raw and seen.path == "/v1/messages" and response.status_code == 200
    assert seen.headers["anthropic-beta"] == "new-feature-2026-11-01" and seen.headers["anthropic-version"] == "2023-06-01"
    assert seen.headers["x-custom"] == "kept" and seen.headers["x-claudewire-delay-ms"] == "1"
    assert seen.headers["x-api-key"] == UPSTREAM_KEY and "authorization" not in seen.headers  # the client's "k" stayed here
    assert seen.headers["accept-encoding"] == "identity" and seen.headers["user-agent"] == "test-agent/1"  # the client's, not ours


def test_statuses_bodies_and_headers_pass_through(proxy, spy) -> None:
    response = post(proxy, body(), {"x-claudewire-fault": "rate_limit"})
    assert response.status_code == 429 and response.headers["retry-after"] == "1" and response.headers["x-should-retry"] == "true"
    assert response.json()["error"]["type"] == "rate_limit_error"
    assert response.headers["request-id"] == response.json()["request_id"]  # the upstream's id, not one of ours
    response = post(proxy, body(max_tokens=0))
    assert response.status_code == 400 and response.json()["error"]["message"] == "max_tokens: Input should be greater than or equal to 1"
    streamed = post(proxy, body(stream=True))
    assert streamed.headers["content-type"] == "text/event-stream; charset=utf-8"
    assert streamed.headers["x-claudewire-backend"] == "claudewire-scripted" and streamed.headers["request-id"].startswith("req_")
    direct = post(spy, body(stream=True))
    assert [n for n, _ in split_events(streamed.text)] == [n for n, _ in split_events(direct.text)]


def test_upstream_faults_reach_the_client(proxy, spy) -> None:
    fault_id = uuid.uuid4().hex
    headers = {"x-claudewire-fault": "overloaded; times=1", "x-claudewire-fault-id": fault_id}
    message = sdk(proxy, max_retries=1).messages.create(**body(), extra_headers=headers)  # the client's retry gets through
    assert message.content[0].text == SENTENCE
    with pytest.raises(anthropic.RateLimitError) as info:
        sdk(proxy, max_retries=0).messages.create(**body(), extra_headers={"x-claudewire-fault": "rate_limit"})
    assert info.value.response.headers["retry-after"] == "1"
    with pytest.raises(claudewire.APIStatusError) as error, claudewire.Anthropic(base_url=proxy.base_url, api_key="k").messages.stream(
        **body(), extra_headers={"x-claudewire-fault": "error_after=3"}
    ) as stream:
        stream.get_final_message()
    assert error.value.type == "overloaded_error" and error.value.partial_message.content[0].text == "one two three"
    with pytest.raises(claudewire.IncompleteStreamError) as cut, claudewire.Anthropic(
        base_url=proxy.base_url, api_key="k", max_retries=0).messages.stream(**body(), extra_headers={"x-claudewire-fault": "disconnect_after=2"}
    ) as stream:
        stream.get_final_message()
    assert cut.value.partial_message.content[0].text == "one two"
    response = post(proxy, body(stream=True), {"x-claudewire-fault": "stall_after=2; seconds=0.3"})
    assert "".join(e["delta"]["text"] for n, e in split_events(response.text) if n == "content_block_delta") == SENTENCE


def test_proxy_retries_only_before_the_first_byte(spy) -> None:
    with ServerThread(ProxyBackend(upstream=spy.base_url, retries=2)) as proxy:
        fault_id = uuid.uuid4().hex
        before = len(spy.spy.seen)
        started = time.monotonic()
        headers = {"x-claudewire-fault": "rate_limit; times=1", "x-claudewire-fault-id": fault_id}
        message = sdk(proxy, max_retries=0).messages.create(**body(), extra_headers=headers)
        assert message.content[0].text == SENTENCE and len(spy.spy.seen) - before == 2
        assert time.monotonic() - started >= 0.9  # it waited out the upstream's retry-after: 1
        before = len(spy.spy.seen)
        response = post(proxy, body(stream=True), {"x-claudewire-fault": "error_after=2"})
        assert split_events(response.text)[-1][0] == "error" and len(spy.spy.seen) - before == 1  # never again mid-stream
    with ServerThread(ProxyBackend(upstream="http://127.0.0.1:9", retries=1)) as nowhere:
        response = post(nowhere, body())
        assert response.status_code == 502 and response.json()["error"]["type"] == "api_error"
        assert "could not be reached" in response.json()["error"]["message"]


def test_each_event_goes_out_as_it_arrives(proxy) -> None:
    arrivals = []
    with httpx2.stream("POST", proxy.base_url + "/v1/messages", json=body(stream=True), timeout=10,
                       headers={"anthropic-version": "2023-06-01", "x-claudewire-delay-ms": "150"}) as response:
        for line in response.iter_lines():
            if line.startswith("event: content_block_delta"):
                arrivals.append(time.monotonic())
    assert len(arrivals) == 8 and arrivals[-1] - arrivals[0] >= 7 * 0.15 * 0.8  # not held back until the end


def test_upstream_break_and_stall_become_in_band_errors() -> None:
    for mode, expected in (("cut", "broke mid-stream: RemoteProtocolError"), ("stall", "sent nothing for 0.5 s")):
        upstream = BrokenUpstream(mode)
        try:
            with ServerThread(ProxyBackend(upstream=upstream.base_url, idle_timeout=0.5, retries=0)) as proxy:
                response = post(proxy, body(stream=True))
                events = split_events(response.text)
                assert [n for n, _ in events] == ["message_start", "content_block_start", "error"]  # the half event is dropped
                error = events[-1][1]
                assert error["error"]["type"] == "api_error" and expected in error["error"]["message"]
                assert error["request_id"] == "req_broken"
                with pytest.raises(claudewire.APIStatusError) as info, claudewire.Anthropic(
                        base_url=proxy.base_url, api_key="k").messages.stream(**body()) as stream:
                    stream.get_final_message()
                assert info.value.type == "api_error" and info.value.partial_message.content[0].text == ""
        finally:
            upstream.close()


def test_client_disconnect_stops_the_upstream_local_model(local_server, local_backend) -> None:
    from .test_backends import COUNTING, wait_until_idle

    with ServerThread(ProxyBackend(upstream=local_server.base_url)) as proxy:
        before = local_backend.tokens_generated
        with sdk(proxy, max_retries=0).messages.stream(model="claude-sonnet-4-6", max_tokens=2000, messages=COUNTING,
                                                       extra_body={"temperature": 0}) as stream:
            for i, _ in enumerate(stream.text_stream):
                if i == 5:
                    break
        assert wait_until_idle(local_backend, 3.0) < 1.0 and local_backend.active == 0
        assert local_backend.tokens_generated - before < 60


def test_forward_client_key_and_the_key_never_shows(spy, caplog, capfd) -> None:
    caplog.set_level(logging.DEBUG)
    with ServerThread(ProxyBackend(upstream=spy.base_url, forward_client_key=True)) as proxy:
        post(proxy, body(), {"x-api-key": "sk-ant-client-own"})
        assert spy.spy.seen[-1].headers["x-api-key"] == "sk-ant-client-own"
    backend = ProxyBackend(upstream="http://127.0.0.1:9", api_key=UPSTREAM_KEY, retries=0)
    with ServerThread(backend) as proxy:
        failed = post(proxy, body())
        ok = [post(proxy, body(stream=True), {"x-claudewire-fault": "error_after=1"})]
    shown = repr(backend) + failed.text + json.dumps(dict(failed.headers)) + "".join(r.text for r in ok) + caplog.text
    out, err = capfd.readouterr()
    assert UPSTREAM_KEY not in shown + out + err and "k3yk3y" not in shown + out + err


def test_resumable_streams_through_the_proxy(proxy, spy) -> None:
    from .test_cassettes import resume_after_a_cut

    before = len(spy.spy.seen)
    assert resume_after_a_cut(proxy) == SENTENCE
    assert len(spy.spy.seen) - before == 1  # the relay resumed from its log: the upstream was asked once
    assert "x-claudewire-resumable" not in spy.spy.seen[-1].headers  # the proxy's own business


def test_serve_command_line(spy, tmp_path) -> None:
    import os
    import socket
    import subprocess
    import sys

    def serve(*args: str, **env: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "claudewire.cli", "serve", *args], capture_output=True, text=True, timeout=60,
                              env={**os.environ, **env})

    for args, says in ((["--backend", "scripted", "--record", str(tmp_path)], "go with --backend proxy"),
                       (["--backend", "proxy", "--forward-client-key", "--api-key", "x"], "cannot also require --api-key"),
                       (["--backend", "replay"], "needs --cassettes DIR"),
                       (["--backend", "replay", "--cassettes", str(tmp_path / "none")], "no cassette folder at")):
        done = serve(*args, "--port", "0")
        assert done.returncode == 2 and says in done.stderr and len(done.stderr.strip().splitlines()) == 1, done.stderr
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if k != "ANTHROPIC_API_KEY"}
    process = subprocess.Popen([sys.executable, "-m", "claudewire.cli", "serve", "--backend", "proxy", "--upstream", spy.base_url,
                                "--port", str(port), "--record", str(tmp_path)], stderr=subprocess.PIPE, text=True,
                               env={**env, "CLAUDEWIRE_UPSTREAM_API_KEY": UPSTREAM_KEY})
    try:
        assert "serving" in process.stderr.readline()
        proxy = type("Proxy", (), {"base_url": f"http://127.0.0.1:{port}"})
        assert post(proxy, body()).status_code == 200 and spy.spy.seen[-1].headers["x-api-key"] == UPSTREAM_KEY
    finally:
        process.terminate()
        _, err = process.communicate(timeout=10)
    assert UPSTREAM_KEY not in err and all(UPSTREAM_KEY not in p.read_text() for p in tmp_path.iterdir())
    assert len(list(tmp_path.iterdir())) == 1


def test_http2_to_a_tls_upstream_that_offers_it(tmp_path, monkeypatch) -> None:
    """hypercorn offers h2 over TLS (ALPN); the proxy takes it, and its requests share one connection."""
    import asyncio
    import socket
    import subprocess
    import threading

    from hypercorn.asyncio import serve
    from hypercorn.config import Config

    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert), "-days", "1",
                    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"], check=True, capture_output=True)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    config = Config()
    config.bind, config.certfile, config.keyfile, config.loglevel = [f"127.0.0.1:{port}"], str(cert), str(key), "WARNING"
    app = SpyApp(create_app(ScriptedBackend()))
    stop = threading.Event()

    async def run() -> None:
        await serve(app, config, shutdown_trigger=lambda: asyncio.get_running_loop().run_in_executor(None, stop.wait))

    thread = threading.Thread(target=asyncio.run, args=(run(),), daemon=True)
    thread.start()
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))  # the proxy trusts the upstream's private CA as any client would
    try:
        for _ in range(200):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.1).close()
                break
            except OSError:
                time.sleep(0.05)
        with ServerThread(ProxyBackend(upstream=f"https://127.0.0.1:{port}")) as proxy:
            client = sdk(proxy, max_retries=0)
            with client.messages.stream(**body()) as stream:
                assert "".join(stream.text_stream) == SENTENCE
            assert client.messages.count_tokens(model="claude-sonnet-4-6", messages=[{"role": "user", "content": "a b"}]).input_tokens == 2
        assert [s.http_version for s in app.seen] == ["2", "2"] and app.seen[0].client == app.seen[1].client
    finally:
        stop.set()
        thread.join(10)
