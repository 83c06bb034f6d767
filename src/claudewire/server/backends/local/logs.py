"""llama.cpp's log lines into Python logging (``claudewire.llama``), at their real levels.

llama-cpp-python's own callback maps ggml's levels by an older numbering: llama.cpp's
warnings print as errors and its errors are hidden. This callback uses ggml.h's numbering
(none 0, debug 1, info 2, warn 3, error 4, continuation 5). llama.cpp's info lines (the
model's metadata, every graph it builds) are detail for us: they go to debug. One warning is ours by design
and goes to debug: the lines llama.cpp writes when the engine aborts a step on purpose (a
cancel, or a request arriving while an idle slot is being warmed): compute status 1 is
``GGML_STATUS_ABORTED`` and ``llama_decode`` returns 2 for it.
"""

from __future__ import annotations

import ctypes
import logging

import llama_cpp

log = logging.getLogger("claudewire.llama")

LEVELS = {0: logging.DEBUG, 1: logging.DEBUG, 2: logging.DEBUG, 3: logging.WARNING, 4: logging.ERROR}
CONTINUATION = 5
EXPECTED = (  # an aborted step, as each layer reports it
    b"graph_compute: ggml_backend_sched_graph_compute_async failed with error 1\n",
    b"process_ubatch: failed to compute graph, compute status: 1\n",
    b"llama_decode: failed to decode, ret = 2\n",
    b"removing memory module entries",
)

_last = logging.DEBUG


@llama_cpp.llama_log_callback
def _forward(level: int, text: bytes, user_data: ctypes.c_void_p) -> None:
    global _last
    python_level = _last if level == CONTINUATION else LEVELS.get(level, logging.DEBUG)
    if any(marker in text for marker in EXPECTED):
        python_level = logging.DEBUG
    _last = python_level
    if log.isEnabledFor(python_level):
        log.log(python_level, "%s", text.decode("utf-8", "replace").rstrip("\n"))


def route_llama_logs() -> None:
    """From now on, every llama.cpp and ggml log line goes to ``claudewire.llama``."""
    llama_cpp.llama_log_set(_forward, ctypes.c_void_p(0))
