"""Fault injection (only with ``--faults``), driven by request headers.

``x-claudewire-fault``: ``overloaded`` | ``rate_limit`` (before the stream),
``error_after=N`` | ``disconnect_after=N`` | ``stall_after=N; seconds=S`` (after N deltas),
each optionally with ``; times=N`` and an ``x-claudewire-fault-id`` header so only the
first N requests with that id fail. ``x-claudewire-delay-ms: D`` paces the deltas.

Bounded, so a header cannot pin the server: a delay is at most ``MAX_DELAY_SECONDS`` per
delta, a stall at most ``MAX_STALL_SECONDS`` (more is a 400), and only the
``MAX_FAULT_IDS`` most recently used fault ids are remembered.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from .errors import APIErrorResponse, invalid

CUT = {"type": "__cut__"}  # a sentinel event: end the body here, with nothing more
KINDS = ("overloaded", "rate_limit", "error_after", "disconnect_after", "stall_after")
MAX_DELAY_SECONDS = 10.0
MAX_STALL_SECONDS = 600.0
MAX_FAULT_IDS = 10_000


@dataclass(frozen=True, slots=True)
class Fault:
    kind: str
    after: int = 0
    seconds: float = 0.0
    times: int | None = None


def parse_fault(value: str) -> Fault:
    parts = [p.strip() for p in value.split(";") if p.strip()]
    if not parts:
        raise invalid("x-claudewire-fault: empty value")
    head, *options = parts
    kind, _, number = head.partition("=")
    kind = kind.strip()
    if kind not in KINDS:
        raise invalid(f"x-claudewire-fault: unknown fault {kind!r}; expected one of: {', '.join(KINDS)}")
    fields: dict[str, Any] = {}
    try:
        if kind in ("error_after", "disconnect_after", "stall_after"):
            fields["after"] = int(number)
        elif number:
            raise ValueError(number)
        for option in options:
            name, _, raw = option.partition("=")
            name = name.strip()
            if name == "times":
                fields["times"] = int(raw)
            elif name == "seconds" and kind == "stall_after":
                fields["seconds"] = float(raw)
            else:
                raise invalid(f"x-claudewire-fault: unknown option {name!r} for {kind}")
    except ValueError:
        raise invalid(f"x-claudewire-fault: bad number in {value!r}") from None
    seconds = fields.get("seconds", 0.0)
    if not 0 <= seconds <= MAX_STALL_SECONDS:  # also refuses nan
        raise invalid(f"x-claudewire-fault: seconds must be between 0 and {MAX_STALL_SECONDS:g}")
    if fields.get("after", 0) < 0 or fields.get("times", 0) < 0:
        raise invalid(f"x-claudewire-fault: counts may not be negative in {value!r}")
    return Fault(kind, **fields)


class FaultPlan:
    """Decides, per request, which fault applies; remembers ``times`` per fault id."""

    def __init__(self, max_ids: int = MAX_FAULT_IDS) -> None:
        self.seen: OrderedDict[str, int] = OrderedDict()  # least recently used first
        self.max_ids = max_ids

    def select(self, headers: Any) -> tuple[Fault | None, float]:
        raw = headers.get("x-claudewire-fault")
        delay_raw = headers.get("x-claudewire-delay-ms")
        try:
            delay = float(delay_raw) / 1000 if delay_raw else 0.0
        except ValueError:
            raise invalid(f"x-claudewire-delay-ms: not a number: {delay_raw!r}") from None
        if not 0 <= delay <= MAX_DELAY_SECONDS:  # also refuses nan
            raise invalid(f"x-claudewire-delay-ms: must be between 0 and {MAX_DELAY_SECONDS * 1000:g}")
        if not raw:
            return None, delay
        fault = parse_fault(raw)
        if fault.times is not None:
            fault_id = headers.get("x-claudewire-fault-id")
            if fault_id is not None:
                count = self.seen.pop(fault_id, 0) + 1
                self.seen[fault_id] = count
                if len(self.seen) > self.max_ids:
                    self.seen.popitem(last=False)
                if count > fault.times:
                    return None, delay
        return fault, delay


def raise_before_stream(fault: Fault | None) -> None:
    if fault is None:
        return
    if fault.kind == "overloaded":
        raise APIErrorResponse(529, "Overloaded")
    if fault.kind == "rate_limit":
        raise APIErrorResponse(429, "Number of request tokens has exceeded your per-minute rate limit", headers={"retry-after": "1"})


async def inject(events: AsyncIterator[dict[str, Any]], fault: Fault | None, delay: float) -> AsyncIterator[dict[str, Any]]:
    """Pass the events on, breaking them as the fault says after ``fault.after`` deltas."""
    deltas = 0
    try:
        async for event in events:
            if event["type"] == "content_block_delta":
                if fault is not None and deltas == fault.after:
                    if fault.kind == "error_after":
                        yield {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}
                        return
                    if fault.kind == "disconnect_after":
                        yield CUT
                        return
                    if fault.kind == "stall_after":
                        await asyncio.sleep(fault.seconds)
                if delay and deltas:
                    await asyncio.sleep(delay)
                deltas += 1
            yield event
    finally:
        await events.aclose()  # type: ignore[attr-defined]
