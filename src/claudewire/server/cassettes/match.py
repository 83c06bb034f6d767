"""Which recorded exchange answers a request: a key made of what decides the reply.

The key is the method, the path, the query parameters (in any order), the request body
as canonical JSON, and two headers: ``anthropic-beta`` (as a set) and
``x-claudewire-fault``. Noise that cannot change the reply is left out:

- JSON formatting and key order (the body is compared as canonical JSON);
- ``"stream": false``, the same request as no ``stream`` at all;
- the top-level ``metadata`` object (user ids and tags that differ between runs);
- every other header: keys, ``anthropic-version``, ``user-agent``, the SDKs' ``x-stainless-*``.
"""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any
from urllib.parse import parse_qsl

KEY_HEADERS = ("anthropic-beta", "x-claudewire-fault")
NOISE_FIELDS = ("metadata",)


def canonical_body(body: bytes) -> Any:
    """The body as the key sees it: JSON with the noise removed, else its text (or base64)."""
    if not body:
        return None
    try:
        value = json.loads(body)
    except ValueError:
        try:
            return {"text": body.decode()}
        except UnicodeDecodeError:
            return {"base64": base64.b64encode(body).decode()}
    if isinstance(value, dict):
        value = {k: v for k, v in value.items() if k not in NOISE_FIELDS and not (k == "stream" and v is False)}
    return value


def request_key(method: str, target: str, headers: list[tuple[str, str]], body: bytes) -> dict[str, Any]:
    path, _, query = target.partition("?")
    key: dict[str, Any] = {"method": method.upper(), "path": path}
    if query:
        key["query"] = sorted(parse_qsl(query, keep_blank_values=True))
    for name in KEY_HEADERS:
        values = [v for k, v in headers if k.lower() == name]
        if values:
            tokens = sorted({t.strip() for v in values for t in v.split(",") if t.strip()}) if name == "anthropic-beta" else values
            key[name] = tokens
    key["body"] = canonical_body(body)
    return key


def canonical(key: dict[str, Any]) -> str:
    return json.dumps(key, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def key_digest(key: dict[str, Any]) -> str:
    return hashlib.sha256(canonical(key).encode()).hexdigest()[:16]
