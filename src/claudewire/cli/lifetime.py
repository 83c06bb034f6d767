"""How the command ends when work it cannot interrupt is still running.

The embedded model computes in a worker thread inside llama.cpp, which Python cannot
interrupt mid-call, and the interpreter joins its threads (the server's, the engine's)
before it exits. So once a command has used the embedded model it ends the process
directly after flushing its output: Ctrl-C or ``| head`` during prompt processing then
exits at once instead of waiting for the computation to wind down.
"""

from __future__ import annotations

import os
import sys

_unjoinable_threads = False


def mark_unjoinable_threads() -> None:
    global _unjoinable_threads
    _unjoinable_threads = True


def finish(code: int) -> int:
    if not _unjoinable_threads:
        return code
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (BrokenPipeError, ValueError):
            pass
    os._exit(code)
