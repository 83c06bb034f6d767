"""The web chat page: the static files in ``web/`` (package data, no build step).

``/`` is the page and ``/web/...`` its scripts, styles and vendored libraries. Every file
goes out with a Content-Security-Policy that allows only this origin's own scripts, styles
and API, so even a model output that slipped past the page's sanitizer could neither run
script nor load anything remote. The page uses only the server's public API.
"""

from __future__ import annotations

import mimetypes
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

WEB_DIR = Path(__file__).parent / "web"
mimetypes.add_type("text/javascript", ".mjs")  # a module script needs a JavaScript type; not every system table has .mjs
HEADERS = {
    "content-security-policy": "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "cache-control": "no-cache",  # revalidate (ETag): an upgraded server never serves a stale page
}


class _WebFiles(StaticFiles):
    async def get_response(self, path: str, scope: Any) -> Response:
        response = await super().get_response(path, scope)
        response.headers.update(HEADERS)
        return response


async def _index(request: Request) -> Response:
    return FileResponse(WEB_DIR / "index.html", headers=HEADERS)


def web_routes() -> list[BaseRoute]:
    """The page's routes; they sit beside the API's without shadowing any of its paths."""
    return [Route("/", _index, methods=["GET", "HEAD"]), Mount("/web", app=_WebFiles(directory=WEB_DIR), name="web")]
