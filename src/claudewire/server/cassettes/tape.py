"""The cassette file: one exchange, readable by a person, replayable byte for byte.

```json
{
  "claudewire_cassette": 1,
  "sequence": 1,
  "request": {"method": "POST", "target": "/v1/messages", "headers": {...}, "body": {...}},
  "response": {
    "status": 200, "headers": {...}, "headers_after": 0.0031,
    "chunks": [
      [0.0001, "event: message_start\\ndata: {...}\\n\\n"],
      ...
    ],
    "ended": "complete"
  }
}
```

``headers_after`` is the seconds from sending the request to the response headers; each
chunk is ``[seconds after the headers, text]`` exactly as it was read from the upstream
(``{"base64": ...}`` instead of text for bytes that are not UTF-8). ``ended`` is
``complete``, or ``broken: <why>`` for an upstream that failed mid-body (replayed as the
same failure). Credentials are never written: credential headers are left out, and any
key the recorder knows (of 8 characters or more) is replaced by ``[redacted]`` wherever
it would appear.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

FORMAT = 1
REDACTED = "[redacted]"
MIN_SECRET = 8  # shorter "keys" (tests' "k") cannot be told from text; their headers are dropped all the same


@dataclass
class Tape:
    method: str
    target: str
    request_headers: list[tuple[str, str]]
    body: bytes
    status: int = 0
    headers: list[tuple[str, str]] = field(default_factory=list)
    headers_after: float = 0.0
    chunks: list[tuple[float, bytes]] = field(default_factory=list)
    ended: str = "complete"
    sequence: int = 1

    @property
    def broken(self) -> str | None:
        return self.ended[len("broken: ") :] if self.ended.startswith("broken: ") else None

    def dumps(self, secrets: list[str]) -> str:
        doc = {
            "claudewire_cassette": FORMAT,
            "sequence": self.sequence,
            "request": {"method": self.method, "target": self.target, "headers": _header_map(self.request_headers), **_body(self.body)},
            "response": {"status": self.status, "headers": _header_map(self.headers), "headers_after": round(self.headers_after, 6),
                         "chunks": "\0chunks\0", "ended": self.ended},
        }
        lines = ",\n".join(f"      {json.dumps([round(t, 6), _chunk(c)], ensure_ascii=False)}" for t, c in self.chunks)
        text = json.dumps(doc, indent=2, ensure_ascii=False).replace('"\\u0000chunks\\u0000"', f"[\n{lines}\n    ]" if lines else "[]")
        for secret in secrets:
            if len(secret) >= MIN_SECRET:
                text = text.replace(secret, REDACTED)
        return text + "\n"

    @classmethod
    def load(cls, path: Path) -> Tape:
        doc = json.loads(path.read_text(encoding="utf-8"))
        if doc.get("claudewire_cassette") != FORMAT:
            raise ValueError(f"{path}: not a claudewire cassette (format {FORMAT})")
        request, response = doc["request"], doc["response"]
        if "body" in request:
            body = json.dumps(request["body"], ensure_ascii=False).encode()
        elif "body_base64" in request:
            body = base64.b64decode(request["body_base64"])
        else:
            body = request.get("body_text", "").encode()
        return cls(
            method=request["method"],
            target=request["target"],
            request_headers=list(request.get("headers", {}).items()),
            body=body,
            status=response["status"],
            headers=list(response.get("headers", {}).items()),
            headers_after=float(response.get("headers_after", 0.0)),
            chunks=[(float(t), _unchunk(c)) for t, c in response.get("chunks", [])],
            ended=response.get("ended", "complete"),
            sequence=int(doc.get("sequence", 1)),
        )


def _header_map(headers: list[tuple[str, str]]) -> dict[str, str]:
    out: dict[str, str] = {}
    for name, value in headers:
        name = name.lower()
        out[name] = f"{out[name]}, {value}" if name in out else value
    return out


def _body(body: bytes) -> dict[str, Any]:
    if not body:
        return {}
    try:
        return {"body": json.loads(body)}
    except ValueError:
        pass
    try:
        return {"body_text": body.decode()}
    except UnicodeDecodeError:
        return {"body_base64": base64.b64encode(body).decode()}


def _chunk(data: bytes) -> Any:
    try:
        return data.decode()
    except UnicodeDecodeError:
        return {"base64": base64.b64encode(data).decode()}


def _unchunk(value: Any) -> bytes:
    return base64.b64decode(value["base64"]) if isinstance(value, dict) else value.encode()
