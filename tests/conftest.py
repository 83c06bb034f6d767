from __future__ import annotations

import json
from pathlib import Path

import pytest

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
if not SHARED.exists():  # CI: a fresh clone with shared/ beside it
    SHARED = Path(__file__).resolve().parents[2] / "shared"
VECTORS = SHARED / "vectors"


def vector_names() -> list[str]:
    return sorted(p.stem for p in VECTORS.glob("*.sse"))


def load_vector(name: str) -> tuple[bytes, dict]:
    return (VECTORS / f"{name}.sse").read_bytes(), json.loads((VECTORS / f"{name}.expect.json").read_text())


@pytest.fixture(params=vector_names())
def vector(request: pytest.FixtureRequest) -> tuple[str, bytes, dict]:
    body, expect = load_vector(request.param)
    return request.param, body, expect


# --- real servers over loopback -----------------------------------------------------------

import os  # noqa: E402
from collections.abc import Iterator  # noqa: E402

from claudewire.server.backends.scripted import ScriptedBackend  # noqa: E402
from claudewire.server.run import ServerThread  # noqa: E402


@pytest.fixture(scope="session")
def scripted_server() -> Iterator[ServerThread]:
    """The scripted backend with faults on and a short ping interval."""
    with ServerThread(ScriptedBackend(), faults=True, ping_interval=0.3) as server:
        yield server


@pytest.fixture(scope="session")
def local_backend():
    """The real SmolLM2 model. Its absence is a failure, not a skip: CI installs it."""
    from claudewire.server.backends.local import LocalBackend

    # One llama.cpp thread: the tests' clients run in this process too, and on 2 cores a second
    # ggml thread would spin at its barriers against them (the server's default is every core).
    return LocalBackend(n_ctx=int(os.environ.get("CLAUDEWIRE_TEST_N_CTX", "2048")), parallel=8,
                        n_threads=int(os.environ.get("CLAUDEWIRE_TEST_THREADS", "1")))


@pytest.fixture(scope="session")
def local_server(local_backend) -> Iterator[ServerThread]:
    with ServerThread(local_backend, faults=True) as server:
        yield server
