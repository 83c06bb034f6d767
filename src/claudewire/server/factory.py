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
    key_file = options.pop("api_key_file", None)
    if key_file:  # not the key itself: a process's environment can be read (`ps e`)
        with open(key_file, encoding="utf-8") as file:
            api_key = file.readline().strip()
    else:
        api_key = os.environ.get("CLAUDEWIRE_SERVER_API_KEY") or None
    return create_app(backend, api_key=api_key, **options)
