"""The server under load with the scripted backend (``claudewire serve`` in a subprocess).

    python bench/server_scripted.py [--streams N]

1. One stream of 20,000 deltas: events/s the server sends.
2. N concurrent streams (default 1,000), each 50 deltas paced 20 ms apart (so all are open
   at once for about a second): total events/s and p50/p99 time to first byte.
The client side is raw asyncio sockets, so it costs as little as possible.
"""

from __future__ import annotations

import asyncio
import json
import resource
import socket
import statistics
import subprocess
import sys
import time

WORDS = 50


def request(port: int, text: str, headers: dict[str, str]) -> bytes:
    body = json.dumps({"model": "claude-sonnet-4-6", "max_tokens": 100_000, "stream": True,
                       "messages": [{"role": "user", "content": text}]}).encode()
    extra = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    return (f"POST /v1/messages HTTP/1.1\r\nhost: 127.0.0.1:{port}\r\ncontent-type: application/json\r\n"
            f"anthropic-version: 2023-06-01\r\nx-api-key: bench\r\nconnection: close\r\n{extra}"
            f"content-length: {len(body)}\r\n\r\n").encode() + body


async def one_stream(port: int, text: str, headers: dict[str, str]) -> tuple[float, float, int]:
    start = time.perf_counter()
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(request(port, text, headers))
    await writer.drain()
    first = None
    data = bytearray()
    while chunk := await reader.read(65536):
        if first is None:
            first = time.perf_counter() - start
        data += chunk
    writer.close()
    assert b"event: message_stop" in data, data[:300]
    return first or 0.0, time.perf_counter() - start, data.count(b"\n\n") - 1  # minus the header block


async def main(streams: int) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 65536), hard))
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    server = subprocess.Popen([sys.executable, "-m", "claudewire.cli", "serve", "--backend", "scripted", "--faults",
                               "--port", str(port), "--log-level", "warning"], stderr=subprocess.PIPE, text=True)
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.1).close()
                break
            except OSError:
                time.sleep(0.1)
        big = " ".join(f"w{i}" for i in range(20_000))
        await one_stream(port, "warm up", {})
        _, elapsed, events = await one_stream(port, big, {})
        print(f"one stream: {events:,} events in {elapsed:.2f} s = {events / elapsed:,.0f} events/s")
        words = " ".join(f"w{i}" for i in range(WORDS))
        start = time.perf_counter()
        results = await asyncio.gather(*(one_stream(port, f"{i} {words}", {"x-claudewire-delay-ms": "20"}) for i in range(streams)))
        wall = time.perf_counter() - start
        ttfb = sorted(r[0] for r in results)
        total = sum(r[2] for r in results)
        print(f"{streams} concurrent streams: all completed in {wall:.2f} s; {total:,} events = {total / wall:,.0f} events/s")
        print(f"time to first byte: p50 {statistics.median(ttfb) * 1000:.0f} ms, p99 {ttfb[int(len(ttfb) * 0.99) - 1] * 1000:.0f} ms")
    finally:
        server.terminate()
        server.wait(10)


if __name__ == "__main__":
    n = int(sys.argv[sys.argv.index("--streams") + 1]) if "--streams" in sys.argv else 1000
    asyncio.run(main(n))
