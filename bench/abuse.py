"""The hardening goals, measured against a real ``claudewire serve --backend scripted``.

    python bench/abuse.py [--connections 1000] [--header-timeout 10]

- slowloris and idle connections: how many the server closed, and when;
- one abusive request at a time (the longest stop sequences allowed, a valid 30 MB body,
  a body trickled in small pieces, JSON nested 100,000 deep, 40 slow readers of long
  replies) while another client polls ``GET /v1/models``: that client's p50/p99;
- the server's peak memory (VmHWM) for a maximum-size request, against the body size;
- in process: reading the snapshot after every delta of a 16 MB text stream, against not
  reading it; the memory of a line trickled one byte per chunk.

The server runs in its own process; the pollers and abusers in this one (threads). The
machine is shared, so the latencies are what this machine gave under that load.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import selectors
import socket
import statistics
import subprocess
import sys
import threading
import time
import tracemalloc
from pathlib import Path

import httpx2

SRC = Path(__file__).resolve().parent.parent / "src"
sys.path.insert(0, str(SRC))
HEADERS = {"anthropic-version": "2023-06-01", "content-type": "application/json", "x-api-key": "k"}
RAW_HEAD = b"POST /v1/messages HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\nanthropic-version: 2023-06-01\r\nx-api-key: k\r\n"


class Served:
    def __init__(self, *args: str) -> None:
        self.proc = subprocess.Popen([sys.executable, "-m", "claudewire.cli", "serve", "--backend", "scripted", "--port", "0",
                                      "--log-level", "warning", *args], stderr=subprocess.PIPE, text=True,
                                     env={**os.environ, "PYTHONPATH": str(SRC)})
        self.port = int(re.search(r":(\d+)\s*$", self.proc.stderr.readline().strip()).group(1))
        threading.Thread(target=self.proc.stderr.read, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.port}"

    def memory(self, field: str) -> int:
        status = Path(f"/proc/{self.proc.pid}/status").read_text()
        return int(re.search(rf"{field}:\s+(\d+) kB", status).group(1)) * 1024

    def cpu_seconds(self) -> float:
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime

    def close(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)


def closed_within(socks: list[socket.socket], limit: float, started: float) -> dict[socket.socket, float]:
    """For each socket the server closed within ``limit`` s of ``started``: when, after ``started``."""
    waiting, closed = len(socks), {}
    with selectors.DefaultSelector() as selector:  # epoll: no 1,024-descriptor ceiling
        for sock in socks:
            selector.register(sock, selectors.EVENT_READ)
        while waiting and time.monotonic() - started < limit:
            for key, _ in selector.select(0.1):
                try:
                    chunk = key.fileobj.recv(65536)  # type: ignore[union-attr]
                except OSError:
                    chunk = b""
                if not chunk:
                    selector.unregister(key.fileobj)
                    waiting -= 1
                    closed[key.fileobj] = time.monotonic() - started
    return closed


def slow_connections(count: int, header_timeout: float) -> None:
    served = Served("--header-timeout", str(header_timeout), "--limit-concurrency", str(4 * count))
    try:
        opened = time.monotonic()
        idle = [socket.create_connection(("127.0.0.1", served.port)) for _ in range(count)]
        slow = [socket.create_connection(("127.0.0.1", served.port)) for _ in range(count)]
        for sock in slow:
            sock.sendall(RAW_HEAD)
        setup = time.monotonic() - opened
        stop = threading.Event()

        def trickle() -> None:  # one more header byte per connection every second, as slowloris does
            while not stop.wait(1.0):
                for sock in slow:
                    try:
                        sock.sendall(b"x")
                    except OSError:
                        pass

        threading.Thread(target=trickle, daemon=True).start()
        closed = closed_within(idle + slow, header_timeout * 3, opened)
        stop.set()
        print(f"slowloris/idle (header timeout {header_timeout:g} s, {count} of each, all opened within {setup:.1f} s):")
        for name, group in (("idle", idle), ("slowloris", slow)):
            times = [closed[sock] for sock in group if sock in closed]
            within = sum(t <= header_timeout + setup + 1.0 for t in times)
            print(f"  {name}: {len(times)}/{count} closed, {within} within the timeout (+1 s); "
                  f"first {min(times, default=float('nan')):.1f} s, last {max(times, default=float('nan')):.1f} s after the first was opened")
        for sock in idle + slow:
            sock.close()
    finally:
        served.close()


POLLER = r"""
import json, sys, threading, time, httpx2
stop = threading.Event()
threading.Thread(target=lambda: (sys.stdin.read(), stop.set()), daemon=True).start()
times = []
with httpx2.Client(base_url=sys.argv[1], headers={"anthropic-version": "2023-06-01"}, timeout=60) as http:
    http.get("/v1/models")
    print("ready", flush=True)
    while not stop.is_set():
        started = time.perf_counter()
        http.get("/v1/models")
        times.append(time.perf_counter() - started)
        time.sleep(0.005)
print(json.dumps(times), flush=True)
"""


class Poller:
    """Another client, in its own process (so nothing here can delay it): ``GET /v1/models``
    in a loop, recording each latency."""

    def __init__(self, url: str) -> None:
        self.url, self.times = url, []

    def __enter__(self) -> Poller:
        self.proc = subprocess.Popen([sys.executable, "-c", POLLER, self.url], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self.proc.stdout.readline()
        return self

    def __exit__(self, *exc: object) -> None:
        out, _ = self.proc.communicate("", timeout=120)
        self.times = json.loads(out.strip().splitlines()[-1])

    def summary(self) -> str:
        times = sorted(self.times)
        if not times:
            return "answered before another client's first poll"
        p99 = times[min(len(times) - 1, int(len(times) * 0.99))]
        return f"p50 {statistics.median(times) * 1000:.1f} ms, p99 {p99 * 1000:.1f} ms, max {times[-1] * 1000:.0f} ms ({len(times)} polls)"


def body_with(text_chars: int, **extra: object) -> bytes:
    words = ("lorem ipsum dolor sit amet " * (text_chars // 27 + 1))[:text_chars]
    return json.dumps({"model": "claude-sonnet-4-6", "max_tokens": 128_000, "stream": True,
                       "messages": [{"role": "user", "content": words}], **extra}).encode()


def send_raw(port: int, body: bytes, piece: int = 0, pause: float = 0.0) -> bytes:
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.sendall(RAW_HEAD + b"content-length: %d\r\nconnection: close\r\n\r\n" % len(body))
        if piece:
            for at in range(0, len(body), piece):
                sock.sendall(body[at : at + piece])
                if pause:
                    time.sleep(pause)
        else:
            sock.sendall(body)
        head = sock.recv(1 << 16)
        while sock.recv(1 << 20):
            pass
        return head


def slow_reader(port: int, body: bytes, seconds: float) -> None:
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.sendall(RAW_HEAD + b"content-length: %d\r\nconnection: close\r\n\r\n" % len(body) + body)
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline and sock.recv(512):
            time.sleep(0.05)


def abusive_requests() -> None:
    served = Served()
    try:
        print("other clients' GET /v1/models while one abusive request runs:")
        with Poller(served.url) as quiet:
            time.sleep(5)
        print(f"  (no abuse): {quiet.summary()}")
        stops = ["x" * 60 + "%04d" % i for i in range(1000)]  # near the limits: 1,000 sequences, 64,000 characters
        cases = [
            ("1.5 MB text, 1,000 stop sequences (the limits)", lambda: send_raw(served.port, body_with(1_500_000, stop_sequences=stops))),
            ("800,000-character stop sequence (refused: 400)", lambda: send_raw(served.port, body_with(1_500_000, stop_sequences=["x" * 800_000]))),
            ("valid 30 MB body, streamed back", lambda: send_raw(served.port, body_with(30_000_000))),
            ("8 MB body in 1-byte pieces", lambda: send_raw(served.port, body_with(8_000_000), piece=1)),
            ("JSON nested 100,000 deep", lambda: send_raw(served.port, b'{"metadata": ' + b"[" * 100_000 + b"]" * 100_000 + b"}")),
        ]
        for name, run in cases:
            with Poller(served.url) as poller:
                cpu = served.cpu_seconds()
                started = time.perf_counter()
                answer = run()
                took = time.perf_counter() - started
                cpu = served.cpu_seconds() - cpu
            status = answer.split(b" ", 2)[1].decode() if answer else "closed"
            print(f"  {name}: {status} in {took:.1f} s, server CPU {cpu:.1f} s (polls included); {poller.summary()}")
        rss_before = served.memory("VmRSS")
        long_reply = body_with(2_000_000)
        with Poller(served.url) as poller:
            readers = [threading.Thread(target=slow_reader, args=(served.port, long_reply, 8.0)) for _ in range(40)]
            for reader in readers:
                reader.start()
            time.sleep(6)
            rss_during = served.memory("VmRSS")
            for reader in readers:
                reader.join()
        print(f"  40 slow readers of 2 MB replies: {poller.summary()}; server RSS {rss_before / 2**20:.0f} -> {rss_during / 2**20:.0f} MB")
    finally:
        served.close()


def peak_memory() -> None:
    body = body_with(32 * 1024 * 1024 - 300)
    served = Served()
    try:
        httpx2.post(served.url + "/v1/messages", content=body_with(1000), headers=HEADERS)  # warm up
        before = served.memory("VmHWM")
        rss = served.memory("VmRSS")
        answer = send_raw(served.port, body)
        peak = served.memory("VmHWM")
        print(f"peak memory for a {len(body) / 2**20:.1f} MiB request ({answer.split(b' ', 2)[1].decode()}, reply streamed): "
              f"RSS {rss / 2**20:.0f} MiB before, peak {peak / 2**20:.0f} MiB (was {before / 2**20:.0f}): "
              f"+{(peak - rss) / 2**20:.0f} MiB = {(peak - rss) / len(body):.2f}x the body")
    finally:
        served.close()


def snapshot_cost() -> None:
    from claudewire.protocol import EventStreamParser

    frag = "lorem ipsum dolor sit"
    delta = ("event: content_block_delta\ndata: " + json.dumps({"type": "content_block_delta", "index": 0,
             "delta": {"type": "text_delta", "text": frag}}) + "\n\n").encode()
    head = (b'event: message_start\ndata: {"type":"message_start","message":{"id":"m","type":"message","role":"assistant",'
            b'"model":"x","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":1,"output_tokens":1}}}\n\n'
            b'event: content_block_start\ndata: {"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}\n\n')
    body = head + delta * (16_000_000 // len(frag))

    def run(read: str) -> float:
        parser = EventStreamParser()
        started = time.perf_counter()
        for at in range(0, len(body), 1 << 16):
            for event in parser.iter_events(body[at : at + (1 << 16)]):
                if event.type == "text":
                    if read == "event.snapshot":
                        len(event.snapshot)
                    elif read == "message snapshot":
                        len(parser.message.content[0].text)
        return time.perf_counter() - started

    times = {read: [] for read in ("nothing", "event.snapshot", "message snapshot")}
    for _ in range(2):  # alternating, side by side
        for read in times:
            times[read].append(run(read))
    base = min(times["nothing"])
    print("16 MB of text deltas (761,904 deltas), reading after every delta: " + ", ".join(
        f"{read} {min(t):.2f} s ({min(t) / base:.2f}x)" for read, t in times.items()))
    parser = EventStreamParser()
    line = b"data: " + b"x" * 1_000_000
    tracemalloc.start()
    for i in range(len(line)):
        parser.feed(line[i : i + 1])
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    print(f"a 1 MB line fed one byte per chunk: peak {peak / len(line):.2f} bytes of Python memory per byte")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--connections", type=int, default=1000)
    parser.add_argument("--header-timeout", type=float, default=10.0)
    parser.add_argument("--only", choices=["slow", "abuse", "memory", "snapshot"])
    args = parser.parse_args()
    if args.only in (None, "snapshot"):
        snapshot_cost()
    if args.only in (None, "memory"):
        peak_memory()
    if args.only in (None, "slow"):
        slow_connections(args.connections, args.header_timeout)
    if args.only in (None, "abuse"):
        abusive_requests()


if __name__ == "__main__":
    main()
