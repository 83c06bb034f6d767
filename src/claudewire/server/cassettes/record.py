"""Recording: the proxy tees every reply into a cassette as it passes (``--record DIR``).

A cassette is written when the upstream body has ended, completely or broken; an
exchange the client abandoned is not written (it would replay a reply cut short by
nobody's fault but the client's).
"""

from __future__ import annotations

import logging
import re
import time
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path

from ..proxy.exchange import Call, Reply, UpstreamBroke
from ..proxy.headers import CREDENTIALS, Headers, client_response_headers, without_credentials
from .match import canonical_body, key_digest, request_key
from .tape import Tape

log = logging.getLogger("claudewire.server")
KEPT_REQUEST_HEADERS = ("anthropic-", "content-type", "x-claudewire-")  # what can change a reply; never a credential


def cassette_name(tape: Tape, digest: str) -> str:
    """``messages-hello-from-litellm-<digest>[-N].json``: the path, a few words of the prompt, the key."""
    words = re.sub(r"[^a-z0-9]+", "-", (tape.target.split("?")[0].removeprefix("/v1/")).lower()).strip("-")
    body = canonical_body(tape.body)
    prompt = ""
    if isinstance(body, dict) and isinstance(body.get("messages"), list) and body["messages"]:
        content = body["messages"][-1].get("content") if isinstance(body["messages"][-1], dict) else None
        if isinstance(content, list):
            content = next((b.get("text") for b in content if isinstance(b, dict) and b.get("type") == "text"), "")
        if isinstance(content, str):
            prompt = "-".join(re.findall(r"[a-z0-9]+", content.lower())[:5])
    stem = "-".join(p for p in (words, prompt, digest) if p)
    return f"{stem}.json" if tape.sequence == 1 else f"{stem}-{tape.sequence}.json"


class Recorder:
    def __init__(self, directory: Path, *, secrets: list[str]) -> None:
        self.directory = directory
        self.secrets = [s for s in secrets if s]
        self.seen: Counter[str] = Counter()  # a request made again in this run is recorded as the next in sequence
        directory.mkdir(parents=True, exist_ok=True)

    def __repr__(self) -> str:
        return f"Recorder({str(self.directory)!r})"

    def tee(self, call: Call, sent_headers: Headers, reply: Reply, started: float) -> Reply:
        secrets = self.secrets + [v for k, v in call.headers if k.lower() in CREDENTIALS and v]
        secrets += [v.split(" ", 1)[1] for k, v in call.headers if k.lower() == "authorization" and " " in v]
        tape = Tape(call.method, call.target, [(k, v) for k, v in sent_headers if k.lower().startswith(KEPT_REQUEST_HEADERS)],
                    call.body, reply.status, without_credentials(client_response_headers(reply.headers, keep_length=True)),
                    time.monotonic() - started)
        return Reply(reply.status, reply.headers, self._tee(tape, reply, secrets), reply.aclose)

    async def _tee(self, tape: Tape, reply: Reply, secrets: list[str]) -> AsyncIterator[bytes]:
        t0 = time.monotonic()
        try:
            async for chunk in reply.chunks:
                tape.chunks.append((time.monotonic() - t0, chunk))
                yield chunk
        except UpstreamBroke as exc:
            tape.ended = f"broken: {exc}"
            self._save(tape, secrets)
            raise
        self._save(tape, secrets)

    def _save(self, tape: Tape, secrets: list[str]) -> None:
        digest = key_digest(request_key(tape.method, tape.target, tape.request_headers, tape.body))
        self.seen[digest] += 1
        tape.sequence = self.seen[digest]
        path = self.directory / cassette_name(tape, digest)
        path.write_text(tape.dumps(secrets), encoding="utf-8")
        log.info("recorded %s %s as %s", tape.method, tape.target.split("?")[0], path.name)
