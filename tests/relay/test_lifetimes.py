"""Lifetimes and bounds: detached producers, cancel on the local model, the memory bound, and
one contract suite run over both stores."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

import claudewire
from claudewire.server.backends.scripted import ScriptedBackend
from claudewire.server.relay.log import CANCELLED, OPEN, RelayOptions, StreamExpired, StreamNotFound, event_frame
from claudewire.server.relay.routes import open_store
from claudewire.server.run import ServerThread

from .conftest import STORES, store_url
from .helpers import RESUMABLE, RawStream, body, curl, frames, parse


def deltas(got: list[str]) -> int:
    return sum(1 for f in got if parse(f)[1] == "content_block_delta")


def test_a_detached_producer_keeps_generating_then_stops(relay_server) -> None:
    words = " ".join(f"w{i}" for i in range(100))
    raw = RawStream(relay_server.port, body(words), {**RESUMABLE, "x-claudewire-delay-ms": "50"})
    read = deltas(raw.read_frames(6))
    raw.close()
    time.sleep(4.0)  # detach_timeout is 2 s here; the whole reply would take 5 s
    _, _, payload = curl(f"{relay_server.base_url}/v1/messages/streams/{raw.headers['x-claudewire-stream-id']}")
    got = frames(payload)
    _, name, data = parse(got[-1])
    assert name == "error" and data["error"]["type"] == "stream_cancelled_error" and "--detach-timeout" in data["error"]["message"]
    assert read < deltas(got) < 100, "it went on without a reader, then stopped"


@pytest.mark.local
def test_cancel_stops_the_local_model_within_a_second(local_server, local_backend) -> None:
    client = claudewire.Anthropic(base_url=local_server.base_url, api_key="k", resumable=True)
    with client.messages.stream(**{"model": "claude-sonnet-4-6", "max_tokens": 2000, "messages": [
            {"role": "user", "content": "Write a very long story about the sea."}]}) as stream:
        texts = 0
        for event in stream:
            texts += event.type == "text"
            if texts == 3:
                started = time.monotonic()
                stream.cancel()
                answered = time.monotonic() - started
        partial = stream.get_final_message()
    assert answered < 1.0 and local_backend.active == 0, "the cancel answer comes once the model has stopped"
    generated = local_backend.tokens_generated
    time.sleep(0.3)
    assert local_backend.tokens_generated == generated and partial.stop_reason is None and partial.content[0].text


def test_the_memory_store_stays_under_its_bound() -> None:
    bound = 64 * 1024
    relay = {"store_max_bytes": bound, "resume_ttl": 60}
    with ServerThread(ScriptedBackend(), relay=relay) as server:
        store = server.app.state.config.relay.store
        words = " ".join(f"word{i}" for i in range(40))
        ids: list[str] = []
        lock = threading.Lock()

        def flood() -> None:
            for _ in range(15):
                _, head, _ = curl(server.base_url + "/v1/messages", data=body(words), headers=RESUMABLE)
                with lock:
                    ids.append(head["x-claudewire-stream-id"])

        threads = [threading.Thread(target=flood) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(120)
        assert len(ids) == 60 and store.peak <= bound and store.size <= bound
        status, _, oldest = curl(f"{server.base_url}/v1/messages/streams/{ids[0]}")
        assert status == 404 and "expired" in oldest, "finished streams are evicted oldest first"
        assert curl(f"{server.base_url}/v1/messages/streams/{ids[-1]}")[0] == 200
        _, _, huge = curl(server.base_url + "/v1/messages", data=body(" ".join(["x" * 30] * 3000), max_tokens=5000), headers=RESUMABLE)
        _, name, data = parse(frames(huge)[-1])
        assert name == "error" and data["error"]["type"] == "api_error" and "--store-max-bytes" in data["error"]["message"]
        assert store.peak <= bound


@pytest.mark.parametrize("store", STORES)
def test_store_contract(store, redis_server) -> None:
    """What the relay relies on, the same for every store."""

    async def scenario() -> None:
        log = open_store(RelayOptions(store=store_url(store, redis_server), resume_ttl=0.5))
        try:
            sid = f"strm_contract_{store}_{time.monotonic_ns()}"
            await log.create(sid, "owner-1")
            assert (await log.lookup(sid, "owner-1")).state == OPEN
            with pytest.raises(StreamNotFound) as other:
                await log.lookup(sid, "owner-2")
            assert not isinstance(other.value, StreamExpired)
            signal = log.cancel_signal(sid)
            first = [event_frame(n, {"type": "ping"}) for n in (1, 2, 3)]
            await log.append(sid, first)

            async def follow(after: int) -> bytes:
                out: list[bytes] = []
                async for batch in log.follow(sid, after, 0.05):
                    out += batch
                return b"".join(out)  # a store may hand frames joined

            reader = asyncio.ensure_future(follow(1))
            await asyncio.sleep(0.2)
            assert await log.idle_for(sid) == 0.0, "a reader is attached"
            await log.append(sid, [event_frame(4, {"type": "ping"})])
            await log.request_cancel(sid)
            for _ in range(40):  # the Redis store may take a pub/sub hop
                await log.idle_for(sid)
                if signal.is_set():
                    break
                await asyncio.sleep(0.05)
            assert signal.is_set()
            tail = event_frame(5, {"type": "error", "error": {"type": "stream_cancelled_error", "message": "x"}})
            await log.finish(sid, CANCELLED, tail)
            seen = await asyncio.wait_for(reader, 5)
            assert seen == b"".join([*first[1:], event_frame(4, {"type": "ping"}), tail]), "after 1, in order, then the end"
            assert await follow(5) == b"" and await follow(0) == first[0] + seen
            assert await follow(2) == seen[len(first[1]) :], "a batch that straddles the start is cut at it"
            info = await log.lookup(sid, "owner-1")
            assert (info.state, info.events) == (CANCELLED, 5) and await log.wait_finished(sid, 0.1) == CANCELLED
            await asyncio.sleep(0.8)
            with pytest.raises(StreamExpired):
                await log.lookup(sid, "owner-1")
        finally:
            await log.aclose()

    asyncio.run(scenario())


def test_a_reader_from_the_start_pings_only_after_message_start() -> None:
    """The store is slow to receive the first event (a busy machine): the reader sends nothing,
    no keep-alive ping either, until message_start; once it has, an idle stream gets pings."""
    from claudewire.server.relay.log import ENDED
    from claudewire.server.relay.routes import Relay
    from claudewire.server.streaming import PING

    async def main() -> bytes:
        relay = Relay({"store": "memory"}, ping_interval=0.05)
        sid = f"strm_slow_start_{time.monotonic_ns()}"
        await relay.store.create(sid, "owner")
        out: list[bytes] = []

        async def read() -> None:
            async for chunk in relay.reader(sid, 0, "req_x"):
                out.append(chunk)

        reader = asyncio.ensure_future(read())
        await asyncio.sleep(0.4)  # eight ping intervals with nothing stored
        await relay.store.append(sid, [event_frame(1, {"type": "message_start"})])
        await asyncio.sleep(0.4)
        await relay.store.finish(sid, ENDED, None)
        await asyncio.wait_for(reader, 5)
        await relay.aclose()
        return out

    out = asyncio.run(main())
    assert out[0] == event_frame(1, {"type": "message_start"}), out[:2]
    assert PING in out[1:], "after message_start, an idle stream is kept alive"
