"""The ``claudewire`` command: ``chat`` with a model, list ``models``, ``serve`` a Messages API.

Each command lives in its own module, which adds its parser and sets ``run``. Ending is
the same for all: Ctrl-C exits 130 and a reader that left (``| head``) exits 0, neither
with a traceback.
"""

from __future__ import annotations

import os
import signal
import sys

from .._version import __version__
from . import chat, models, serve
from .args import HelpFormatter, Parser
from .lifetime import finish

__all__ = ["main"]


def build_parser() -> Parser:
    parser = Parser(
        prog="claudewire",
        description="Stream Claude Messages API responses end to end.",
        formatter_class=HelpFormatter,
        epilog="Run `claudewire COMMAND --help` for a command's options and the environment variables it reads.",
    )
    parser.add_argument("--version", action="version", version=f"claudewire {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=Parser)
    for command in (chat, models, serve):
        command.add_parser(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    # Ctrl-C stops a reply. A shell that starts us in the background (`cmd &`, some CI runners)
    # hands SIGINT down ignored, and Python then never raises KeyboardInterrupt: take it back.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        code = args.run(args)
    except KeyboardInterrupt:
        code = 130
    except BrokenPipeError:  # the reader left (`| head`): not an error worth a traceback
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        code = 0
    return finish(code)
