"""The in-process store (the default): one list of frames per stream, bounded in bytes.

Readers wait on an ``asyncio.Event`` that each append sets and replaces. Finished streams
are kept --resume-ttl seconds; when an append would pass --store-max-bytes, finished
streams are evicted oldest first, and if live streams alone fill the bound, the append
fails with ``StoreFull``. One process only: ``--workers > 1`` needs the Redis store.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from .log import OPEN, StoreFull, StreamExpired, StreamInfo, StreamNotFound

FRAME_OVERHEAD = 64  # what a list slot and a bytes header cost beyond the frame itself
TAIL_RESERVE = 1024  # kept free for the small closing error a stopped stream still writes
TOMBSTONES = 100_000  # expired ids remembered, so a late GET hears "expired", not "unknown"


@dataclass(slots=True, eq=False)
class _Stream:
    owner: str
    frames: list[bytes] = field(default_factory=list)
    size: int = 0
    state: str = OPEN
    expires_at: float = float("inf")
    changed: asyncio.Event = field(default_factory=asyncio.Event)
    cancel: asyncio.Event = field(default_factory=asyncio.Event)
    finished: asyncio.Event = field(default_factory=asyncio.Event)
    readers: int = 0
    left_at: float = field(default_factory=time.monotonic)


class MemoryStore:
    def __init__(self, *, resume_ttl: float, max_bytes: int) -> None:
        self.resume_ttl = resume_ttl
        self.max_bytes = max_bytes
        self.size = 0  # bytes held by every stream, by the same count as the bound
        self.peak = 0
        self._streams: dict[str, _Stream] = {}
        self._finished: OrderedDict[str, None] = OrderedDict()  # oldest finish first
        self._gone: OrderedDict[str, str] = OrderedDict()  # expired id -> owner

    # -- producer side ------------------------------------------------------------------

    async def create(self, stream_id: str, owner: str) -> None:
        self._expire()
        if not self._room_for(FRAME_OVERHEAD):
            raise StoreFull("live streams fill the store")
        self._streams[stream_id] = _Stream(owner)
        self.size += FRAME_OVERHEAD

    async def append(self, stream_id: str, frames: list[bytes]) -> None:
        stream = self._streams[stream_id]
        added = sum(map(len, frames)) + FRAME_OVERHEAD * len(frames)
        if not self._room_for(added):
            raise StoreFull("the stream would pass the store's bound")
        stream.frames += frames
        stream.size += added
        self.size += added
        self.peak = max(self.peak, self.size)
        self._wake(stream)

    async def finish(self, stream_id: str, state: str, tail: bytes | None) -> None:
        stream = self._streams.get(stream_id)
        if stream is None or stream.state != OPEN:
            return
        if tail is not None:  # within TAIL_RESERVE, so the bound holds
            stream.frames.append(tail)
            stream.size += len(tail) + FRAME_OVERHEAD
            self.size += len(tail) + FRAME_OVERHEAD
            self.peak = max(self.peak, self.size)
        stream.state = state
        stream.expires_at = time.monotonic() + self.resume_ttl
        self._finished[stream_id] = None
        stream.finished.set()
        self._wake(stream)

    def cancel_signal(self, stream_id: str) -> asyncio.Event:
        return self._streams[stream_id].cancel

    async def idle_for(self, stream_id: str) -> float:
        stream = self._streams[stream_id]
        return 0.0 if stream.readers else time.monotonic() - stream.left_at

    # -- reader side --------------------------------------------------------------------

    async def lookup(self, stream_id: str, owner: str) -> StreamInfo:
        stream = self._get(stream_id, owner)
        return StreamInfo(stream.state, len(stream.frames))

    async def follow(self, stream_id: str, after: int, wait: float) -> AsyncIterator[list[bytes]]:
        stream = self._streams[stream_id]
        stream.readers += 1
        try:
            position = after
            while True:
                if position < len(stream.frames):
                    batch = stream.frames[position:]
                    position += len(batch)
                    yield batch
                    continue
                if stream.state != OPEN:
                    return
                try:
                    async with asyncio.timeout(wait):
                        await stream.changed.wait()
                except TimeoutError:
                    yield []
        finally:
            stream.readers -= 1
            stream.left_at = time.monotonic()

    async def request_cancel(self, stream_id: str) -> None:
        stream = self._streams.get(stream_id)
        if stream is not None:
            stream.cancel.set()

    async def wait_finished(self, stream_id: str, timeout: float) -> str:
        stream = self._streams[stream_id]
        try:
            await asyncio.wait_for(stream.finished.wait(), timeout)
        except TimeoutError:
            pass
        return stream.state

    async def aclose(self) -> None:
        for stream in self._streams.values():
            stream.cancel.set()

    # -- bookkeeping --------------------------------------------------------------------

    def _get(self, stream_id: str, owner: str) -> _Stream:
        self._expire()
        stream = self._streams.get(stream_id)
        if stream is not None and stream.owner == owner:
            return stream
        if stream is None and self._gone.get(stream_id) == owner:
            raise StreamExpired(stream_id)
        raise StreamNotFound(stream_id)

    @staticmethod
    def _wake(stream: _Stream) -> None:
        changed, stream.changed = stream.changed, asyncio.Event()
        changed.set()

    def _drop(self, stream_id: str) -> None:
        stream = self._streams.pop(stream_id)
        self._finished.pop(stream_id, None)
        self.size -= stream.size + FRAME_OVERHEAD
        self._gone[stream_id] = stream.owner
        while len(self._gone) > TOMBSTONES:
            self._gone.popitem(last=False)

    def _expire(self) -> None:
        now = time.monotonic()
        while self._finished:
            oldest = next(iter(self._finished))
            if self._streams[oldest].expires_at > now:
                break
            self._drop(oldest)

    def _room_for(self, needed: int) -> bool:
        """Drop finished streams, oldest first, until ``needed`` more bytes fit (with the reserve)."""
        limit = self.max_bytes - TAIL_RESERVE
        while self.size + needed > limit and self._finished:
            self._drop(next(iter(self._finished)))
        return self.size + needed <= limit
