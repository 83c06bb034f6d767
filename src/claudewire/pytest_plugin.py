"""A pytest plugin: your streaming tests, run offline against recorded real streams.

Turn it on in a ``conftest.py``::

    pytest_plugins = ["claudewire.pytest_plugin"]

The ``claudewire_replay`` fixture starts ``claudewire serve --backend replay`` on a free
loopback port over a cassette folder, and points ``ANTHROPIC_BASE_URL`` and
``ANTHROPIC_API_KEY`` at it for the test, so clients built from the environment (the
official SDK, claudewire, LiteLLM...) talk to it. The folder is the one named by
``@pytest.mark.claudewire_cassettes("dir")`` (relative to the test file), else the
``claudewire_cassettes`` ini option (relative to the root dir), else ``cassettes/``
beside the test file.

``pytest --claudewire-record`` records instead: the same fixture runs a recording proxy
(``--backend proxy --record``) to the real API, or to ``--claudewire-upstream URL``, with
the key from ``CLAUDEWIRE_UPSTREAM_API_KEY`` or ``ANTHROPIC_API_KEY``. Replays run as
fast as possible unless ``--claudewire-replay-speed`` says otherwise (1: as recorded).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest


@dataclass(frozen=True)
class CassetteServer:
    base_url: str
    cassettes: Path
    recording: bool


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("claudewire", "claudewire cassettes")
    group.addoption("--claudewire-record", action="store_true", help="record cassettes through a proxy instead of replaying them")
    group.addoption("--claudewire-upstream", default=None, help="the API to record from (default: the real API)")
    group.addoption("--claudewire-replay-speed", type=float, default=0.0, help="1: as recorded; 0 (default): no pauses")
    parser.addini("claudewire_cassettes", "the cassette folder, relative to the root dir", default=None)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "claudewire_cassettes(path): the cassette folder of this test, relative to its file")


class _Servers:
    """One server per cassette folder for the whole session, stopped at its end."""

    def __init__(self, config: pytest.Config, stack: ExitStack) -> None:
        self.config, self.stack = config, stack
        self.by_folder: dict[Path, CassetteServer] = {}

    def get(self, folder: Path) -> CassetteServer:
        if folder not in self.by_folder:
            self.by_folder[folder] = _start(self.config, folder, self.stack)
        return self.by_folder[folder]


@pytest.fixture(scope="session")
def _claudewire_servers(pytestconfig: pytest.Config) -> Iterator[_Servers]:
    with ExitStack() as stack:
        yield _Servers(pytestconfig, stack)


def _folder(request: pytest.FixtureRequest) -> Path:
    marker = request.node.get_closest_marker("claudewire_cassettes")
    if marker is not None:
        return (request.path.parent / marker.args[0]).resolve()
    configured = request.config.getini("claudewire_cassettes")
    if configured:
        return (request.config.rootpath / configured).resolve()
    return (request.path.parent / "cassettes").resolve()


@pytest.fixture
def claudewire_replay(request: pytest.FixtureRequest, _claudewire_servers: _Servers, monkeypatch: pytest.MonkeyPatch) -> CassetteServer:
    server = _claudewire_servers.get(_folder(request))
    monkeypatch.setenv("ANTHROPIC_BASE_URL", server.base_url)
    monkeypatch.setenv("ANTHROPIC_API_KEY", "claudewire-cassettes")  # the proxy uses its own upstream key
    return server


def _start(config: pytest.Config, folder: Path, stack: ExitStack) -> CassetteServer:
    from .server.run import ServerThread

    recording = config.getoption("--claudewire-record")
    if recording:
        from .server.proxy.backend import ProxyBackend
        from .server.proxy.options import DEFAULT_UPSTREAM

        upstream = config.getoption("--claudewire-upstream") or DEFAULT_UPSTREAM
        backend: Any = ProxyBackend(upstream=upstream, record=folder)
        if backend.api_key is None and upstream == DEFAULT_UPSTREAM:
            raise pytest.UsageError("recording from the API needs a key in CLAUDEWIRE_UPSTREAM_API_KEY or ANTHROPIC_API_KEY")
    else:
        from .server.cassettes.replay import ReplayBackend

        if not folder.is_dir():
            raise pytest.UsageError(f"no cassette folder at {folder}: record one with pytest --claudewire-record")
        backend = ReplayBackend(cassettes=folder, speed=config.getoption("--claudewire-replay-speed"))
    server = stack.enter_context(ServerThread(backend))
    return CassetteServer(server.base_url, folder, bool(recording))
