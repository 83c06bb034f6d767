"""Backend names to classes, imported lazily so optional extras stay optional."""

from __future__ import annotations

import importlib
from typing import Any

BACKENDS = {
    "local": ("claudewire.server.backends.local", "LocalBackend", "pip install 'claudewire[local]' (or: scripts/setup local)"),
    "scripted": ("claudewire.server.backends.scripted", "ScriptedBackend", ""),
    "proxy": ("claudewire.server.proxy.backend", "ProxyBackend", "pip install 'claudewire[server]'"),
    "replay": ("claudewire.server.cassettes.replay", "ReplayBackend", "pip install 'claudewire[server]'"),
}


class BackendUnavailable(RuntimeError):
    pass


def load_backend(name: str, **options: Any) -> Any:
    try:
        module_name, class_name, hint = BACKENDS[name]
    except KeyError:
        raise BackendUnavailable(f"unknown backend {name!r}; choose one of: {', '.join(BACKENDS)}") from None
    try:
        module = importlib.import_module(module_name)
        return getattr(module, class_name)(**options)
    except ImportError as exc:
        raise BackendUnavailable(f"the {name} backend needs {exc.name or 'an optional package'}: {hint}") from None
