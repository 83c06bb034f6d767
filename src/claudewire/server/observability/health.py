"""``GET /health``: liveness, with what the backend says about itself (the local model: loaded, queue)."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse


def health_route(backend: Any) -> Any:
    async def health(request: Request) -> JSONResponse:
        details = backend.health() if hasattr(backend, "health") else {}
        return JSONResponse({"status": "ok", "model": backend.model.id, **details})

    return health
