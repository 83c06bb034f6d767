"""``claudewire models``: what the endpoint serves (``GET /v1/models``, every page)."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from . import endpoint
from .args import HelpFormatter
from .chat import ENVIRONMENT, fail
from .render import describe_error


def add_parser(commands: Any) -> None:
    parser = commands.add_parser("models", help="list the models the endpoint serves", formatter_class=HelpFormatter,
                                 description="List the models the endpoint serves.", epilog=ENVIRONMENT)
    endpoint.add_arguments(parser)
    parser.add_argument("--json", action="store_true", help="one JSON object per model")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from .. import APIError

    try:
        with endpoint.open_endpoint(args) as (where, _):
            try:
                models = list(where.client.models.list(limit=100))
            except APIError as exc:
                return fail(describe_error(exc, where.url))
    except endpoint.EndpointUnavailable as exc:
        return fail(str(exc), 2)
    for model in models:
        if args.json:
            print(json.dumps(model.to_dict(), ensure_ascii=False))
        else:
            print(f"{model.id:<32} {model.display_name}")
    sys.stdout.flush()
    return 0
