"""Raw HTTP for the relay tests: curl -N, raw sockets with a hand-read chunked body, frame parsing."""

from __future__ import annotations

import json
import socket
import subprocess
from typing import Any

HEADERS = {"content-type": "application/json", "x-api-key": "key-A", "anthropic-version": "2023-06-01"}
RESUMABLE = {"x-claudewire-resumable": "true"}


def body(text: str = "one two three four five", **changes: Any) -> dict[str, Any]:
    return {"model": "claude-sonnet-4-6", "max_tokens": 256, "stream": True, "messages": [{"role": "user", "content": text}], **changes}


def curl(url: str, *, data: dict | None = None, headers: dict[str, str] | None = None, method: str | None = None) -> tuple[int, dict, str]:
    """``curl -sN``: (status, headers, body)."""
    args = ["curl", "-sN", "-D", "-", url]
    for name, value in {**HEADERS, **(headers or {})}.items():
        args += ["-H", f"{name}: {value}"]
    if data is not None:
        args += ["-d", json.dumps(data)]
    if method:
        args += ["-X", method]
    out = subprocess.run(args, capture_output=True, check=True, timeout=60).stdout.decode()
    head, _, payload = out.partition("\r\n\r\n")
    lines = head.split("\r\n")
    parsed = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    return int(lines[0].split()[1]), parsed, payload


def frames(payload: str) -> list[str]:
    """The event blocks of a body, each with its closing blank line."""
    assert payload == "" or payload.endswith("\n\n")
    return [block + "\n\n" for block in payload[:-2].split("\n\n")] if payload else []


def parse(frame: str) -> tuple[int | None, str, dict]:
    """(id or None, event name, data) of one frame."""
    fields = dict(line.split(": ", 1) for line in frame.strip("\n").split("\n"))
    return (int(fields["id"]) if "id" in fields else None), fields["event"], json.loads(fields["data"])


class RawStream:
    """A POST over a raw socket whose chunked body is read by hand, frame by frame, so a test
    can close the connection exactly after any event."""

    def __init__(self, port: int, payload: dict, headers: dict[str, str]) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=30)
        data = json.dumps(payload).encode()
        lines = ["POST /v1/messages HTTP/1.1", "host: 127.0.0.1", f"content-length: {len(data)}"]
        lines += [f"{k}: {v}" for k, v in {**HEADERS, **headers}.items()]
        self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode() + data)
        self.buffer = b""
        head = self._until(b"\r\n\r\n")
        status_line, *header_lines = head.decode().split("\r\n")
        self.status = int(status_line.split()[1])
        self.headers = {k.lower(): v.strip() for k, _, v in (h.partition(":") for h in header_lines)}
        self.body = b""

    def _until(self, marker: bytes) -> bytes:
        while marker not in self.buffer:
            more = self.sock.recv(65536)
            if not more:
                raise EOFError
            self.buffer += more
        out, _, self.buffer = self.buffer.partition(marker)
        return out

    def read_frames(self, count: int) -> list[str]:
        """Read chunks until ``count`` whole frames have arrived (or the body ends)."""
        while self.body.count(b"\n\n") < count:
            size = int(self._until(b"\r\n"), 16)
            if size == 0:
                break
            while len(self.buffer) < size + 2:
                self.buffer += self.sock.recv(65536)
            self.body += self.buffer[:size]
            self.buffer = self.buffer[size + 2 :]
        return frames(self.body[: self._end(count)].decode())

    def _end(self, count: int) -> int:
        at = -2
        for _ in range(count):
            found = self.body.find(b"\n\n", at + 2)
            if found < 0:
                break
            at = found
        return at + 2

    def close(self) -> None:
        self.sock.close()
