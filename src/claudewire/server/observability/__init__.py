"""What an operator sees: one access-log line per request, Prometheus metrics, and a health check.

Everything is read from the outside of the app, as ASGI messages: the response status,
and for a stream its SSE events (through the protocol core's decoder). So the log tells
a stream that failed after its 200 from one that completed, whatever produced it.

    app.py ──▶ Observer.middleware ──▶ RequestRecord (record.py) ──▶ access log (access_log.py)
                                                                 └─▶ Metrics (metrics.py) ──▶ GET /metrics
    GET /health (health.py)
"""

from __future__ import annotations

from typing import Any

from starlette.middleware import Middleware
from starlette.routing import Route

from .access_log import AccessLog, setup_logging
from .health import health_route
from .metrics import Metrics
from .middleware import ObservingMiddleware

__all__ = ["Observer", "setup_logging"]


class Observer:
    """The pieces for one app: its metrics registry and, if asked, an access log (``text`` or ``json``)."""

    def __init__(self, backend: Any, *, access_log: str | None = None) -> None:
        self.metrics = Metrics(backend)
        self.access_log = AccessLog(access_log) if access_log else None
        self.backend = backend

    def routes(self) -> list[Route]:
        return [Route("/health", health_route(self.backend), methods=["GET"]), Route("/metrics", self.metrics.route, methods=["GET"])]

    def middleware(self) -> Middleware:
        return Middleware(ObservingMiddleware, observer=self)

    def finished(self, record: Any) -> None:
        self.metrics.observe(record)
        if self.access_log is not None:
            self.access_log.write(record)
