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
