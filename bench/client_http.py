"""The client over real HTTP on loopback: official SDK vs claudewire (sync and async) vs the floor.

    python bench/client_http.py [--quick] [--full]

One body server (a subprocess, so serving costs nothing here) sends the core benchmark's
bodies; each runner reads the same bytes over the same loopback. Also reports peak Python
memory per stream (tracemalloc) against the message size.
"""

from __future__ import annotations

import asyncio
import json
import socket
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "src"))

import anthropic  # noqa: E402
import httpx2  # noqa: E402

import claudewire  # noqa: E402

PARAMS = dict(model="claude-sonnet-4-6", max_tokens=64000, messages=[{"role": "user", "content": "x"}])


def floor(base: str) -> int:
    n = 0
    with httpx2.Client(timeout=120) as http, http.stream("POST", base + "/v1/messages", content=b"{}") as response:
        rest = b""
        for chunk in response.iter_raw():
            lines = (rest + chunk).split(b"\n")
            rest = lines.pop()
            for line in lines:
                if line.startswith(b"data:"):
                    json.loads(line[5:])
                    n += 1
    return n


def sdk(base: str) -> int:
    client = anthropic.Anthropic(base_url=base, api_key="bench", max_retries=0)
    with client.messages.stream(**PARAMS) as stream:
        n = sum(1 for _ in stream)
        stream.get_final_message()
    return n


def ours_sync(base: str) -> int:
    client = claudewire.Anthropic(base_url=base, api_key="bench", max_retries=0)
    with client.messages.stream(**PARAMS) as stream:
        n = sum(1 for _ in stream)
        stream.get_final_message()
    client.close()
    return n


def ours_async(base: str) -> int:
    async def run() -> int:
        client = claudewire.AsyncAnthropic(base_url=base, api_key="bench", max_retries=0)
        n = 0
        async with client.messages.stream(**PARAMS) as stream:
            async for _ in stream:
                n += 1
            await stream.get_final_message()
        await client.close()
        return n

    return asyncio.run(run())


def best(fn, base: str, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn(base)
        times.append(time.perf_counter() - t0)
    return min(times)


def peak_memory(base: str) -> int:
    tracemalloc.start()
    ours_sync(base)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak


def main() -> None:
    quick, full = "--quick" in sys.argv, "--full" in sys.argv
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    server = subprocess.Popen([sys.executable, str(HERE / "body_server.py"), str(port)], stdout=subprocess.PIPE, text=True)
    try:
        assert server.stdout.readline().strip() == "ready"
        print(f"{'body':8} {'runner':22} {'events/s':>12} {'x floor':>8} {'x SDK speed':>12}")
        for kind, repeat in (("text", 5), ("tool3", 3), ("tool12", 1 if quick else 2)):
            base = f"http://127.0.0.1:{port}/bodies/{kind}"
            events = floor(base)
            base_time = best(floor, base, repeat)
            runners = [("floor", floor), ("claudewire sync", ours_sync), ("claudewire async", ours_async)]
            if kind != "tool12" or full:
                runners.append(("anthropic SDK", sdk))
            results = {}
            for label, fn in runners:
                results[label] = base_time if fn is floor else best(fn, base, 1 if fn is sdk else repeat)
            for label, t in results.items():
                vs_sdk = f"{results['anthropic SDK'] / t:12.1f}" if "anthropic SDK" in results else f"{'-':>12}"
                print(f"{kind:8} {label:22} {events / t:12,.0f} {t / base_time:8.2f} {vs_sdk}")
            body_size = len(httpx2.post(base + "/v1/messages", content=b"{}", timeout=60).content)
            print(f"{kind:8} {'peak memory':22} {peak_memory(base) / 1e6:10.1f} MB for a {body_size / 1e6:.1f} MB body")
    finally:
        server.kill()


if __name__ == "__main__":
    main()
