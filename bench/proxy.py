"""The proxy against talking to the upstream directly, and against nginx, in one run.

    python bench/proxy.py [--rounds 5]

Three paths to the same upstream, measured alternately round by round:
direct, through ``claudewire serve --backend proxy``, and through nginx (Debian's
package; ``proxy_buffering off``, HTTP/1.1 keep-alive to the upstream; its config is
written to a temporary folder). Each front runs one process (one nginx worker).

1. Throughput: one 20,000-delta stream from ``claudewire serve --backend scripted``,
   events/s as the client reads them (median over the rounds).
2. Added delay: a paced upstream (``timestamps``, below) writes each event's
   CLOCK_MONOTONIC send time into it; the client subtracts it from the arrival time.
   One paced stream of 300 events, 10 ms apart, per path per round (``--paced-streams N``
   runs N at once); p50 and p99 per path, and what the front adds on top of direct.
The clients are raw asyncio sockets, so they cost as little as possible.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from server_scripted import one_stream  # noqa: E402  (bench/ is the script's folder)

PACED_STREAMS, PACED_EVENTS, PACE = 1, 300, 0.010


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(port: int) -> None:
    for _ in range(200):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on {port}")


def serve(*args: str) -> tuple[subprocess.Popen, int]:
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "claudewire.cli", "serve", *args, "--port", str(port), "--log-level", "warning"],
                               stderr=subprocess.DEVNULL)
    wait_for(port)
    return process, port


def nginx(upstreams: dict[str, int], folder: Path) -> tuple[subprocess.Popen, dict[str, int]]:
    ports = {name: free_port() for name in upstreams}
    servers = "".join(f"""
    upstream {name} {{ server 127.0.0.1:{port}; keepalive 64; }}
    server {{
        listen 127.0.0.1:{ports[name]};
        location / {{
            proxy_pass http://{name};
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_buffering off;
            proxy_request_buffering off;
            proxy_read_timeout 600s;
        }}
    }}""" for name, port in upstreams.items())
    config = f"""
worker_processes 1;
daemon off;
pid {folder}/nginx.pid;
error_log {folder}/error.log warn;
{"user root;" if os.geteuid() == 0 else ""}
events {{ worker_connections 4096; }}
http {{
    access_log off;
    client_body_temp_path {folder}/body;
    proxy_temp_path {folder}/proxy;
    fastcgi_temp_path {folder}/fastcgi;
    uwsgi_temp_path {folder}/uwsgi;
    scgi_temp_path {folder}/scgi;
    {servers}
}}
"""
    (folder / "nginx.conf").write_text(config)
    process = subprocess.Popen([shutil.which("nginx") or "/usr/sbin/nginx", "-p", str(folder), "-c", str(folder / "nginx.conf")],
                               stderr=subprocess.DEVNULL)
    for port in ports.values():
        wait_for(port)
    return process, ports


# --- a paced upstream that stamps each event with its send time ---------------------------

def _event(kind: str, payload: dict) -> bytes:
    return f"event: {kind}\ndata: {json.dumps(payload, separators=(',', ':'))}\n\n".encode()


async def _timestamps_handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while True:  # keep-alive: one request after another
            head = await reader.readuntil(b"\r\n\r\n")
            length = next((int(line.split(b":")[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length:")), 0)
            await reader.readexactly(length)
            writer.write(b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream; charset=utf-8\r\ntransfer-encoding: chunked\r\n\r\n")
            start = _event("message_start", {"type": "message_start", "message": {"id": "msg_bench", "type": "message", "role": "assistant",
                           "model": "bench", "content": [], "stop_reason": None, "stop_sequence": None,
                           "usage": {"input_tokens": 1, "output_tokens": 1}}})
            for piece in (start, _event("content_block_start", {"type": "content_block_start", "index": 0,
                                                                "content_block": {"type": "text", "text": ""}})):
                writer.write(b"%x\r\n%s\r\n" % (len(piece), piece))
            next_at = time.monotonic()
            for _ in range(PACED_EVENTS):
                next_at += PACE
                await asyncio.sleep(max(0.0, next_at - time.monotonic()))
                piece = _event("content_block_delta", {"type": "content_block_delta", "index": 0,
                                                       "delta": {"type": "text_delta", "text": repr(time.monotonic())}})
                writer.write(b"%x\r\n%s\r\n" % (len(piece), piece))
                await writer.drain()
            for piece in (_event("content_block_stop", {"type": "content_block_stop", "index": 0}),
                          _event("message_stop", {"type": "message_stop"})):
                writer.write(b"%x\r\n%s\r\n" % (len(piece), piece))
            writer.write(b"0\r\n\r\n")
            await writer.drain()
            if b"connection: close" in head.lower():
                writer.close()
                return
    except (asyncio.IncompleteReadError, ConnectionError):
        writer.close()


def timestamps_server(port: int) -> None:
    async def main() -> None:
        server = await asyncio.start_server(_timestamps_handler, "127.0.0.1", port, backlog=1024)
        await server.serve_forever()

    asyncio.run(main())


async def paced_latencies(port: int) -> list[float]:
    """Arrival minus send time of every delta of PACED_STREAMS concurrent streams, in seconds."""

    async def one(i: int) -> list[float]:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        body = b'{"model":"bench","max_tokens":100,"stream":true,"messages":[{"role":"user","content":"hi"}]}'
        writer.write(b"POST /v1/messages HTTP/1.1\r\nhost: bench\r\ncontent-type: application/json\r\nanthropic-version: 2023-06-01\r\n"
                     b"connection: close\r\ncontent-length: %d\r\n\r\n%s" % (len(body), body))
        await writer.drain()
        out, buffer = [], b""
        while chunk := await reader.read(65536):
            now = time.monotonic()
            buffer += chunk
            *events, buffer = buffer.split(b"\n\n")
            for event in events:
                at = event.find(b'"text":"')
                if b"content_block_delta" in event and at >= 0:
                    out.append(now - float(event[at + 8 : event.index(b'"', at + 8)]))
        writer.close()
        return out

    results = await asyncio.gather(*(one(i) for i in range(PACED_STREAMS)))
    return [x for r in results for x in r]


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU time of these processes so far (Linux /proc)."""
    total = 0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / os.sysconf("SC_CLK_TCK")


def children(pid: int) -> list[int]:
    return [int(c) for t in Path(f"/proc/{pid}/task").iterdir() for c in (t / "children").read_text().split()]


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))]


async def main(rounds: int) -> None:
    import multiprocessing

    folder = Path(tempfile.mkdtemp(prefix="claudewire-bench-nginx-"))
    stamps_port = free_port()
    stamps = multiprocessing.Process(target=timestamps_server, args=(stamps_port,), daemon=True)
    stamps.start()
    wait_for(stamps_port)
    scripted, scripted_port = serve("--backend", "scripted")
    proxy, proxy_port = serve("--backend", "proxy", "--upstream", f"http://127.0.0.1:{scripted_port}")
    paced_proxy, paced_proxy_port = serve("--backend", "proxy", "--upstream", f"http://127.0.0.1:{stamps_port}")
    front, nginx_ports = nginx({"scripted": scripted_port, "stamps": stamps_port}, folder)
    paths = {"direct": (scripted_port, stamps_port), "claudewire proxy": (proxy_port, paced_proxy_port),
             "nginx": (nginx_ports["scripted"], nginx_ports["stamps"])}
    fronts = {"direct": [], "claudewire proxy": [proxy.pid], "nginx": children(front.pid)}
    cpu: dict[str, list[float]] = {name: [] for name in paths}
    big = " ".join(f"w{i}" for i in range(20_000))
    rates: dict[str, list[float]] = {name: [] for name in paths}
    delays: dict[str, list[float]] = {name: [] for name in paths}
    try:
        for port, paced_port in paths.values():  # warm up every connection pool
            await one_stream(port, "warm up", {})
            await paced_latencies(paced_port)
        for _ in range(rounds):
            for name, (port, paced_port) in paths.items():
                used = cpu_seconds(fronts[name])
                _, elapsed, events = await one_stream(port, big, {})
                cpu[name].append((cpu_seconds(fronts[name]) - used) / events)
                rates[name].append(events / elapsed)
                delays[name] += await paced_latencies(paced_port)
    finally:
        for process in (proxy, paced_proxy, scripted, front):
            process.terminate()
            process.wait(10)
        stamps.terminate()
        shutil.rmtree(folder, ignore_errors=True)
    direct_rate = statistics.median(rates["direct"])
    base50, base99 = pct(delays["direct"], 0.5), pct(delays["direct"], 0.99)
    print(f"{rounds} rounds, alternating; one 20,000-delta stream per path per round; "
          f"{PACED_STREAMS} paced streams x {PACED_EVENTS} events per path per round\n")
    print("| path | events/s (median) | x direct | front's CPU per event | per-event latency p50 | p99 | added p50 | added p99 |")
    print("|---|---|---|---|---|---|---|---|")
    for name in paths:
        rate = statistics.median(rates[name])
        p50, p99 = pct(delays[name], 0.5), pct(delays[name], 0.99)
        added = "" if name == "direct" else f"{(p50 - base50) * 1000:+.2f} ms | {(p99 - base99) * 1000:+.2f} ms"
        print(f"| {name} | {rate:,.0f} | {rate / direct_rate:.2f} | {statistics.median(cpu[name]) * 1e6:.1f} µs | {p50 * 1000:.2f} ms | {p99 * 1000:.2f} ms | {added or '- | -'} |")


if __name__ == "__main__":
    n = int(sys.argv[sys.argv.index("--rounds") + 1]) if "--rounds" in sys.argv else 5
    if "--paced-streams" in sys.argv:
        PACED_STREAMS = int(sys.argv[sys.argv.index("--paced-streams") + 1])
    asyncio.run(main(n))
