"""``claudewire serve``: a Messages API server that real clients cannot tell from the API."""

from .app import create_app

__all__ = ["create_app"]
