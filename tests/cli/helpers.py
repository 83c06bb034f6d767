"""Running the real ``claudewire`` command in a child process, as a user would."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

COMMAND = [sys.executable, "-m", "claudewire.cli"]
ENDPOINT_VARS = ("ANTHROPIC_API_KEY", "ANTHROPIC_BASE_URL", "ANTHROPIC_AUTH_TOKEN", "ANTHROPIC_CUSTOM_HEADERS")


def environment(data_dir: Path | None = None, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ENDPOINT_VARS}
    if data_dir is not None:
        env["CLAUDEWIRE_DATA_DIR"] = str(data_dir)
    env.update(extra)
    return env


def run(*args: str, env: dict[str, str] | None = None, input: bytes | None = None, **kwargs: Any) -> subprocess.CompletedProcess:
    """The command to its end; stdin is /dev/null unless ``input`` is given."""
    if input is None:
        kwargs.setdefault("stdin", subprocess.DEVNULL)
    return subprocess.run([*COMMAND, *args], capture_output=True, env=env or environment(), input=input, timeout=120, **kwargs)


def together(*calls: Callable[[], subprocess.CompletedProcess]) -> list[subprocess.CompletedProcess]:
    """Independent commands at the same time: each one is mostly a Python start-up."""
    with ThreadPoolExecutor(len(calls)) as pool:
        return [future.result() for future in [pool.submit(call) for call in calls]]
