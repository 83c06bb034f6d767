"""The guide's code, unchanged, against the embedded server: with the official SDK, and with
claudewire where only the import differs. Real processes, real HTTP, the real model."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
NAMES = ["sync_streaming.py", "raw_events.py", "async_streaming.py", "complete_streaming_example.py"]


def run(script: Path, server, **env: str) -> subprocess.CompletedProcess:
    environment = {**os.environ, "ANTHROPIC_BASE_URL": server.base_url, "ANTHROPIC_API_KEY": "sk-ant-example", **env}
    return subprocess.run([sys.executable, str(script)], capture_output=True, text=True, env=environment, timeout=120)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("flavour", ["anthropic_sdk", "claudewire"])
def test_guide_examples_run_unchanged(flavour: str, name: str, local_server) -> None:
    script = EXAMPLES / name if flavour == "anthropic_sdk" else EXAMPLES / "claudewire" / name
    done = run(script, local_server)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip()
    if name == "raw_events.py":
        assert "Stop reason: " in done.stdout
    if name == "complete_streaming_example.py":
        assert "Streaming response:" in done.stdout and "---\nStop reason: " in done.stdout
        assert "Input tokens: " in done.stdout and "Output tokens: " in done.stdout


def test_examples_differ_only_in_the_import() -> None:
    for name in NAMES:
        ours = (EXAMPLES / "claudewire" / name).read_text().splitlines()
        theirs = (EXAMPLES / name).read_text().splitlines()
        changed = [(a, b) for a, b in zip(theirs, ours, strict=True) if a != b]
        assert len(changed) == 1 and "claudewire" in changed[0][1]


def test_complete_example_reports_an_api_error(scripted_server) -> None:
    for folder in (EXAMPLES, EXAMPLES / "claudewire"):
        done = run(folder / "complete_streaming_example.py", scripted_server, ANTHROPIC_BASE_URL=scripted_server.base_url + "/nowhere")
        assert done.returncode == 1 and "API error: 404" in done.stdout


# --- the CLI -----------------------------------------------------------------------------------


def cli(*args: str, env: dict[str, str] | None = None, **kwargs) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if k not in ("ANTHROPIC_API_KEY", "ANTHROPIC_BASE_URL")}
    kwargs.setdefault("stdin", subprocess.DEVNULL)  # nothing piped: the prompt is the argument alone
    return subprocess.run([sys.executable, "-m", "claudewire.cli", *args], capture_output=True, text=True,
                          env={**environment, **(env or {})}, timeout=180, **kwargs)


def test_chat_without_a_key_uses_the_embedded_model() -> None:
    done = cli("chat", "Name a color.", "--max-tokens", "20")
    assert done.returncode == 0, done.stderr
    first, closing = done.stderr.strip().splitlines()  # which model answers, then stop reason and tokens
    assert "embedded local model smollm2-135m-instruct" in first and " out tokens" in closing
    assert done.stdout.strip() and "tokens" not in done.stdout


def test_chat_with_a_key_talks_to_that_api(scripted_server) -> None:
    env = {"ANTHROPIC_API_KEY": "sk-ant-x", "ANTHROPIC_BASE_URL": scripted_server.base_url}
    done = cli("chat", "echo these words", "--system", "s", "--temperature", "0.5", env=env)
    assert done.returncode == 0 and done.stdout == "echo these words\n"
    assert done.stderr.splitlines()[0].startswith(f"claudewire: asking claude-sonnet-4-6 at {scripted_server.base_url}")
    assert done.stderr.splitlines()[1].startswith("end_turn · 4 in / 3 out tokens · first token ")
    raw = cli("chat", "a b", "--raw", env=env).stdout
    assert raw.startswith("event: message_start\ndata: {") and raw.endswith("event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n")
    import json

    message = json.loads(cli("chat", "a b", "--json", "--max-tokens", "1", env=env).stdout)
    assert message["content"] == [{"type": "text", "text": "a"}] and message["stop_reason"] == "max_tokens"


def test_chat_errors_are_one_line(scripted_server) -> None:
    env = {"ANTHROPIC_API_KEY": "sk-ant-x", "ANTHROPIC_BASE_URL": scripted_server.base_url}
    done = cli("chat", "x", "--max-tokens", "0", env=env)
    assert done.returncode == 1 and done.stderr.count("\n") == 2 and "claudewire: BadRequestError: max_tokens" in done.stderr
    done = cli("chat", "x", env={"ANTHROPIC_API_KEY": "k", "ANTHROPIC_BASE_URL": "http://127.0.0.1:9"})
    assert done.returncode == 1 and "APIConnectionError" in done.stderr and "Traceback" not in done.stderr


def test_ctrl_c_stops_at_once_and_keeps_the_text(scripted_server) -> None:
    env = {**os.environ, "ANTHROPIC_API_KEY": "sk-ant-x", "ANTHROPIC_BASE_URL": scripted_server.base_url}
    words = " ".join(f"w{i}" for i in range(200))
    env["ANTHROPIC_CUSTOM_HEADERS"] = "x-claudewire-delay-ms: 100"  # slow deltas, so there is time to interrupt
    proc = subprocess.Popen([sys.executable, "-m", "claudewire.cli", "chat", words, "--max-tokens", "500"],
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    time.sleep(2.0)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=10)
    assert proc.returncode == 130 and out.startswith("w0 w1") and "interrupted" in err and "Traceback" not in err


def test_serve_without_the_local_extra_says_what_to_install(tmp_path) -> None:
    # Hide llama_cpp: the one-line hint must name the extra.
    (tmp_path / "llama_cpp.py").write_text("raise ImportError('hidden for this test', name='llama_cpp')\n")
    env = {"PYTHONPATH": os.pathsep.join(filter(None, [str(tmp_path), os.environ.get("PYTHONPATH")]))}
    done = cli("serve", "--backend", "local", "--port", "0", env=env)
    assert done.returncode == 2 and "claudewire[local]" in done.stderr and len(done.stderr.strip().splitlines()) == 1
