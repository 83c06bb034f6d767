"""What the user sees: the reply on stdout, status and the closing line on stderr.

Only the reply goes to stdout, so ``claudewire chat … > file`` and pipes get the text and
nothing else. On a terminal a spinner shows while the model loads or a prompt is processed,
and the reply may be rendered as Markdown with ``rich`` (the ``cli`` extra); piped output
stays plain text.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, TextIO


class Spinner:
    """A one-line status on stderr while we wait; nothing at all unless stderr is a terminal."""

    FRAMES = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stderr
        self.enabled = self.stream.isatty()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self, label: str) -> None:
        if not self.enabled or self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._spin, args=(label,), daemon=True, name="claudewire-spinner")
        self._thread.start()

    def stop(self) -> None:
        if self._thread is None:
            return
        self._stop.set()
        self._thread.join()
        self._thread = None
        self.stream.write("\r\x1b[K")
        self.stream.flush()

    @contextmanager
    def running(self, label: str) -> Iterator[None]:
        self.start(label)
        try:
            yield
        finally:
            self.stop()

    def _spin(self, label: str) -> None:
        began = time.monotonic()
        frame = 0
        while not self._stop.wait(0.1):
            seconds = time.monotonic() - began
            self.stream.write(f"\r{self.FRAMES[frame % len(self.FRAMES)]} {label}… {seconds:.0f}s")
            self.stream.flush()
            frame += 1


class PlainText:
    """The reply as it arrives, flushed per chunk."""

    def __init__(self, out: TextIO) -> None:
        self.out = out
        self.ended_with_newline = True

    def write(self, text: str) -> None:
        self.out.write(text)
        self.out.flush()
        self.ended_with_newline = text.endswith("\n")

    def close(self) -> None:
        if not self.ended_with_newline:
            self.out.write("\n")
            self.out.flush()
            self.ended_with_newline = True


class Markdown:
    """The reply re-rendered as Markdown as it grows (rich's Live display), from its first text on."""

    def __init__(self, out: TextIO) -> None:
        from rich.console import Console
        from rich.live import Live
        from rich.markdown import Markdown as RichMarkdown

        self._markdown = RichMarkdown
        self.text = ""
        self.live = Live(console=Console(file=out), refresh_per_second=10, vertical_overflow="visible")
        self.started = False

    def write(self, text: str) -> None:
        if not self.started:  # only now: the spinner has cleared its line
            self.live.start()
            self.started = True
        self.text += text
        self.live.update(self._markdown(self.text))

    def close(self) -> None:
        if self.started:
            self.live.stop()
            self.started = False


def reply_view(out: TextIO, render: bool | None) -> PlainText | Markdown:
    """Markdown when asked (``--render``) or on a terminal with rich installed; plain text otherwise."""
    if render is False or (render is None and not out.isatty()):
        return PlainText(out)
    try:
        return Markdown(out)
    except ImportError:
        if render:
            print("claudewire: --render needs rich: pip install 'claudewire[cli]'; showing plain text", file=sys.stderr)
        return PlainText(out)


def prompt_tokens(usage: Any) -> int:
    """Every token of the prompt: those read now and those a prompt cache held or stored."""
    return usage.input_tokens + (usage.cache_read_input_tokens or 0) + (usage.cache_creation_input_tokens or 0)


def closing_line(message: Any, first_token_s: float | None, seconds: float, *, interrupted: bool = False) -> str:
    """Stop reason, tokens, time to first token and tokens/s, in one line."""
    usage = message.usage
    parts = ["interrupted" if interrupted else f"{message.stop_reason}"]
    cached = f" ({usage.cache_read_input_tokens} cached)" if usage.cache_read_input_tokens else ""
    parts.append(f"{prompt_tokens(usage)} in{cached} / {usage.output_tokens} out tokens")
    if first_token_s is not None:
        parts.append(f"first token {first_token_s:.2f} s")
        generating = seconds - first_token_s
        if usage.output_tokens > 1 and generating > 0:
            parts.append(f"{(usage.output_tokens - 1) / generating:.1f} tokens/s")
    parts.append(f"{seconds:.2f} s")
    return " · ".join(parts)


MAX_DETAIL = 300


def describe_error(exc: BaseException, url: str | None = None) -> str:
    """One line: the error class, its message, and the URL tried for connection errors.

    The API's own ``error.message`` is used, never the body's dict; a body that is not the
    API's JSON (an HTML page from a proxy) is squeezed to one short line.
    """
    from .._exceptions import APIConnectionError, APIStatusError

    name = type(exc).__name__
    if isinstance(exc, APIStatusError):
        error = exc.body.get("error") if isinstance(exc.body, dict) else None
        detail = error.get("message") if isinstance(error, dict) else None
        if detail is None:  # not the API's error shape: the raw body if it is text
            detail = exc.body if isinstance(exc.body, str) else exc.message
        text = f"{name}: {one_line(str(detail)) or 'no details'} (status {exc.status_code}"
        return text + (f", request-id {exc.request_id})" if exc.request_id else ")")
    message = one_line(getattr(exc, "message", None) or str(exc))
    if isinstance(exc, APIConnectionError) and url:
        return f"{name}: {message} (url: {url})"
    return f"{name}: {message}"


def one_line(text: str) -> str:
    squeezed = " ".join(text.split())
    return squeezed if len(squeezed) <= MAX_DETAIL else squeezed[: MAX_DETAIL - 1] + "…"
