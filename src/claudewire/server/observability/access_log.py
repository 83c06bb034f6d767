"""The access log: one line per request, written when it ends, as text or JSON.

Only what the record holds is written: no header, so never the API key.
"""

from __future__ import annotations

import logging
import sys
import time
from typing import Any

import msgspec

from .record import RequestRecord

log = logging.getLogger("claudewire.access")


def setup_logging(level: str = "info") -> None:
    """The ``claudewire`` loggers to stderr, one message per line (the server's own processes call this)."""
    logger = logging.getLogger("claudewire")
    if not any(getattr(h, "claudewire", False) for h in logger.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(message)s"))
        handler.claudewire = True  # type: ignore[attr-defined]
        logger.addHandler(handler)
    logger.setLevel(level.upper())
    logger.propagate = False


def fields(record: RequestRecord) -> dict[str, Any]:
    return {
        "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.started_wall)) + f".{int(record.started_wall % 1 * 1000):03d}Z",
        "request_id": record.request_id,
        "method": record.method,
        "path": record.path,
        "status": record.status,
        "model": record.model,
        "streamed": record.streamed,
        "input_tokens": record.input_tokens,
        "output_tokens": record.output_tokens,
        "ttfb_s": _round(record.first_byte),
        "ttft_s": _round(record.first_token),
        "duration_s": _round(record.ended),
        "outcome": record.outcome,
        "error_type": record.error_type,
    }


def _round(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds, 4)


def text_line(record: RequestRecord) -> str:
    f = fields(record)

    def show(value: Any) -> str:
        return "-" if value is None else str(value)

    outcome = f["outcome"] + (f"({f['error_type']})" if f["error_type"] else "")
    return (
        f"{f['time']} {show(f['request_id'])} {f['method']} {f['path']} {show(f['status'])} {outcome}"
        f" model={show(f['model'])} stream={'yes' if f['streamed'] else 'no'}"
        f" tokens={show(f['input_tokens'])}/{show(f['output_tokens'])}"
        f" ttfb={show(f['ttfb_s'])}s ttft={show(f['ttft_s'])}s duration={show(f['duration_s'])}s"
    )


class AccessLog:
    def __init__(self, format: str = "text") -> None:
        if format not in ("text", "json"):
            raise ValueError(f"access log format must be text or json, not {format!r}")
        self.format = format

    def write(self, record: RequestRecord) -> None:
        if not log.isEnabledFor(logging.INFO):
            return
        line = msgspec.json.encode(fields(record)).decode() if self.format == "json" else text_line(record)
        log.info(line)
