"""Running the server: uvicorn in this process (``serve``) or in a background thread (tests, the CLI)."""

from __future__ import annotations

import asyncio
import socket
import threading
from typing import Any

import uvicorn

from .app import create_app
from .connections import DEFAULT_HEADER_TIMEOUT, DEFAULT_LIMIT_CONCURRENCY, GuardedHttpProtocol, raise_fd_limit


def make_config(app: Any, host: str = "127.0.0.1", port: int = 8080, *, header_timeout: float = DEFAULT_HEADER_TIMEOUT,
                limit_concurrency: int | None = DEFAULT_LIMIT_CONCURRENCY, **options: Any) -> uvicorn.Config:
    """uvicorn's config with the connection guard (``connections.py``) as its HTTP protocol."""
    options.setdefault("log_level", "warning")
    options.setdefault("timeout_graceful_shutdown", 1)
    options.setdefault("lifespan", "on")
    config = uvicorn.Config(app, host=host, port=port, http=GuardedHttpProtocol,
                            limit_concurrency=limit_concurrency, **options)
    config.header_timeout = header_timeout  # type: ignore[attr-defined]  # read by GuardedHttpProtocol
    return config


class DrainingServer(uvicorn.Server):
    """On shutdown, first tells the backend to stop generating (``drain``), so replies under
    way end at once with an in-band error instead of being cancelled, with a traceback, when
    the grace period runs out."""

    async def shutdown(self, sockets: Any = None) -> None:
        config = getattr(getattr(self.config.app, "state", None), "config", None)
        drain = getattr(getattr(config, "backend", None), "drain", None)
        if drain is not None:
            await drain()
        await super().shutdown(sockets)


def make_server(app: Any, host: str = "127.0.0.1", port: int = 8080, **options: Any) -> uvicorn.Server:
    raise_fd_limit()
    return DrainingServer(make_config(app, host, port, **options))


class ServerThread:
    """A real uvicorn server on a free loopback port, in a daemon thread."""

    def __init__(self, backend: Any = None, *, app: Any = None, server_options: dict[str, Any] | None = None,
                 **app_options: Any) -> None:
        self.backend = backend
        self.app = app if app is not None else create_app(backend, **app_options)
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        self._sock = sock
        self.server = make_server(self.app, port=self.port, **(server_options or {}))
        self.thread = threading.Thread(target=self._run, daemon=True, name="claudewire-server")

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _run(self) -> None:
        asyncio.run(self.server.serve(sockets=[self._sock]))

    def __enter__(self) -> ServerThread:
        self.thread.start()
        while not self.server.started:
            if not self.thread.is_alive():
                raise RuntimeError("the server thread died while starting")
            threading.Event().wait(0.01)
        return self

    def __exit__(self, *exc: Any) -> None:
        self.server.should_exit = True
        self.thread.join(10)
