"""The Messages API server: a Starlette app over one backend.

Routes: POST /v1/messages (streamed or not), POST /v1/messages/count_tokens,
GET /v1/models (paged) and GET /v1/models/{id}; GET /health and GET /metrics (see
``observability/``) need no key; the web chat page at / (``webpage.py``). Every response carries ``request-id``;
every error has the API's JSON shape and status.
"""

from __future__ import annotations

import contextlib
import hmac
import logging
from collections.abc import AsyncIterator
from typing import Any

import msgspec
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..protocol.accumulator import MessageAccumulator
from ..protocol.events import event_from_dict
from ..protocol.wire import status_for_type
from . import ids
from .catalogue import Catalogue
from .errors import APIErrorResponse, invalid
from .faults import CUT, FaultPlan, inject, raise_before_stream
from .limits import Limits, validated
from .observability import Observer
from .proxy.respond import forward as forward_to_upstream
from .relay import Relay
from .relay import routes as relay_routes
from .streaming import EventStreamResponse, sse_body, unless_disconnected
from .validation import validate_count, validate_create
from .webpage import web_routes

log = logging.getLogger("claudewire.server")
_encode = msgspec.json.Encoder().encode


class ServerConfig:
    def __init__(
        self, backend: Any, *, api_key: str | None = None, ping_interval: float = 10.0, faults: bool = False, relay: Any = None,
        limits: Limits | None = None,
    ) -> None:
        self.backend = backend
        self.limits = limits or Limits()
        self.api_key = api_key.encode() if api_key else None
        self.ping_interval = ping_interval
        self.faults = FaultPlan() if faults else None
        self.catalogue = Catalogue(backend.model)
        self.passthrough = hasattr(backend, "forward")  # proxy, replay: the upstream answers the API's routes
        self.relay = Relay(relay, ping_interval=ping_interval)  # resumable streams (server/relay/)

    def __repr__(self) -> str:  # never show the key
        return f"ServerConfig(backend={self.backend.model.id!r}, auth={'on' if self.api_key else 'off'})"


def json_response(status: int, body: Any, request_id: str, headers: dict[str, str] | None = None) -> Response:
    return Response(_encode(body), status, headers={"request-id": request_id, **(headers or {})}, media_type="application/json")


def error_response(error: APIErrorResponse, request_id: str) -> Response:
    return json_response(error.status, error.body(request_id), request_id, error.response_headers())


def _check_headers(config: ServerConfig, request: Request, versioned: bool = True) -> None:
    if config.api_key is not None:
        given = request.headers.get("x-api-key")
        if given is None:
            auth = request.headers.get("authorization", "")
            given = auth[7:] if auth[:7].lower() == "bearer " else None
        if given is None:
            raise APIErrorResponse(401, "x-api-key header is required")
        if not hmac.compare_digest(given.encode(), config.api_key):
            raise APIErrorResponse(401, "invalid x-api-key")
    if versioned and "anthropic-version" not in request.headers:
        raise invalid("anthropic-version: header is required")


def endpoint(handler: Any, *, versioned: bool = True) -> Any:
    """Request id, header checks and the API's error format around a route handler.
    ``versioned=False``: no anthropic-version needed (a browser EventSource cannot send it)."""

    async def route(request: Request) -> Response:
        request_id = ids.request_id()
        config: ServerConfig = request.app.state.config
        try:
            _check_headers(config, request, versioned)
            response = await handler(request, config, request_id)
        except APIErrorResponse as exc:
            return error_response(exc, request_id)
        except Exception:
            log.exception("request %s failed", request_id)
            return error_response(APIErrorResponse(500, "Internal server error"), request_id)
        return response

    return route


async def create_message(request: Request, config: ServerConfig, request_id: str) -> Any:
    params = await validated(request, config.limits, validate_create, config.catalogue)
    fault, delay = config.faults.select(request.headers) if config.faults else (None, 0.0)
    raise_before_stream(fault)
    resumable = params.stream and relay_routes.wants_resume(request)
    cut_after = None
    if resumable and fault is not None and fault.kind == "disconnect_after":
        fault, cut_after = None, fault.after  # it breaks the connection, not the generation
    backend = config.backend
    events = backend.stream(params)
    if fault is not None or delay:
        events = inject(events, fault, delay)
    headers = {"request-id": request_id, "x-claudewire-backend": backend.model.id}
    try:  # errors before the first event are plain HTTP errors; a client that leaves while queued is dropped
        waiting = await unless_disconnected(request.receive, events.__anext__())
        if waiting.cancelled():
            raise APIErrorResponse(499, "client closed the request")
        first = waiting.result()
    except BaseException:
        await events.aclose()
        raise
    if resumable:
        headers.update({"content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache"})
        return await config.relay.start(request, first, events, request_id=request_id, headers=headers, cut_after=cut_after)
    if params.stream:
        headers.update({"content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache"})
        body = sse_body(first, events, request_id=request_id)
        return EventStreamResponse(body, headers, ping_interval=config.ping_interval)
    collecting = await unless_disconnected(request.receive, _collect(first, events))
    if collecting.cancelled():
        raise APIErrorResponse(499, "client closed the request")
    return json_response(200, collecting.result(), request_id, headers)


async def _collect(first: dict[str, Any], events: Any) -> dict[str, Any]:
    """A non-streamed reply: the same events, folded by the protocol core's accumulator."""
    accumulator = MessageAccumulator()
    try:
        event = first
        while True:
            if event is CUT:
                raise APIErrorResponse(500, "Internal server error")
            if event["type"] == "error":
                error = event["error"]
                raise APIErrorResponse(status_for_type(error["type"]), error["message"], type=error["type"])
            accumulator.feed(event_from_dict(event))
            try:
                event = await events.__anext__()
            except StopAsyncIteration:
                break
    finally:
        await events.aclose()
    message = accumulator.message
    assert message is not None
    return message.to_dict()


async def count_tokens(request: Request, config: ServerConfig, request_id: str) -> Response:
    params = await validated(request, config.limits, validate_count, config.catalogue)
    return json_response(200, {"input_tokens": await config.backend.count_tokens(params)}, request_id)


async def list_models(request: Request, config: ServerConfig, request_id: str) -> Response:
    query = request.query_params
    raw_limit = query.get("limit", "20")
    if not (raw_limit.isascii() and raw_limit.isdigit()) or not 1 <= int(raw_limit) <= 1000:
        raise invalid("limit: Input should be greater than or equal to 1 and less than or equal to 1000")
    page = config.catalogue.page(int(raw_limit), query.get("after_id"), query.get("before_id"))
    return json_response(200, page, request_id)


async def get_model(request: Request, config: ServerConfig, request_id: str) -> Response:
    model_id = request.path_params["model_id"]
    entry = config.catalogue.get(model_id)
    if entry is None:
        raise APIErrorResponse(404, f"model: {model_id}")
    return json_response(200, entry.to_dict(), request_id)


async def _http_error(request: Request, exc: Exception) -> Response:
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    message = {404: "The requested resource could not be found.", 405: "Method not allowed."}.get(status, "Internal server error")
    return error_response(APIErrorResponse(status, message), ids.request_id())


@contextlib.asynccontextmanager
async def _lifespan(app: Starlette) -> AsyncIterator[None]:
    yield
    await app.state.config.relay.aclose()
    await app.state.config.backend.aclose()


def create_app(backend: Any, *, access_log: str | None = None, web: bool = True, **options: Any) -> Starlette:
    """``access_log``: ``"text"`` or ``"json"`` for one log line per request (off by default);
    ``web``: serve the chat page at ``/``."""
    config = ServerConfig(backend, **options)
    observer = Observer(backend, access_log=access_log)
    upstream = endpoint(forward_to_upstream) if config.passthrough else None  # server/proxy/respond.py
    app = Starlette(
        routes=[
            Route("/v1/messages", upstream or endpoint(create_message), methods=["POST"]),
            Route("/v1/messages/count_tokens", upstream or endpoint(count_tokens), methods=["POST"]),
            Route("/v1/messages/streams/{stream_id}", endpoint(relay_routes.read_stream, versioned=False), methods=["GET"]),
            Route("/v1/messages/streams/{stream_id}/cancel", endpoint(relay_routes.cancel_stream), methods=["POST"]),
            Route("/v1/models", upstream or endpoint(list_models), methods=["GET"]),
            Route("/v1/models/{model_id:path}", upstream or endpoint(get_model), methods=["GET"]),
            *observer.routes(),
            *(web_routes() if web else []),
            *([Route("/v1/{path:path}", upstream, methods=["GET", "POST", "PUT", "PATCH", "DELETE"])] if upstream else []),
        ],
        middleware=[observer.middleware()],
        exception_handlers={HTTPException: _http_error},
        lifespan=_lifespan,
    )
    app.state.config = config
    return app
