"""What the access log and metrics cost a stream: the same server with and without them.

    python bench/observability.py [--deltas 20000] [--runs 3]

Two real uvicorn servers on loopback (scripted backend) differ only in the observing middleware
(``server/observability/``), which decodes every outgoing SSE event. One client reads a stream of
N deltas from each, alternating, and the ratio of events/s is reported. Then the middleware's
own work is timed alone: the captured body fed to a ``RequestRecord`` event by event, as the
ASGI sends arrive.
"""

from __future__ import annotations

import argparse
import time

import httpx2

from claudewire.server.app import create_app
from claudewire.server.backends.scripted import ScriptedBackend
from claudewire.server.observability.record import RequestRecord
from claudewire.server.run import ServerThread


def events_per_second(url: str, deltas: int) -> float:
    body = {"model": "claude-sonnet-4-6", "max_tokens": 100_000, "stream": True,
            "messages": [{"role": "user", "content": " ".join(["w"] * deltas)}]}
    headers = {"anthropic-version": "2023-06-01"}
    start = time.perf_counter()
    with httpx2.stream("POST", url + "/v1/messages", json=body, headers=headers, timeout=120) as response:
        events = sum(chunk.count(b"\n\n") for chunk in response.iter_bytes())
    return events / (time.perf_counter() - start)


def record_cost(url: str, deltas: int) -> tuple[float, int]:
    """Microseconds of RequestRecord work per event, on a real body split at its events."""
    body = {"model": "claude-sonnet-4-6", "max_tokens": 100_000, "stream": True,
            "messages": [{"role": "user", "content": " ".join(["w"] * deltas)}]}
    raw = httpx2.post(url + "/v1/messages", json=body, headers={"anthropic-version": "2023-06-01"}, timeout=120).content
    chunks = [part + b"\n\n" for part in raw.split(b"\n\n") if part]
    start_message = {"status": 200, "headers": [(b"content-type", b"text/event-stream; charset=utf-8")]}
    best = float("inf")
    for _ in range(5):
        record = RequestRecord({"method": "POST", "path": "/v1/messages"})
        record.response_start(start_message)
        began = time.perf_counter()
        for chunk in chunks:
            record.body(chunk)
        record.finish()
        best = min(best, time.perf_counter() - began)
        assert record.outcome == "completed" and record.output_tokens == deltas
    return best / len(chunks) * 1e6, len(chunks)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--deltas", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    bare = create_app(ScriptedBackend())
    bare.user_middleware.clear()  # built lazily on the first request: this app has no observer
    with ServerThread(ScriptedBackend()) as observed, ServerThread(app=bare) as plain:
        events_per_second(observed.base_url, 100), events_per_second(plain.base_url, 100)  # warm up
        with_it, without = [], []
        for _ in range(args.runs):
            with_it.append(events_per_second(observed.base_url, args.deltas))
            without.append(events_per_second(plain.base_url, args.deltas))
        cost, events = record_cost(plain.base_url, args.deltas)
    best_with, best_without = max(with_it), max(without)
    print(f"{args.deltas} deltas, best of {args.runs}, alternating")
    print(f"without the middleware: {best_without:,.0f} events/s")
    print(f"with access log and metrics: {best_with:,.0f} events/s ({best_without / best_with:.2f}x the time)")
    print(f"the record alone: {cost:.2f} µs per event ({events} events), {cost * best_without / 1e6:.1%} of a bare event's time")


if __name__ == "__main__":
    main()

