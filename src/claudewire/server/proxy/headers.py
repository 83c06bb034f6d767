"""Which headers cross the proxy, in each direction.

Hop-by-hop headers (RFC 9110 §7.6.1, plus any the ``connection`` header names) belong
to one connection and never cross. Credentials never cross either, unless the proxy
was told to forward the client's key. ``date`` and ``server`` are the proxy's own
(uvicorn writes them); ``host`` and ``content-length`` are rewritten by the HTTP client.
"""

from __future__ import annotations

from collections.abc import Iterable

HOP_BY_HOP = frozenset(
    {"connection", "keep-alive", "proxy-connection", "proxy-authenticate", "proxy-authorization", "te", "trailer", "trailers",
     "transfer-encoding", "upgrade"}
)
CREDENTIALS = frozenset({"x-api-key", "authorization", "cookie"})
FAULT_HEADERS = frozenset({"x-claudewire-fault", "x-claudewire-fault-id", "x-claudewire-delay-ms"})
_REWRITTEN_REQUEST = frozenset({"host", "content-length"})
_PROXY_OWN_RESPONSE = frozenset({"date", "server", "content-length"})

Headers = list[tuple[str, str]]


def _connection_scoped(headers: Iterable[tuple[str, str]]) -> set[str]:
    named = {token.strip().lower() for name, value in headers if name.lower() == "connection" for token in value.split(",")}
    return HOP_BY_HOP | named


def upstream_request_headers(
    client_headers: Iterable[tuple[str, str]], *, upstream_key: str | None, forward_client_key: bool, drop: frozenset[str] = frozenset()
) -> Headers:
    """The client's headers as the upstream gets them: its own key, or the client's if told to."""
    client_headers = list(client_headers)
    skip = _connection_scoped(client_headers) | _REWRITTEN_REQUEST | drop
    if not forward_client_key:
        skip |= CREDENTIALS
    out = [(name, value) for name, value in client_headers if name.lower() not in skip]
    if not forward_client_key and upstream_key:
        out.append(("x-api-key", upstream_key))
    return out


def client_response_headers(upstream_headers: Iterable[tuple[str, str]], *, keep_length: bool) -> Headers:
    """The upstream's response headers as the client gets them."""
    upstream_headers = list(upstream_headers)
    skip = _connection_scoped(upstream_headers) | _PROXY_OWN_RESPONSE
    out = [(name, value) for name, value in upstream_headers if name.lower() not in skip]
    if keep_length:
        out += [(name, value) for name, value in upstream_headers if name.lower() == "content-length"]
    return out


def without_credentials(headers: Iterable[tuple[str, str]]) -> Headers:
    return [(name, value) for name, value in headers if name.lower() not in CREDENTIALS]
