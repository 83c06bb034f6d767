"""The proxy backend: forwards every request to an upstream Messages API.

The upstream is the real API by default, or any Anthropic-compatible server (llama.cpp's
``llama-server``, vLLM, SGLang, Ollama, another ``claudewire serve``). Requests go on
unchanged (body bytes, and every header but hop-by-hop ones and credentials); the
upstream key comes from ``CLAUDEWIRE_UPSTREAM_API_KEY``, else ``ANTHROPIC_API_KEY``, or
the client's own key with ``forward_client_key``.

One shared ``httpx2.AsyncClient`` keeps connections alive (HTTP/2 where the upstream
offers it over TLS). Retries happen only before the reply is handed to the server, so
never after a byte went to the client: on a connection failure, or a 429/529 whose
``retry-after`` (or backoff) is short enough; a longer hint passes the error through.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx2
import msgspec

from ...client._options import DEFAULT_BASE_URL, Secret
from ...client._retry import _retry_after, retry_delay
from ..catalogue import ModelEntry
from ..errors import APIErrorResponse
from .exchange import Call, Reply, UpstreamBroke
from .headers import upstream_request_headers

KEY_ENV = ("CLAUDEWIRE_UPSTREAM_API_KEY", "ANTHROPIC_API_KEY")
NON_STREAMED_READ_TIMEOUT = 600.0  # what the API may take for a non-streamed reply (the SDK's default)


class _StreamFlag(msgspec.Struct):
    stream: Any = None


_stream_flag = msgspec.json.Decoder(_StreamFlag)


def is_streamed(body: bytes) -> bool:
    """Whether a request body asks for a stream; a body that is not JSON is the upstream's to judge."""
    try:
        return _stream_flag.decode(body).stream is True
    except (msgspec.DecodeError, msgspec.ValidationError):
        return False


def upstream_key_from_env() -> Secret | None:
    value = next((os.environ[name] for name in KEY_ENV if os.environ.get(name)), None)
    return Secret(value) if value else None


class ProxyBackend:
    def __init__(
        self,
        *,
        upstream: str = DEFAULT_BASE_URL,
        forward_client_key: bool = False,
        idle_timeout: float = 60.0,
        retries: int = 2,
        max_retry_after: float = 10.0,
        record: str | Path | None = None,
        api_key: str | None = None,
    ) -> None:
        self.upstream = upstream.rstrip("/")
        self.forward_client_key = forward_client_key
        self.idle_timeout = idle_timeout
        self.retries = retries
        self.max_retry_after = max_retry_after
        self.api_key = Secret(api_key) if api_key else upstream_key_from_env()
        self.recorder = None
        if record is not None:
            from ..cassettes.record import Recorder

            self.recorder = Recorder(Path(record), secrets=[self.api_key.reveal()] if self.api_key else [])
        host = httpx2.URL(self.upstream).host
        self.model = ModelEntry(f"proxy:{host}", f"proxy to {self.upstream}", "2026-11-25T00:00:00Z", 128_000, 1_000_000)
        limits = httpx2.Limits(max_connections=None, max_keepalive_connections=256, keepalive_expiry=60.0)
        # trust_env: HTTPS_PROXY / NO_PROXY and SSL_CERT_FILE (an upstream behind a private CA) apply as for any client
        self.client = httpx2.AsyncClient(http2=True, limits=limits, timeout=None, follow_redirects=False)
        for name in ("accept", "accept-encoding", "user-agent"):  # only what the client sent goes upstream
            del self.client.headers[name]

    def __repr__(self) -> str:
        return f"ProxyBackend(upstream={self.upstream!r}, key={'client' if self.forward_client_key else self.api_key!r})"

    async def aclose(self) -> None:
        await self.client.aclose()

    async def forward(self, call: Call) -> Reply:
        headers = upstream_request_headers(
            call.headers, upstream_key=self.api_key.reveal() if self.api_key else None, forward_client_key=self.forward_client_key
        )
        if self.recorder is not None:  # plain bytes upstream, so cassettes stay readable
            headers = [(k, v) for k, v in headers if k.lower() != "accept-encoding"]
        read = self.idle_timeout if is_streamed(call.body) else max(self.idle_timeout, NON_STREAMED_READ_TIMEOUT)
        timeout = httpx2.Timeout(connect=10.0, read=read, write=60.0, pool=None)
        url = self.upstream + call.target
        attempt = 0
        while True:
            request = self.client.build_request(call.method, url, headers=headers, content=call.body, timeout=timeout)
            started = time.monotonic()
            try:
                response = await self.client.send(request, stream=True)
            except httpx2.HTTPError as exc:
                delay = retry_delay(attempt, self.retries, status=None)
                if delay is None:
                    raise unreachable(self.upstream, exc) from None
            else:
                delay = self._retry_delay(attempt, response)
                if delay is None:
                    reply = self._reply(response, read)
                    if self.recorder is not None:
                        reply = self.recorder.tee(call, headers, reply, started)
                    return reply
                await _discard(response)
            await asyncio.sleep(delay)
            attempt += 1

    def _retry_delay(self, attempt: int, response: httpx2.Response) -> float | None:
        if response.status_code not in (429, 529) or response.headers.get("x-should-retry") == "false":
            return None
        hinted = _retry_after(response.headers, time.time())
        if hinted is not None and not 0 <= hinted <= self.max_retry_after:
            return None  # a long wait is the client's to decide on
        return retry_delay(attempt, self.retries, status=response.status_code, headers=response.headers, max_retry_after=self.max_retry_after)

    def _reply(self, response: httpx2.Response, idle: float) -> Reply:
        headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in response.headers.raw]
        decode = "content-encoding" in response.headers and response.headers.get("content-type", "").startswith("text/event-stream")
        if decode:  # the proxy reads events, so it forwards them decoded
            headers = [(k, v) for k, v in headers if k.lower() != "content-encoding"]
        return Reply(response.status_code, headers, _chunks(response, decode, idle), response.aclose)


async def _chunks(response: httpx2.Response, decode: bool, idle: float) -> AsyncIterator[bytes]:
    try:
        async for chunk in response.aiter_bytes() if decode else response.aiter_raw():
            yield chunk
    except httpx2.TimeoutException:
        raise UpstreamBroke(f"the upstream sent nothing for {idle:g} s (--upstream-idle-timeout)") from None
    except httpx2.HTTPError as exc:
        raise UpstreamBroke(f"the upstream connection broke mid-stream: {type(exc).__name__}: {exc}") from None


async def _discard(response: httpx2.Response) -> None:
    """Read a small error body to the end, so its connection goes back to the pool."""
    try:
        await response.aread()
    except httpx2.HTTPError:
        pass
    finally:
        await response.aclose()


def unreachable(upstream: str, exc: Exception) -> APIErrorResponse:
    if isinstance(exc, httpx2.TimeoutException):
        return APIErrorResponse(504, f"the upstream {upstream} did not answer in time ({type(exc).__name__})", type="timeout_error")
    return APIErrorResponse(502, f"the upstream {upstream} could not be reached: {type(exc).__name__}: {exc}", type="api_error")
