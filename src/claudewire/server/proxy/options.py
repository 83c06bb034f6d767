"""``claudewire serve`` options of the proxy and replay backends (argparse only: no server imports)."""

from __future__ import annotations

import argparse
from typing import Any

DEFAULT_UPSTREAM = "https://api.anthropic.com"


def add_arguments(serve: argparse.ArgumentParser) -> None:
    proxy = serve.add_argument_group(
        "proxy backend (--backend proxy); the upstream key comes from env CLAUDEWIRE_UPSTREAM_API_KEY, else ANTHROPIC_API_KEY"
    )
    proxy.add_argument("--upstream", default=DEFAULT_UPSTREAM, metavar="URL", help="the Messages API to forward to (default: %(default)s)")
    proxy.add_argument("--forward-client-key", action="store_true", help="send each client's own key upstream instead of the proxy's")
    proxy.add_argument("--upstream-idle-timeout", type=float, default=60.0, metavar="SECONDS",
                       help="end a stream with an in-band error when the upstream sends nothing for this long (default: %(default)s)")
    proxy.add_argument("--upstream-retries", type=int, default=2, metavar="N",
                       help="retries of a connection failure or 429/529, only before the first byte (default: %(default)s)")
    proxy.add_argument("--record", default=None, metavar="DIR", help="save every exchange as a cassette in DIR")
    replay = serve.add_argument_group("replay backend (--backend replay)")
    replay.add_argument("--cassettes", default=None, metavar="DIR", help="the cassettes to answer from")
    replay.add_argument("--replay-speed", type=float, default=1.0, metavar="X", help="1: as recorded, 2: twice as fast, 0: no pauses")


def backend_options(args: argparse.Namespace, *, api_key: str | None) -> dict[str, Any]:
    """The backend's constructor options; ValueError for a combination that makes no sense."""
    if args.backend != "proxy" and (args.record or args.forward_client_key or args.upstream != DEFAULT_UPSTREAM):
        raise ValueError("--upstream, --record and --forward-client-key go with --backend proxy")
    if args.backend != "replay" and args.cassettes:
        raise ValueError("--cassettes goes with --backend replay")
    if args.backend == "proxy":
        if args.forward_client_key and api_key:
            raise ValueError("--forward-client-key passes the client's key upstream, so the proxy cannot also require --api-key")
        return {"upstream": args.upstream, "forward_client_key": args.forward_client_key, "idle_timeout": args.upstream_idle_timeout,
                "retries": args.upstream_retries, "record": args.record}
    if args.backend == "replay":
        if not args.cassettes:
            raise ValueError("--backend replay needs --cassettes DIR")
        return {"cassettes": args.cassettes, "speed": args.replay_speed}
    return {}
