"""Protocol-core throughput against the floor and the official SDK, in one process.

    python bench/core.py [--quick] [--full]

(a) floor: split the body into lines and json-decode each data line; (b) the official
``anthropic`` SDK's ``messages.stream()`` over ``httpx2.MockTransport``; (c) claudewire's
``EventStreamParser``. Same bodies, same 16 KiB chunks; events/s and the ratio of each
one's time to the floor's.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from bodies import chunked, count_events, text_body, tool_body  # noqa: E402

from claudewire.protocol import EventStreamParser  # noqa: E402


def floor(chunks: list[bytes]) -> int:
    """The least any client must do: split lines, decode the JSON of each data line."""
    n = 0
    rest = b""
    loads = json.loads
    for chunk in chunks:
        lines = (rest + chunk).split(b"\n")
        rest = lines.pop()
        for line in lines:
            if line.startswith(b"data:"):
                loads(line[5:])
                n += 1
    return n


def claudewire_core(chunks: list[bytes]) -> int:
    parser = EventStreamParser()
    n = 0
    for chunk in chunks:
        n += len(parser.feed(chunk))
    parser.close()
    message = parser.message
    assert message is not None and message.stop_reason is not None
    return n


def official_sdk(chunks: list[bytes]) -> int:
    import anthropic
    import httpx2

    def handler(request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(200, headers={"content-type": "text/event-stream"}, content=iter(chunks))

    client = anthropic.Anthropic(api_key="bench", http_client=httpx2.Client(transport=httpx2.MockTransport(handler)))
    n = 0
    with client.messages.stream(model="claude-sonnet-4-6", max_tokens=64000, messages=[{"role": "user", "content": "x"}]) as stream:
        for _ in stream:
            n += 1
        stream.get_final_message()
    return n


def timed(fn, chunks: list[bytes], repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn(chunks)
        best = min(best, time.perf_counter() - t0)
    return best


def main() -> None:
    quick = "--quick" in sys.argv
    full = "--full" in sys.argv  # the SDK on 12 MB: quadratic, about 20 minutes here
    cases = [
        ("text, 20,000 deltas", text_body(20_000), 5),
        ("tool input 3 MB / 20,000 fragments", tool_body(3_000_000, 20_000), 3),
        ("tool input 12 MB / 80,000 fragments", tool_body(12_000_000, 80_000), 1 if quick else 2),
    ]
    print(f"{'body':40} {'runner':16} {'events/s':>12} {'x floor':>8}")
    for name, body, repeat in cases:
        chunks = chunked(body)
        events = count_events(body)
        base = timed(floor, chunks, repeat)
        runners = [("floor", floor), ("claudewire", claudewire_core)]
        if "12 MB" not in name or full:
            runners.append(("anthropic SDK", official_sdk))
        for label, fn in runners:
            t = base if fn is floor else timed(fn, chunks, 1 if fn is official_sdk else repeat)
            print(f"{name:40} {label:16} {events / t:12,.0f} {t / base:8.2f}")


if __name__ == "__main__":
    main()
