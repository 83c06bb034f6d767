"""The Redis store across processes, and when Redis goes away."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator

import httpx2
import pytest

import claudewire
from claudewire.server.backends.scripted import ScriptedBackend
from claudewire.server.run import ServerThread

from .conftest import RedisServer, free_port
from .helpers import HEADERS, RESUMABLE, RawStream, body, curl, parse


class ServeProcess:
    """``claudewire serve`` in its own process."""

    def __init__(self, *args: str) -> None:
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.process = subprocess.Popen(
            [sys.executable, "-m", "claudewire.cli", "serve", "--backend", "scripted", "--faults", "--port", str(self.port),
             "--ping-interval", "0.3", "--log-level", "warning", *args],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=os.environ.copy(),
        )
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx2.get(self.base_url + "/v1/models", headers=HEADERS, timeout=1).status_code == 200:
                    return
            except httpx2.HTTPError:
                pass
            assert self.process.poll() is None, self.process.stderr.read().decode()  # type: ignore[union-attr]
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.1)

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(10)


@pytest.fixture(scope="module")
def two_servers(redis_server) -> Iterator[tuple[ServeProcess, ServeProcess]]:
    a = ServeProcess("--store", redis_server.url)
    b = ServeProcess("--store", redis_server.url, "--workers", "2")
    yield a, b
    a.stop()
    b.stop()


def test_start_on_one_server_resume_on_another(two_servers) -> None:
    a, b = two_servers
    words = " ".join(f"w{i}" for i in range(30))
    raw = RawStream(a.port, body(words), {**RESUMABLE, "x-claudewire-delay-ms": "30"})
    raw.read_frames(5)
    raw.close()  # the connection to A is gone; A's producer goes on
    client = claudewire.Anthropic(base_url=b.base_url, api_key=HEADERS["x-api-key"])
    with client.messages.resume(raw.headers["x-claudewire-stream-id"]) as stream:
        assert stream.get_final_text() == words


def test_a_cancel_sent_to_one_server_stops_the_producer_on_another(two_servers) -> None:
    a, b = two_servers
    words = " ".join(f"w{i}" for i in range(200))
    raw = RawStream(a.port, body(words), {**RESUMABLE, "x-claudewire-delay-ms": "50"})
    raw.read_frames(6)
    stream_id = raw.headers["x-claudewire-stream-id"]
    status, _, answer = curl(f"{b.base_url}/v1/messages/streams/{stream_id}/cancel", method="POST")
    assert status == 200 and '"state":"cancelled"' in answer, "B answers once A's producer has stopped"
    got = raw.read_frames(10**6)
    raw.close()
    _, name, data = parse(got[-1])
    assert name == "error" and data["error"]["type"] == "stream_cancelled_error"
    assert sum(1 for f in got if parse(f)[1] == "content_block_delta") < 200


def test_workers_need_a_shared_store() -> None:
    done = subprocess.run([sys.executable, "-m", "claudewire.cli", "serve", "--workers", "2", "--backend", "scripted"],
                          capture_output=True, text=True, timeout=30)
    assert done.returncode == 2 and "--store redis://" in done.stderr and len(done.stderr.strip().splitlines()) == 1


def test_redis_gone_mid_stream_is_a_typed_error_and_the_server_goes_on() -> None:
    redis = RedisServer()
    try:
        with ServerThread(ScriptedBackend(), faults=True, ping_interval=0.3, relay={"store": redis.url}) as server:
            client = claudewire.Anthropic(base_url=server.base_url, api_key="k", resumable=True, max_retries=0)
            words = " ".join(f"w{i}" for i in range(100))
            call = {"model": "claude-sonnet-4-6", "max_tokens": 200, "messages": [{"role": "user", "content": words}]}
            started = None
            with pytest.raises(claudewire.APIError) as caught:
                with client.messages.stream(**call, extra_headers={"x-claudewire-delay-ms": "50"}) as stream:
                    for i, _ in enumerate(stream.text_stream):
                        if i == 3:
                            redis.kill()
                            started = time.monotonic()
            assert started is not None and time.monotonic() - started < 15, "no hang"
            assert isinstance(caught.value, (claudewire.InternalServerError, claudewire.APIConnectionError))
            assert caught.value.partial_message is not None and caught.value.partial_message.content[0].text.startswith("w0")
            plain = claudewire.Anthropic(base_url=server.base_url, api_key="k")
            assert plain.messages.create(**call).content[0].text == words, "non-resumable requests are still served"
            with pytest.raises(claudewire.InternalServerError) as refused:
                with client.messages.stream(**call):
                    pass
            assert refused.value.status_code == 503 and "unavailable" in str(refused.value)
            assert str(redis.port) not in str(refused.value) and str(redis.port) not in str(caught.value), "no internals"
    finally:
        if redis.process.poll() is None:
            redis.kill()
