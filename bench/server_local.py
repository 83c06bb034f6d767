"""``claudewire serve --backend local`` against llama.cpp's own ``llama-server``, side by side.

    python bench/server_local.py [--runs N] [--parallel 8] [--threads N (default: the physical cores)]

Both servers run at once as subprocesses on loopback, with the same GGUF (SmolLM2-135M-Instruct
Q4_1), the same threads (the physical cores), the same slots and the same context per slot.
The client is the official ``anthropic`` SDK streaming greedy answers (temperature 0, up to
128 tokens) from each server's ``/v1/messages``. Every measurement alternates between the two
servers, run by run, so a busy machine slows both alike; medians over runs, and the ratio.

Rows: time to first token (one stream); decode tokens/s of one stream (after its first token);
4 and 8 concurrent streams: aggregate tokens/s and the worst time to first token; and the
second turn of a 1,500-token conversation: time to first token when the server may reuse the
first turn's KV cache, against the same request cold. And the floor: the one-stream request put
straight into claudewire's engine in the bench's own process (no HTTP, no client), alternating
with the others, so the cost of serving over HTTP shows for both servers.

``llama-server`` is built from the llama.cpp that llama-cpp-python vendors, by
``bench/build_llama_server.sh`` (portable flags, in a cache dir outside the repository).
"""

from __future__ import annotations

import os
import socket
import statistics
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import anthropic
import httpx2
import msgspec

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from claudewire.protocol.params import MessageCreateParams  # noqa: E402
from claudewire.server.backends.local.backend import LocalBackend  # noqa: E402
from claudewire.server.backends.local.engine import RELEASED, Finish, Job  # noqa: E402
from claudewire.server.backends.local.model import model_path, physical_cores  # noqa: E402
from claudewire.server.backends.local.sampling import Sampling  # noqa: E402

MAX_TOKENS = 128
PROMPTS = ["Tell me a short story about a robot.", "Explain how a bicycle works.", "Write a poem about the autumn forest.",
           "Describe a busy market in the morning.", "Explain why the sky is blue.", "Write a letter to a friend about a trip.",
           "Describe how bread is baked.", "Tell me about the history of trains."]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_ready(url: str, process: subprocess.Popen, within: float = 120) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{url}: the server exited ({process.returncode})")
        try:
            if httpx2.get(url + "/v1/models", timeout=1, headers={"anthropic-version": "2023-06-01"}).status_code == 200:
                return
        except httpx2.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not start")


def start_servers(threads: int, parallel: int, window: int) -> tuple[dict[str, str], list[subprocess.Popen]]:
    binary = subprocess.run([str(ROOT / "bench" / "build_llama_server.sh")], check=True, capture_output=True, text=True).stdout.strip()
    gguf = str(model_path())
    ports = {"llama-server": free_port(), "claudewire": free_port()}
    commands = {
        "llama-server": [binary, "-m", gguf, "--host", "127.0.0.1", "--port", str(ports["llama-server"]), "-t", str(threads),
                         "-tb", str(threads), "-np", str(parallel), "-c", str(window * parallel), "--no-kv-unified"],
        "claudewire": [sys.executable, "-m", "claudewire.cli", "serve", "--backend", "local", "--port", str(ports["claudewire"]),
                       "--threads", str(threads), "--parallel", str(parallel), "--ctx-size", str(window), "--log-level", "warning"],
    }
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    logs = {name: open(f"/tmp/bench-{name}.log", "w") for name in commands}  # noqa: SIM115
    processes = [subprocess.Popen(cmd, env=env, stdout=logs[name], stderr=subprocess.STDOUT) for name, cmd in commands.items()]
    urls = {name: f"http://127.0.0.1:{port}" for name, port in ports.items()}
    for (_name, url), process in zip(urls.items(), processes, strict=False):
        wait_ready(url, process)
    return urls, processes


def stream_once(client: anthropic.Anthropic, messages: list[dict], system: str | None = None) -> dict:
    """One greedy streamed answer: time to first token, decode rate, tokens, text."""
    extra = {"system": system} if system else {}
    t0 = time.perf_counter()
    first = last = 0.0
    text = []
    with client.messages.stream(model="claude-sonnet-4-6", max_tokens=MAX_TOKENS, extra_body={"temperature": 0}, messages=messages,
                                **extra) as s:
        for piece in s.text_stream:
            last = time.perf_counter()
            if not first:
                first = last
            text.append(piece)
        tokens = s.get_final_message().usage.output_tokens
    first = first or time.perf_counter()
    rate = (tokens - 1) / (last - first) if tokens > 1 and last > first else 0.0
    return {"ttft": first - t0, "rate": rate, "tokens": tokens, "start": t0, "end": last or first, "text": "".join(text)}


def engine_once(backend: LocalBackend, content: str) -> float:
    """The floor: the same greedy request straight into claudewire's engine in this process, with
    no HTTP, no event loop and no client; decode tokens/s measured as ``stream_once`` does."""
    params = msgspec.convert({"model": "claude-sonnet-4-6", "max_tokens": MAX_TOKENS, "messages": [{"role": "user", "content": content}]},
                             MessageCreateParams)
    done, times, finish = threading.Event(), [], []

    def sink(item: object) -> None:
        if item is RELEASED:  # a str too: it comes last
            done.set()
        elif isinstance(item, str):
            times.append(time.perf_counter())
        elif isinstance(item, Finish):
            finish.append(item)

    backend.engine.submit(Job(prompt=backend.tokens(params), sampling=Sampling(temperature=0), max_tokens=MAX_TOKENS, stops=[], sink=sink))
    done.wait()
    tokens = finish[0].output_tokens if finish else 0
    return (tokens - 1) / (times[-1] - times[0]) if tokens > 1 and len(times) > 1 and times[-1] > times[0] else 0.0


def concurrent(client: anthropic.Anthropic, n: int, tag: str) -> dict:
    results: list[dict] = [{}] * n
    barrier = threading.Barrier(n)

    def run(i: int) -> None:
        barrier.wait()
        results[i] = stream_once(client, [{"role": "user", "content": f"{PROMPTS[i % len(PROMPTS)]} ({tag} {i})"}])

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = max(r["end"] for r in results) - min(r["start"] for r in results)
    return {"aggregate": sum(r["tokens"] for r in results) / wall, "worst_ttft": max(r["ttft"] for r in results)}


def conversation() -> tuple[str, list[dict]]:
    """About 1,500 tokens of history; a unique first line so no earlier run is cached."""
    system = f"Conversation {uuid.uuid4().hex}. You are a helpful assistant who answers briefly."
    paragraph = ("The village sat between two rivers, and every spring the water rose to the edge of the fields. "
                 "The farmers built low walls of stone and planted willows along the banks to hold the soil. ")
    turns: list[dict] = []
    for i in range(12):
        turns.append({"role": "user", "content": f"Part {i + 1} of my notes: " + paragraph * 2})
        turns.append({"role": "assistant", "content": f"Noted part {i + 1}: the rivers, the walls and the willows."})
    turns.append({"role": "user", "content": "Summarize my notes in one sentence."})
    return system, turns


def second_turn(client: anthropic.Anthropic) -> dict:
    system, turns = conversation()
    cold = stream_once(client, turns, system)
    follow = turns + [{"role": "assistant", "content": cold["text"]}, {"role": "user", "content": "Now in three words."}]
    warm = stream_once(client, follow, system)
    return {"cold": cold["ttft"], "warm": warm["ttft"]}


def main() -> None:
    runs = int(sys.argv[sys.argv.index("--runs") + 1]) if "--runs" in sys.argv else 5
    parallel = int(sys.argv[sys.argv.index("--parallel") + 1]) if "--parallel" in sys.argv else 8
    threads = int(sys.argv[sys.argv.index("--threads") + 1]) if "--threads" in sys.argv else physical_cores()
    urls, processes = start_servers(threads, parallel, window=2048)
    try:
        clients = {name: anthropic.Anthropic(base_url=url, api_key="bench", max_retries=0, timeout=120) for name, url in urls.items()}
        for client in clients.values():  # warm both: weights paged in, first allocations done
            stream_once(client, [{"role": "user", "content": "Hello"}])
        floor = LocalBackend(n_ctx=2048, n_threads=threads, parallel=1, cache_ram_mb=0)  # idle while the servers run
        engine_once(floor, "Hello")
        rows: dict[str, dict[str, dict[int, float]]] = {name: {} for name in clients}  # name -> row -> run -> value
        floor_rates: dict[int, float] = {}
        run = 0

        def record(name: str, key: str, value: float) -> None:
            rows[name].setdefault(key, {})[run] = value

        def attempt(name: str, measure, *args):  # one failed request costs its sample, not the run
            try:
                return measure(clients[name], *args)
            except anthropic.APIError as exc:
                print(f"  {name}: {type(exc).__name__}: {exc}", file=sys.stderr, flush=True)
                return None

        for run in range(runs):
            print(f"run {run + 1} of {runs}", file=sys.stderr, flush=True)
            order = list(clients) if run % 2 == 0 else list(reversed(clients))
            for name in order:
                print(f"  {name}: one stream", file=sys.stderr, flush=True)
                one = attempt(name, stream_once, [{"role": "user", "content": f"{PROMPTS[run % 3]} (run {run})"}])
                if one:
                    record(name, "ttft", one["ttft"] * 1000)
                    record(name, "rate", one["rate"])
            floor_rates[run] = engine_once(floor, f"{PROMPTS[run % 3]} (run {run})")
            print(f"  floor: {floor_rates[run]:.0f} tok/s; " + ", ".join(f"{name} {rows[name]['rate'].get(run, 0):.0f}" for name in order),
                  file=sys.stderr, flush=True)
            for n in (4, 8):
                for name in order:
                    print(f"  {name}: {n} streams", file=sys.stderr, flush=True)
                    result = attempt(name, concurrent, n, f"run {run}")
                    if result:
                        record(name, f"agg{n}", result["aggregate"])
                        record(name, f"worst{n}", result["worst_ttft"] * 1000)
                        print(f"    {result['aggregate']:.0f} tok/s, worst first token {result['worst_ttft'] * 1000:.0f} ms",
                              file=sys.stderr, flush=True)
            for name in order:
                print(f"  {name}: second turn", file=sys.stderr, flush=True)
                turn = attempt(name, second_turn)
                if turn:
                    record(name, "cold", turn["cold"] * 1000)
                    record(name, "warm", turn["warm"] * 1000)
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(10)
    med = {name: {key: statistics.median(values.values()) for key, values in row.items()} for name, row in rows.items()}
    ls, cw = med["llama-server"], med["claudewire"]

    def per_run(a: dict[int, float], b: dict[int, float]) -> float:
        """The median of the per-run ratios a / b: each run measures everything within seconds, so a
        slow spell of the machine (this VM has them, ±10% for seconds at a time) cancels."""
        return statistics.median(a[r] / b[r] for r in a.keys() & b.keys() if b[r])

    def paired(key: str) -> float:
        return per_run(rows["claudewire"][key], rows["llama-server"][key])

    lines = [
        ("time to first token, one stream (ms)", "ttft", "{:.0f}", False),
        ("decode, one stream (tok/s)", "rate", "{:.0f}", True),
        ("4 concurrent streams, aggregate (tok/s)", "agg4", "{:.0f}", True),
        ("4 concurrent streams, worst time to first token (ms)", "worst4", "{:.0f}", False),
        ("8 concurrent streams, aggregate (tok/s)", "agg8", "{:.0f}", True),
        ("8 concurrent streams, worst time to first token (ms)", "worst8", "{:.0f}", False),
        ("1,500-token conversation, cold first token (ms)", "cold", "{:.0f}", False),
        ("1,500-token conversation, second turn first token (ms)", "warm", "{:.0f}", False),
    ]
    print(f"threads {threads}, {parallel} slots of 2048 tokens each, {runs} alternating runs, medians; "
          f"greedy, up to {MAX_TOKENS} tokens")
    print("| | llama-server | claudewire | ÷ (medians) | ÷ (paired, per run) | better |")
    print("|---|---|---|---|---|---|")
    for label, key, fmt, higher in lines:
        ratio = paired(key)
        better = "ours" if (ratio >= 1) == higher else "llama-server"
        print(f"| {label} | {fmt.format(ls[key])} | {fmt.format(cw[key])} | {cw[key] / ls[key]:.2f} | {ratio:.2f} | {better} |")
    for name, m in med.items():
        print(f"{name}: second turn / cold = {m['warm'] / m['cold']:.0%}")
    print(f"floor: claudewire's engine alone (no HTTP, no client), one stream: {statistics.median(floor_rates.values()):.0f} tok/s; "
          f"over HTTP with the SDK reading, per run: llama-server {per_run(rows['llama-server']['rate'], floor_rates):.2f}, "
          f"claudewire {per_run(rows['claudewire']['rate'], floor_rates):.2f} of it")


if __name__ == "__main__":
    main()
