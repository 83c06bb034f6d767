"""The resumable-stream relay against the plain path (``claudewire serve`` in subprocesses).

    python bench/relay.py [--rounds N] [--resumes N]

1. One stream of 20,000 deltas, plain and resumable (memory store, Redis store), in
   alternating rounds; events/s (median of the rounds) and the resumable/plain ratio.
2. Time from reconnect to the first replayed event: N GETs with a random Last-Event-ID on a
   new connection each, for each store; p50 and p99.
3. Memory per stored event: the memory store (tracemalloc, 20,000 real frames) and Redis
   (``used_memory`` before and after a 20,000-event stream).
The client side is raw asyncio sockets, so it costs as little as possible.
"""

from __future__ import annotations

import asyncio
import random
import shutil
import socket
import statistics
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from server_scripted import request as post  # noqa: E402  (bench/ is the script's folder)

DELTAS = 20_000


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(port: int) -> None:
    for _ in range(300):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing listens on {port}")


def get(stream_id: str, after: int) -> bytes:
    return (f"GET /v1/messages/streams/{stream_id} HTTP/1.1\r\nhost: 127.0.0.1\r\nanthropic-version: 2023-06-01\r\n"
            f"x-api-key: bench\r\nlast-event-id: {after}\r\nconnection: close\r\n\r\n").encode()


async def exchange(port: int, request: bytes, *, first_event_only: bool = False) -> tuple[float, float, bytes]:
    """(seconds to the first event, seconds to the end, the whole response)."""
    start = time.perf_counter()
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(request)
    await writer.drain()
    data = bytearray()
    first = 0.0
    while chunk := await reader.read(65536):
        data += chunk
        if not first and b"\nevent: " in data:
            first = time.perf_counter() - start
            if first_event_only:
                break
    writer.close()
    return first, time.perf_counter() - start, bytes(data)


def serve(*args: str) -> tuple[subprocess.Popen, int]:
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "claudewire.cli", "serve", "--backend", "scripted", "--port", str(port),
                                "--log-level", "warning", *args], stderr=subprocess.DEVNULL)
    wait_for(port)
    return process, port


async def throughput(ports: dict[str, int], rounds: int) -> dict[str, float]:
    big = " ".join(f"w{i}" for i in range(DELTAS))
    rates: dict[str, list[float]] = {name: [] for name in ports}
    for port in ports.values():  # warm up
        await exchange(port, post(port, "warm up", {"x-claudewire-resumable": "true"}))
    for _ in range(rounds):
        for name, port in ports.items():
            headers = {} if name == "plain" else {"x-claudewire-resumable": "true"}
            _, elapsed, data = await exchange(port, post(port, big, headers))
            assert b'event: message_stop' in data[-300:], data[-300:]
            rates[name].append(data.count(b"event: ") / elapsed)
    return {name: statistics.median(values) for name, values in rates.items()}


async def resume_latency(port: int, resumes: int) -> tuple[float, float]:
    _, _, data = await exchange(port, post(port, " ".join(f"w{i}" for i in range(200)), {"x-claudewire-resumable": "true"}))
    head = data.split(b"\r\n\r\n", 1)[0].decode()
    stream_id = next(line.split(": ", 1)[1] for line in head.split("\r\n") if line.lower().startswith("x-claudewire-stream-id"))
    events = data.count(b"event: ")
    times = []
    for _ in range(resumes):
        first, _, _ = await exchange(port, get(stream_id, random.randrange(events - 1)), first_event_only=True)
        times.append(first)
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.99) - 1]


async def memory_store_bytes_per_event() -> float:
    from claudewire.server.relay.log import event_frame
    from claudewire.server.relay.memory import MemoryStore

    store = MemoryStore(resume_ttl=300, max_bytes=1 << 40)
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    await store.create("strm_bench", "owner")
    frames = [event_frame(n, {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": f" w{n}"}})
              for n in range(1, DELTAS + 1)]
    for i in range(0, DELTAS, 50):
        await store.append("strm_bench", frames[i : i + 50])
    used = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    return used / DELTAS


def redis_info(port: int) -> int:
    out = subprocess.run(["redis-cli", "-p", str(port), "info", "memory"], capture_output=True, text=True).stdout
    return int(next(line.split(":")[1] for line in out.splitlines() if line.startswith("used_memory:")))


async def main(rounds: int, resumes: int) -> None:
    redis_port = free_port()
    redis = subprocess.Popen([shutil.which("redis-server") or "redis-server", "--port", str(redis_port), "--save", "",
                              "--appendonly", "no"], stdout=subprocess.DEVNULL)
    wait_for(redis_port)
    servers = {"plain": serve(), "memory": serve(), "redis": serve("--store", f"redis://127.0.0.1:{redis_port}/0")}
    try:
        ports = {name: port for name, (_, port) in servers.items()}
        rates = await throughput(ports, rounds)
        print(f"one stream of {DELTAS:,} deltas, median of {rounds} alternating rounds:")
        for name, rate in rates.items():
            print(f"  {name:7s} {rate:10,.0f} events/s   {rate / rates['plain']:.2f} × plain")
        for name in ("memory", "redis"):
            p50, p99 = await resume_latency(ports[name], resumes)
            print(f"reconnect to first replayed event, {name} store, {resumes} resumes on new connections: "
                  f"p50 {p50 * 1000:.2f} ms, p99 {p99 * 1000:.2f} ms")
        print(f"memory store: {await memory_store_bytes_per_event():.0f} bytes per stored text delta (tracemalloc)")
        before = redis_info(redis_port)
        await exchange(ports["redis"], post(ports["redis"], " ".join(f"w{i}" for i in range(DELTAS)), {"x-claudewire-resumable": "true"}))
        print(f"redis store: {(redis_info(redis_port) - before) / (DELTAS + 6):.0f} bytes per stored event (used_memory)")
    finally:
        for process, _ in servers.values():
            process.terminate()
            process.wait(10)
        redis.terminate()
        redis.wait(10)


if __name__ == "__main__":
    args = sys.argv
    rounds = int(args[args.index("--rounds") + 1]) if "--rounds" in args else 5
    resumes = int(args[args.index("--resumes") + 1]) if "--resumes" in args else 1000
    asyncio.run(main(rounds, resumes))
