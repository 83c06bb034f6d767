"""A real browser (Debian's chromium, driven by Playwright) against real claudewire servers.

One browser for the module; each test gets a fresh context (its own localStorage). No browser
is downloaded: the tests use the system's chromium, which ``scripts/setup local,test``
installs with apt when it is missing.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx2
import pytest

CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]
DESKTOP = {"width": 1280, "height": 860}
PHONE = {"width": 390, "height": 844}


def chromium_path() -> str:
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    pytest.fail("the browser tests need Debian's chromium: scripts/setup local,test installs it (apt-get install chromium)")


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    """One browser for the page's tests. Module-scoped on purpose: Playwright's sync API keeps an
    event loop running in this thread while it is open, and tests elsewhere call asyncio.run()."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path(), headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class ServeProcess:
    """``claudewire serve`` in a subprocess, as a user starts it."""

    def __init__(self, *args: str) -> None:
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        # one llama.cpp thread: the browser needs the other core (ggml's spinning threads would fight it)
        command = [sys.executable, "-m", "claudewire.cli", "serve", "--port", str(self.port), "--log-level", "warning",
                   "--threads", "1", *args]
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx2.get(self.base_url + "/v1/models", headers={"anthropic-version": "2023-06-01"}, timeout=1)
                return
            except httpx2.TransportError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError(f"claudewire serve did not start: {self.process.stderr.read().decode()}") from None
                time.sleep(0.05)

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


@pytest.fixture(scope="session")
def scripted_serve() -> Iterator[ServeProcess]:
    """``claudewire serve --backend scripted --faults``: the page's server for most tests."""
    server = ServeProcess("--backend", "scripted", "--faults", "--ping-interval", "0.5")
    yield server
    server.stop()


ARTIFACTS = Path(__file__).parent / "artifacts"  # gitignored


@pytest.fixture
def artifacts(request: pytest.FixtureRequest) -> Path:
    """Where a test writes its screenshots: tests/web/artifacts/<test name>/."""
    folder = ARTIFACTS / request.node.name
    folder.mkdir(parents=True, exist_ok=True)
    return folder
