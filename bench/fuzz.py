"""The long fuzz run: a million hostile streams, 20,000 hostile responses, 20,000 hostile requests.

    python bench/fuzz.py [--streams N] [--responses N] [--requests N] [--minutes M] [--seed S]

Each phase stops at its count or its share of the time budget, whichever comes first, and
prints its counts. The property is the same as the suite's (tests/*/test_hostile_*.py),
only run longer:

- streams (in process): every body goes through ``EventStreamParser`` in random chunks,
  the snapshot read after every event; the outcome is a result or a ``ProtocolError``;
- responses (real HTTP): a server subprocess answers each call with the status, headers and
  body the call asked for (in a header); the client returns a result or raises an ``APIError``;
- requests (real HTTP): ``claudewire serve --backend scripted`` gets generated bodies; no
  status is 5xx.

Anything else is counted as "untyped" and its first examples are printed. Exit status 1
if any were found.
"""

from __future__ import annotations

import argparse
import base64
import copy
import gzip
import json
import os
import random
import re
import subprocess
import sys
import threading
import time
import traceback
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

START = {"type": "message_start", "message": {"id": "msg_1", "type": "message", "role": "assistant", "model": "m", "content": [],
                                               "stop_reason": None, "stop_sequence": None, "usage": {"input_tokens": 3, "output_tokens": 1}}}
EVENTS = [
    START,
    {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
    {"type": "content_block_start", "index": 0, "content_block": {"type": "tool_use", "id": "t", "name": "f", "input": {}}},
    {"type": "content_block_start", "index": 1, "content_block": {"type": "thinking", "thinking": "", "signature": ""}},
    {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "Hi"}},
    {"type": "content_block_delta", "index": 0, "delta": {"type": "input_json_delta", "partial_json": "{\"a\": [1, "}},
    {"type": "content_block_delta", "index": 1, "delta": {"type": "thinking_delta", "thinking": "hm"}},
    {"type": "content_block_delta", "index": 1, "delta": {"type": "signature_delta", "signature": "s"}},
    {"type": "content_block_delta", "index": 0, "delta": {"type": "citations_delta", "citation": {"type": "char_location", "cited_text": "x"}}},
    {"type": "content_block_stop", "index": 0},
    {"type": "message_delta", "delta": {"stop_reason": "end_turn", "stop_sequence": None}, "usage": {"output_tokens": 2}},
    {"type": "message_stop"},
    {"type": "ping"},
    {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}},
    {"type": "brand_new_event", "x": 1},
]
NAMES = ["type", "index", "delta", "usage", "message", "content_block", "text", "partial_json", "stop_reason", "content",
         "__dict__", "to_dict", "model_extra", "__class__", "id", "error", "output_tokens", "citations", "input", "signature"]
ODD = [None, True, 0, -1, 2**70, 1.5, "", "zzz", [], {}, [1, [2]], {"type": 5}, {"type": "text"}, "\ud800", "\u0000"]
RAW = [b"1e999", b"-1e999", b"nan", b"null", b"[]", b'"x"', b"{}", b"\xff\xfe", b'{"type": 5, ', b"{" * 3000, b"[" * 3000 + b"]" * 3000]


def odd_value(rng: random.Random) -> Any:
    value = copy.deepcopy(rng.choice(ODD))
    for _ in range(rng.randint(0, 2)):
        value = rng.choice([[value], {rng.choice(NAMES): value}])
    return value


def mutated_event(rng: random.Random) -> bytes:
    event = json.loads(json.dumps(rng.choice(EVENTS)))
    for _ in range(rng.choice([0, 0, 1, 1, 2, 3])):
        target = event
        for key in rng.sample(["delta", "usage", "message", "content_block", "error"], rng.randint(0, 2)):
            if isinstance(target.get(key), dict):
                target = target[key]
        target[rng.choice(NAMES)] = odd_value(rng)
    name = str(event.get("type"))
    try:
        data = json.dumps(event).encode()
    except (UnicodeEncodeError, ValueError):
        data = b"{}"
    roll = rng.random()
    if roll < 0.05:
        data = data[: rng.randint(0, len(data))]
    elif roll < 0.08:
        depth = rng.choice([200, 1500, 6000])
        data = data[:-1] + b', "deep": ' + b"[" * depth + b"]" * depth + b"}"
    elif roll < 0.11:
        data = rng.choice(RAW)
    elif roll < 0.13:
        data = bytes(rng.getrandbits(8) for _ in range(rng.randint(0, 30)))
    data = data.replace(b"\n", b" ").replace(b"\r", b" ")
    framing = rng.random()
    if framing < 0.03:
        return b"data: " + data + b"\n\n"  # no event line
    if framing < 0.05:
        return b"event: " + name.encode("utf-8", "replace") + b"\n\n"  # no data line
    if framing < 0.06:
        return b": comment\nretry: x\nid: \x00\n" + b"data: " + data + b"\r\n\r\n"
    return b"event: " + name.encode("utf-8", "replace") + b"\ndata: " + data + b"\n\n"


def stream_body(rng: random.Random) -> bytes:
    prefix = [EVENTS[0], EVENTS[1]] if rng.random() < 0.7 else []
    body = b"".join(b"event: %s\ndata: %s\n\n" % (e["type"].encode(), json.dumps(e).encode()) for e in prefix)
    body += b"".join(mutated_event(rng) for _ in range(rng.randint(0, 12)))
    if rng.random() < 0.1:  # a byte-level scribble on top
        at = rng.randint(0, len(body))
        body = body[:at] + bytes([rng.getrandbits(8)]) + body[at + 1 :]
    return body


def run_stream(body: bytes, rng: random.Random) -> str:
    from claudewire.protocol import EventStreamParser, ProtocolError

    parser = EventStreamParser()
    deep_check = rng.random() < 0.2
    try:
        at = 0
        step = rng.choice([1, 3, 17, 64, 4096, 4096, 1 << 20, 1 << 20, 1 << 20, 1 << 20]) if rng.random() > 0.02 else 1
        while at < len(body):
            for event in parser.iter_events(body[at : at + step]):
                snapshot = getattr(event, "snapshot", None)
                if snapshot is not None and not isinstance(snapshot, (str, list, dict)):
                    return "untyped: odd snapshot"
                message = parser.message  # the snapshot, synced after every event
                if message is not None and deep_check:
                    message.to_dict()
            at += step
        parser.close()
        if parser.message is not None:
            parser.message.to_json()
    except ProtocolError as exc:
        return type(exc).__name__
    return "ok"


def phase_streams(count: int, seconds: float, seed: int) -> Counter[str]:
    rng = random.Random(seed)
    counts: Counter[str] = Counter()
    examples: list[str] = []
    deadline = time.monotonic() + seconds
    for n in range(count):
        if n % 1000 == 0 and time.monotonic() > deadline:
            break
        body = stream_body(rng)
        try:
            counts[run_stream(body, rng)] += 1
        except BaseException as exc:  # noqa: BLE001 - exactly what we are counting
            counts["untyped"] += 1
            if len(examples) < 3:
                examples.append(f"{type(exc).__name__}: {exc!s:.200} on {body[:300]!r}\n{traceback.format_exc(limit=4)}")
    for example in examples:
        print("  untyped stream:", example)
    return counts


# --- responses: a server that answers with what each call asks for --------------------------

SERVER = r'''
import asyncio, base64, json, sys
async def handle(reader, writer):
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            headers = {k.lower(): v.strip() for k, _, v in (l.partition(":") for l in lines[1:] if l)}
            await reader.readexactly(int(headers.get("content-length", "0")))
            spec = json.loads(base64.b64decode(headers["x-fuzz"]))
            body = base64.b64decode(spec["body"])
            extra = "".join(f"{k}: {v}\r\n" for k, v in spec["headers"].items())
            writer.write(f"HTTP/1.1 {spec['status']} X\r\ncontent-length: {len(body)}\r\n{extra}\r\n".encode("latin-1") + body)
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError):
        writer.close()
async def main():
    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    print(server.sockets[0].getsockname()[1], flush=True)
    async with server:
        await server.serve_forever()
asyncio.run(main())
'''

MESSAGE = {"id": "msg_1", "type": "message", "role": "assistant", "model": "m", "content": [{"type": "text", "text": "Hi"}],
           "stop_reason": "end_turn", "stop_sequence": None, "usage": {"input_tokens": 1, "output_tokens": 1}}
PAGE = {"data": [{"type": "model", "id": "a", "display_name": "A", "created_at": "2025-01-01T00:00:00Z"}], "has_more": True,
        "first_id": "a", "last_id": "a"}


def response_spec(rng: random.Random, method: str) -> dict[str, Any]:
    status = rng.choice([200, 200, 200, 200, 201, 204, 400, 401, 403, 404, 409, 413, 429, 500, 503, 529, 599])
    if method == "stream":
        body = stream_body(rng)
    else:
        base = {"create": MESSAGE, "count": {"input_tokens": 3}, "list": PAGE, "retrieve": PAGE["data"][0]}[method]
        value = json.loads(json.dumps(base))
        for _ in range(rng.randint(0, 3)):
            value[rng.choice(NAMES + ["data", "has_more", "last_id", "input_tokens"])] = odd_value(rng)
        if status >= 400 and rng.random() < 0.6:
            value = {"type": "error", "error": rng.choice([{"type": "x", "message": "m"}, 5, None, {"message": 7}])}
        body = json.dumps(value).encode()
        roll = rng.random()
        if roll < 0.1:
            body = rng.choice(RAW + [b"<html>Bad Gateway</html>", b""])
        elif roll < 0.15:
            body = body[: rng.randint(0, len(body))]
        elif roll < 0.18:
            body = b"\xff" + body
    headers: dict[str, str] = {"content-type": rng.choice(["application/json", "text/event-stream", "text/html"])}
    if rng.random() < 0.3:
        headers["retry-after"] = rng.choice(["soon", "0", "-1", "1e999", "Wed, 21 Oct 2015 07:28:00 GMT", "\u00ff"])
    if rng.random() < 0.2:
        headers["x-should-retry"] = rng.choice(["true", "false", "maybe"])
    if rng.random() < 0.15:
        encoding = rng.choice(["gzip", "deflate", "br", "identity"])
        headers["content-encoding"] = encoding
        if encoding == "gzip" and rng.random() < 0.8:
            body = gzip.compress(body)
    return {"status": status, "headers": headers, "body": base64.b64encode(body).decode()}


def phase_responses(count: int, seconds: float, seed: int) -> Counter[str]:
    import claudewire

    rng = random.Random(seed)
    server = subprocess.Popen([sys.executable, "-c", SERVER], stdout=subprocess.PIPE, text=True)
    counts: Counter[str] = Counter()
    examples: list[str] = []
    try:
        port = int(server.stdout.readline())
        client = claudewire.Anthropic(base_url=f"http://127.0.0.1:{port}", api_key="k", max_retries=0)
        params = {"model": "m", "max_tokens": 8, "messages": [{"role": "user", "content": "hi"}]}
        deadline = time.monotonic() + seconds
        for n in range(count):
            if n % 100 == 0 and time.monotonic() > deadline:
                break
            method = rng.choice(["create", "stream", "count", "list", "retrieve"])
            spec = response_spec(rng, method)
            headers = {"x-fuzz": base64.b64encode(json.dumps(spec).encode()).decode()}
            try:
                if method == "create":
                    client.messages.create(**params, extra_headers=headers)
                elif method == "stream":
                    with client.messages.stream(**params, extra_headers=headers) as stream:
                        for _ in stream:
                            pass
                elif method == "count":
                    client.messages.count_tokens(**params, extra_headers=headers)
                elif method == "list":
                    client._options.custom_headers.update(headers)  # models calls take no extra_headers
                    for _ in client.models.list():
                        pass
                else:
                    client._options.custom_headers.update(headers)
                    client.models.retrieve("m")
                counts["ok"] += 1
            except claudewire.APIError as exc:
                counts[type(exc).__name__] += 1
            except BaseException as exc:  # noqa: BLE001 - exactly what we are counting
                counts["untyped"] += 1
                if len(examples) < 3:
                    examples.append(f"{method} {type(exc).__name__}: {exc!s:.200}\n{traceback.format_exc(limit=4)}")
            finally:
                client._options.custom_headers.pop("x-fuzz", None)
        client.close()
    finally:
        server.kill()
    for example in examples:
        print("  untyped response:", example)
    return counts


# --- requests: claudewire serve must never answer 5xx ----------------------------------------

GOOD = {"model": "claude-sonnet-4-6", "max_tokens": 8, "messages": [{"role": "user", "content": "one two three"}],
        "tools": [{"name": "t", "input_schema": {"type": "object", "properties": {"a": {"type": "string"}}, "required": ["a"]}}]}
FIELDS = ["model", "max_tokens", "messages", "system", "stop_sequences", "tools", "tool_choice", "thinking", "temperature",
          "metadata", "stream", "top_k", "top_p", "content", "role", "input_schema", "properties", "required", "type"]


def request_body(rng: random.Random) -> bytes:
    body = json.loads(json.dumps(GOOD))
    if rng.random() < 0.4:
        body["tool_choice"] = {"type": rng.choice(["any", "tool", "auto", "none", 5])}
    if rng.random() < 0.2:
        body["stream"] = True
    for _ in range(rng.randint(0, 3)):
        target = rng.choice([body, body["messages"][0] if isinstance(body.get("messages"), list) and body["messages"]
                             and isinstance(body["messages"][0], dict) else body, body["tools"][0]["input_schema"]
                             if isinstance(body.get("tools"), list) and body["tools"] and isinstance(body["tools"][0], dict)
                             and isinstance(body["tools"][0].get("input_schema"), dict) else body])
        target[rng.choice(FIELDS)] = odd_value(rng)
    try:
        data = json.dumps(body).encode()
    except (UnicodeEncodeError, ValueError):
        data = b"{}"
    roll = rng.random()
    if roll < 0.08:
        data = data[:-1] + b', "model": "claude-haiku-4-5"}'
    elif roll < 0.14:
        data = data[: rng.randint(0, len(data))]
    elif roll < 0.2:
        depth = rng.choice([100, 129, 2000, 100_000])
        data = data[:-1] + b', "metadata": {"a": ' + b"[" * depth + b"]" * depth + b"}}"
    elif roll < 0.24:
        data = data.replace(b"one", b"\xc3\x28", 1)
    elif roll < 0.27:
        data = rng.choice(RAW)
    return data


def phase_requests(count: int, seconds: float, seed: int) -> Counter[str]:
    import httpx2

    rng = random.Random(seed)
    server = subprocess.Popen([sys.executable, "-m", "claudewire.cli", "serve", "--backend", "scripted", "--port", "0",
                               "--faults", "--log-level", "warning"], stderr=subprocess.PIPE, text=True,
                              env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent / "src")})
    counts: Counter[str] = Counter()
    examples: list[str] = []
    try:
        port = int(re.search(r":(\d+)\s*$", server.stderr.readline().strip()).group(1))
        threading.Thread(target=server.stderr.read, daemon=True).start()  # keep its log flowing, or it blocks on a full pipe
        headers = {"anthropic-version": "2023-06-01", "content-type": "application/json", "x-api-key": "k"}
        with httpx2.Client(base_url=f"http://127.0.0.1:{port}", headers=headers, timeout=60) as http:
            deadline = time.monotonic() + seconds
            for n in range(count):
                if n % 100 == 0 and time.monotonic() > deadline:
                    break
                body = request_body(rng)
                path = rng.choice(["/v1/messages", "/v1/messages", "/v1/messages/count_tokens"])
                extra = {}
                if rng.random() < 0.05:
                    extra["x-claudewire-fault"] = rng.choice(["stall_after=1; seconds=1e9", "error_after=\u00b2", "nope", "overloaded; times=x"])
                if rng.random() < 0.03:
                    extra["x-claudewire-delay-ms"] = rng.choice(["1e12", "nan", "-5", "soon"])
                response = http.post(path, content=body, headers={k: v.encode() for k, v in extra.items()})
                counts[f"{response.status_code // 100}xx"] += 1
                if response.status_code >= 500 and len(examples) < 3:
                    examples.append(f"{response.status_code} {response.text[:200]} for {body[:300]!r}")
    finally:
        server.terminate()
        server.wait(10)
    for example in examples:
        print("  5xx request:", example)
    return counts


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--streams", type=int, default=1_000_000)
    parser.add_argument("--responses", type=int, default=20_000)
    parser.add_argument("--requests", type=int, default=20_000)
    parser.add_argument("--minutes", type=float, default=30.0, help="time budget for all three phases (split 60/20/20)")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    budget = args.minutes * 60
    failed = False
    for name, phase, count, share in (("streams", phase_streams, args.streams, 0.6), ("responses", phase_responses, args.responses, 0.2),
                                      ("requests", phase_requests, args.requests, 0.2)):
        started = time.monotonic()
        counts = phase(count, budget * share, args.seed)
        total = sum(counts.values())
        print(f"{name}: {total:,} in {time.monotonic() - started:.0f} s: " + ", ".join(f"{k} {v:,}" for k, v in counts.most_common()),
              flush=True)
        failed |= counts.get("untyped", 0) > 0 or counts.get("5xx", 0) > 0
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
