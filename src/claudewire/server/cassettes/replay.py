"""The replay backend: answers requests from recorded cassettes, offline (``--backend replay``).

A request is matched by its key (``match.py``); the cassettes recorded for one key
answer in their recorded order, the last one again once they are used up. The reply
comes back with the recorded status, headers and bytes, paced as recorded and divided
by ``speed`` (1: real time, 0: as fast as possible). A request with no cassette gets a
404 ``not_found_error`` naming the key it looked for.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path

from ..backends.registry import BackendUnavailable
from ..catalogue import ModelEntry
from ..errors import APIErrorResponse
from ..proxy.exchange import Call, Reply, UpstreamBroke
from .match import canonical, key_digest, request_key
from .tape import Tape

log = logging.getLogger("claudewire.server")


class ReplayBackend:
    def __init__(self, *, cassettes: str | Path, speed: float = 1.0) -> None:
        self.directory = Path(cassettes)
        if not self.directory.is_dir():
            raise BackendUnavailable(f"no cassette folder at {self.directory} (record one with --backend proxy --record DIR)")
        if speed < 0:
            raise ValueError("the replay speed must be 0 (as fast as possible) or more")
        self.speed = speed
        self.model = ModelEntry("replay", f"replay of {self.directory}", "2026-11-25T00:00:00Z", 128_000, 1_000_000)
        self.tapes: dict[str, list[Tape]] = {}
        self.loaded: set[Path] = set()
        self.served: Counter[str] = Counter()
        self.load()

    def __repr__(self) -> str:
        return f"ReplayBackend({str(self.directory)!r}, {sum(map(len, self.tapes.values()))} cassettes)"

    def load(self) -> None:
        """Reads cassettes not yet seen (a folder can grow while the server runs)."""
        for path in sorted(self.directory.glob("*.json")):
            if path in self.loaded:
                continue
            try:
                tape = Tape.load(path)
            except (ValueError, KeyError, TypeError) as exc:
                log.warning("skipping %s: %s", path.name, exc)
                continue
            self.loaded.add(path)
            digest = key_digest(request_key(tape.method, tape.target, tape.request_headers, tape.body))
            self.tapes.setdefault(digest, []).append(tape)
            self.tapes[digest].sort(key=lambda t: t.sequence)

    async def aclose(self) -> None:
        pass

    async def forward(self, call: Call) -> Reply:
        key = request_key(call.method, call.target, call.headers, call.body)
        digest = key_digest(key)
        if digest not in self.tapes:
            self.load()
        tapes = self.tapes.get(digest)
        if not tapes:
            shown = canonical(key)
            shown = shown if len(shown) <= 600 else shown[:600] + "…"
            raise APIErrorResponse(
                404,
                f"no cassette in {self.directory} matches {call.method} {call.target.split('?')[0]} (key {digest}): {shown}. "
                f"Record one with: claudewire serve --backend proxy --record {self.directory}",
                type="not_found_error",
            )
        tape = tapes[min(self.served[digest], len(tapes) - 1)]
        self.served[digest] += 1
        if self.speed and tape.headers_after > 0:
            await asyncio.sleep(tape.headers_after / self.speed)
        return Reply(tape.status, list(tape.headers), self._chunks(tape), _nothing)

    async def _chunks(self, tape: Tape) -> AsyncIterator[bytes]:
        start = time.monotonic()
        for at, chunk in tape.chunks:
            if self.speed:
                wait = start + at / self.speed - time.monotonic()
                if wait > 0:
                    await asyncio.sleep(wait)
            yield chunk
        if tape.broken is not None:
            raise UpstreamBroke(tape.broken)


async def _nothing() -> None:
    pass
