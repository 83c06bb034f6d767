"""The Redis store: one Redis Stream per stream, so any worker on any host serves any stream.

Keys, for stream ``S`` (hash-tagged, so they live on one cluster slot)::

    claudewire:{S}:log     XADD per batch of events: entry id 0-n for a batch ending with event n,
                           its frames joined in field f, its first event number in field n;
                           entry 1-0 closes the log
    claudewire:{S}:meta    owner digest, state, events stored, cancel flag
    claudewire:{S}:reader  set by every reader at least once a second (PX 2.5 s): "someone reads"
    claudewire:{S}:gone    the owner digest, kept a day after expiry: "expired", not "unknown"

Readers block in XREAD (at most 1 s at a time). While open, the log and its meta live on a
lease the producer renews every second, so the log of a producer that died vanishes and its
readers get an error instead of waiting forever; once finished they live --resume-ttl
seconds. A cancel is published on ``claudewire:cancel`` and also flagged in the meta, which
the producer reads every second, so it reaches the producer on whichever worker runs it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Iterator

import redis.asyncio as aioredis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

from .log import OPEN, StoreFull, StoreUnavailable, StreamExpired, StreamInfo, StreamNotFound

log = logging.getLogger("claudewire.server.relay")
CHANNEL = "claudewire:cancel"
BLOCK_MS = 1000
READER_MS = 2500  # readers renew it at least once a second
LEASE_MS = 30_000
TOMBSTONE_S = 86_400
END_ID = "1-0"


def _keys(stream_id: str) -> tuple[str, str, str, str]:
    base = "claudewire:{" + stream_id + "}:"
    return base + "log", base + "meta", base + "reader", base + "gone"


@contextlib.contextmanager
def _guard() -> Iterator[None]:
    """Redis errors become the relay's: gone -> StoreUnavailable, out of memory -> StoreFull."""
    try:
        yield
    except (RedisConnectionError, RedisTimeoutError, OSError) as exc:
        raise StoreUnavailable(f"Redis: {type(exc).__name__}: {exc}") from exc
    except ResponseError as exc:
        if str(exc).startswith("OOM"):
            raise StoreFull(str(exc)) from exc
        raise


def _event_number(frame: bytes) -> int:
    return int(frame[4 : frame.index(b"\n")])  # every stored frame starts with "id: n\n"


class RedisStore:
    def __init__(self, url: str, *, resume_ttl: float, detach_timeout: float) -> None:
        self.redis = aioredis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=BLOCK_MS / 1000 + 5)
        self.resume_ttl_ms = max(1, int(resume_ttl * 1000))
        self._owners: dict[str, str] = {}  # streams produced here
        self._signals: dict[str, asyncio.Event] = {}
        self._no_reader_since: dict[str, float] = {}
        self._listener: asyncio.Task[None] | None = None

    # -- producer side ------------------------------------------------------------------

    async def create(self, stream_id: str, owner: str) -> None:
        logk, meta, _, _ = _keys(stream_id)
        with _guard():
            async with self.redis.pipeline(transaction=False) as pipe:
                pipe.hset(meta, mapping={"owner": owner, "state": OPEN})
                pipe.pexpire(meta, LEASE_MS)
                await pipe.execute()
        self._owners[stream_id] = owner
        self._no_reader_since[stream_id] = time.monotonic()
        self._ensure_listener()

    async def append(self, stream_id: str, frames: list[bytes]) -> None:
        logk, meta, _, _ = _keys(stream_id)
        last = _event_number(frames[-1])
        with _guard():
            async with self.redis.pipeline(transaction=False) as pipe:
                pipe.xadd(logk, {"f": b"".join(frames), "n": _event_number(frames[0])}, id=f"0-{last}")
                pipe.hset(meta, "events", last)
                pipe.pexpire(logk, LEASE_MS)
                await pipe.execute()

    async def finish(self, stream_id: str, state: str, tail: bytes | None) -> None:
        logk, meta, reader, gone = _keys(stream_id)
        owner = self._owners.pop(stream_id, "")
        self._signals.pop(stream_id, None)
        self._no_reader_since.pop(stream_id, None)
        with _guard():
            async with self.redis.pipeline(transaction=False) as pipe:
                if tail is not None:
                    number = _event_number(tail)
                    pipe.xadd(logk, {"f": tail, "n": number}, id=f"0-{number}")
                    pipe.hset(meta, "events", number)
                pipe.xadd(logk, {"end": state}, id=END_ID)
                pipe.hset(meta, "state", state)
                pipe.pexpire(logk, self.resume_ttl_ms)
                pipe.pexpire(meta, self.resume_ttl_ms)
                pipe.set(gone, owner, ex=TOMBSTONE_S)
                await pipe.execute()

    def cancel_signal(self, stream_id: str) -> asyncio.Event:
        return self._signals.setdefault(stream_id, asyncio.Event())

    async def idle_for(self, stream_id: str) -> float:
        """Also the producer's heartbeat: renews the lease and reads the cancel flag."""
        logk, meta, reader, _ = _keys(stream_id)
        with _guard():
            async with self.redis.pipeline(transaction=False) as pipe:
                pipe.exists(reader)
                pipe.hget(meta, "cancel")
                pipe.pexpire(meta, LEASE_MS)
                pipe.pexpire(logk, LEASE_MS)
                reading, cancel, *_ = await pipe.execute()
        if cancel:
            self.cancel_signal(stream_id).set()
        now = time.monotonic()
        if reading:
            self._no_reader_since[stream_id] = now
            return 0.0
        return now - self._no_reader_since.setdefault(stream_id, now)

    # -- reader side --------------------------------------------------------------------

    async def lookup(self, stream_id: str, owner: str) -> StreamInfo:
        logk, meta, _, gone = _keys(stream_id)
        with _guard():
            async with self.redis.pipeline(transaction=False) as pipe:
                pipe.hmget(meta, "owner", "state", "events")
                pipe.get(gone)
                (stored_owner, state, events), gone_owner = await pipe.execute()
        if stored_owner is None or stored_owner.decode() != owner:
            if stored_owner is None and gone_owner is not None and gone_owner.decode() == owner:
                raise StreamExpired(stream_id)
            raise StreamNotFound(stream_id)
        state = state.decode() if state else OPEN
        return StreamInfo(state, int(events or 0))

    async def follow(self, stream_id: str, after: int, wait: float) -> AsyncIterator[list[bytes]]:
        logk, meta, reader, _ = _keys(stream_id)
        last = f"0-{after}"
        try:
            while True:
                with _guard():
                    async with self.redis.pipeline(transaction=False) as pipe:
                        pipe.set(reader, 1, px=READER_MS)
                        pipe.xread({logk: last}, count=10_000, block=max(1, int(wait * 1000)))
                        _, answer = await pipe.execute()
                if not answer:
                    with _guard():
                        alive = await self.redis.exists(meta)
                    if not alive:
                        raise StoreUnavailable("the stream's log is gone from Redis (its producer stopped renewing it)")
                    yield []
                    continue
                frames = []
                for entry_id, fields in answer[0][1]:
                    if b"end" in fields:
                        if frames:
                            yield frames
                        return
                    joined, first = fields[b"f"], int(fields[b"n"])
                    if first <= after:  # a batch that straddles where this reader starts
                        joined = b"\n\n".join(joined.split(b"\n\n")[after - first + 1 :])
                    if joined:
                        frames.append(joined)
                    last = entry_id
                yield frames
        finally:  # a departed reader counts as gone at once (any other one renews the key within 1 s)
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.redis.delete(reader), 1.0)

    async def request_cancel(self, stream_id: str) -> None:
        _, meta, _, _ = _keys(stream_id)
        with _guard():
            async with self.redis.pipeline(transaction=False) as pipe:
                pipe.hset(meta, "cancel", 1)
                pipe.publish(CHANNEL, stream_id)
                await pipe.execute()

    async def wait_finished(self, stream_id: str, timeout: float) -> str:
        _, meta, _, _ = _keys(stream_id)
        until = time.monotonic() + timeout
        while True:
            with _guard():
                state = await self.redis.hget(meta, "state")
            state = state.decode() if state else OPEN
            if state != OPEN or time.monotonic() >= until:
                return state
            await asyncio.sleep(0.02)

    async def aclose(self) -> None:
        for signal in self._signals.values():
            signal.set()
        if self._listener is not None:
            self._listener.cancel()
            await asyncio.gather(self._listener, return_exceptions=True)
        await self.redis.aclose()

    # -- cancels from other workers -----------------------------------------------------

    def _ensure_listener(self) -> None:
        if self._listener is None or self._listener.done():
            self._listener = asyncio.ensure_future(self._listen())

    async def _listen(self) -> None:
        """Sets the signal of a local producer when any worker publishes its cancel."""
        while True:
            try:
                async with self.redis.pubsub() as pubsub:
                    await pubsub.subscribe(CHANNEL)
                    async for message in pubsub.listen():
                        if message.get("type") == "message":
                            signal = self._signals.get(message["data"].decode())
                            if signal is not None:
                                signal.set()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # Redis went away: the meta flag still works once it is back
                log.warning("cancel listener: %s; retrying in 1 s", exc)
                await asyncio.sleep(1)


__all__ = ["RedisStore"]
