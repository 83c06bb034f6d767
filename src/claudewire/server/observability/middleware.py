"""The ASGI middleware that watches each HTTP request and reports it when it ends."""

from __future__ import annotations

import asyncio
from typing import Any

from .record import RequestRecord


class ObservingMiddleware:
    def __init__(self, app: Any, observer: Any) -> None:
        self.app = app
        self.observer = observer

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        record = RequestRecord(scope)
        metrics = self.observer.metrics
        sent_all = False
        streaming = False

        async def watched_receive() -> Any:
            message = await receive()
            if message["type"] == "http.disconnect" and not sent_all:
                record.disconnected = True
            return message

        async def watched_send(message: Any) -> None:
            nonlocal sent_all, streaming
            if message["type"] == "http.response.start":
                record.response_start(message)
                if record.streamed:
                    streaming = True
                    metrics.stream_started()
            elif message["type"] == "http.response.body":
                record.body(message.get("body", b""))
                if not message.get("more_body", False):
                    sent_all = True
            try:
                await send(message)
            except OSError:
                record.disconnected = not sent_all
                raise

        outcome = None
        try:
            await self.app(scope, watched_receive, watched_send)
        except asyncio.CancelledError:
            outcome = "cancelled"
            raise
        except BaseException:
            outcome = "error"
            record.error_type = record.error_type or "api_error"
            record.status = record.status or 500
            raise
        finally:
            route = scope.get("route")
            record.route = getattr(route, "path", None) or "other"
            if streaming:
                metrics.stream_ended()
            record.finish(outcome)
            self.observer.finished(record)
