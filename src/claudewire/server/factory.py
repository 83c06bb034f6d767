"""An app factory for ``uvicorn --factory`` (several workers): options come from the environment."""

from __future__ import annotations

import json
import os

from starlette.applications import Starlette

from .app import create_app
from .backends.registry import load_backend
from .limits import Limits
from .observability import setup_logging

ENV = "CLAUDEWIRE_SERVE_OPTIONS"


def app_from_env() -> Starlette:
    options = json.loads(os.environ.get(ENV, "{}"))
    setup_logging(options.pop("log_level", "info"))
    backend = load_backend(options.pop("backend", "local"), **options.pop("backend_options", {}))
    options["limits"] = Limits(**options.get("limits", {}))
    return create_app(backend, api_key=os.environ.get("CLAUDEWIRE_SERVER_API_KEY") or None, **options)
