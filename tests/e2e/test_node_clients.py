"""Other real clients of the server: the official TypeScript SDK and Vercel's AI SDK (Node).

The packages are pinned in tests/node/package-lock.json and installed with `npm ci` on
first use. Without node and npm on the machine these tests skip, saying why.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

import claudewire

NODE = Path(__file__).resolve().parents[1] / "node"


@pytest.fixture(scope="session")
def node_clients() -> Path:
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.skip("node and npm are not installed")
    if not (NODE / "node_modules" / "@anthropic-ai" / "sdk").exists():
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=NODE, check=True, capture_output=True, timeout=300)
    return NODE


def run(node_clients: Path, script: str, server) -> dict:
    done = subprocess.run(["node", script], cwd=node_clients, capture_output=True, text=True, timeout=120,
                          env={**os.environ, "BASE_URL": server.base_url})
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_typescript_sdk(node_clients, scripted_server) -> None:
    report = run(node_clients, "typescript_sdk.mjs", scripted_server)
    assert report["deltas"] == ["Hello", " from", " TypeScript"]
    assert report["final"]["text"] == "Hello from TypeScript" and report["final"]["stop_reason"] == "end_turn"
    assert report["final"]["usage"]["output_tokens"] == 3
    assert report["tool"]["type"] == "tool_use" and report["tool"]["input"] == {"city": "example"}
    assert report["raw"][0] == "message_start" and report["raw"][-1] == "message_stop"
    listed = claudewire.Anthropic(base_url=scripted_server.base_url, api_key="any").models.list()
    assert report["models"] == [model.id for model in listed]  # auto-paged 5 at a time
    assert report["error"] == {"name": "OverloadedError", "status": 529}
    assert "overloaded" in report["in_band"]["message"].lower()


def test_vercel_ai_sdk(node_clients, scripted_server) -> None:
    report = run(node_clients, "ai_sdk.mjs", scripted_server)
    assert report["errors"] == []
    assert report["stream"]["text"] == "Hello from the AI SDK" and report["stream"]["finish"] == "stop"
    assert report["stream"]["usage"]["inputTokens"] == 5 and report["stream"]["usage"]["outputTokens"] == 5
    assert report["generate"] == {"text": "not streamed", "finish": "stop"}
    assert {"type": "tool-call", "input": {"city": "example"}} in report["parts"]
    assert report["parts"][-1] == {"type": "finish", "reason": "tool-calls"}
