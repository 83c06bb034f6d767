"""One-shot chat as scripts use it: prompts from stdin, stdout for the reply only, errors in one line."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator

import pexpect
import pytest

from claudewire.server.backends.scripted import ScriptedBackend
from claudewire.server.run import ServerThread

from .helpers import COMMAND, environment, run


@pytest.fixture(scope="module")
def server() -> Iterator[ServerThread]:
    with ServerThread(ScriptedBackend(), faults=True) as running:
        yield running


def test_prompts_from_stdin_any_size(server, tmp_path) -> None:
    env = environment(ANTHROPIC_BASE_URL=server.base_url)
    piped = run("chat", "Summarise:", "--max-tokens", "3", env=env, input=b"one two three four")
    assert piped.returncode == 0 and piped.stdout == b"Summarise:\n\none two\n"  # the argument, a blank line, stdin
    dash = run("chat", "-", "-q", env=env, input="é ü 🙂".encode())
    assert dash.returncode == 0 and dash.stdout == "é ü 🙂\n".encode() and dash.stderr == b""
    big = tmp_path / "big.txt"
    big.write_bytes(b"lorem ipsum " * (5 * 1024 * 1024 // 12 + 1))  # 5 MB: argv could not carry it
    with big.open("rb") as stdin:
        done = run("chat", "-", "--max-tokens", "2", env=env, stdin=stdin)
    assert done.returncode == 0 and done.stdout == b"lorem ipsum\n"
    assert "max_tokens · 873814 in / 2 out tokens" in done.stderr.decode()  # every word arrived


def test_stdout_is_the_reply_and_quiet_drops_the_rest(server) -> None:
    env = environment(ANTHROPIC_BASE_URL=server.base_url)
    done = run("chat", "a b c", env=env)
    assert done.stdout == b"a b c\n"
    endpoint, closing = done.stderr.decode().splitlines()
    assert endpoint == f"claudewire: asking claude-sonnet-4-6 at {server.base_url} (ANTHROPIC_BASE_URL, no key)"
    assert closing.startswith("end_turn · 3 in / 3 out tokens · first token ") and "tokens/s" in closing
    quiet = run("chat", "a b c", "--quiet", env=env)
    assert quiet.stdout == b"a b c\n" and quiet.stderr == b""
    models = run("models", "--base-url", server.base_url, env=environment())
    assert models.returncode == 0 and b"claude-sonnet-4-6" in models.stdout and b"claudewire-scripted" in models.stdout


def test_errors_are_one_line_with_the_class(server) -> None:
    env = environment(ANTHROPIC_BASE_URL=server.base_url)
    overloaded = run("chat", "x y z", env={**env, "ANTHROPIC_CUSTOM_HEADERS": "x-claudewire-fault: error_after=1"})
    *_, line = overloaded.stderr.decode().splitlines()
    assert overloaded.stdout == b"x\n"  # what arrived before the in-band error
    assert overloaded.returncode == 1 and line.startswith("claudewire: OverloadedError: Overloaded (status 529, request-id req_")
    refused = run("chat", "x", "--base-url", "http://127.0.0.1:9", "-q", env=environment())
    assert refused.returncode == 1 and refused.stderr.decode() == (
        "claudewire: APIConnectionError: Connection error: ConnectError: [Errno 111] Connection refused (url: http://127.0.0.1:9)\n")
    nothing = run("chat", env=environment())  # stdin is /dev/null: nothing to say
    assert nothing.returncode == 1 and nothing.stderr.count(b"\n") == 1 and b"no prompt" in nothing.stderr


def test_an_early_reader_exit_ends_the_command_at_once(server) -> None:
    env = environment(ANTHROPIC_BASE_URL=server.base_url, ANTHROPIC_CUSTOM_HEADERS="x-claudewire-delay-ms: 20")
    words = " ".join(f"w{i}" for i in range(2000))  # 40 s of reply if nobody stopped it
    started = time.monotonic()
    done = subprocess.run(["bash", "-o", "pipefail", "-c", f"{' '.join(COMMAND)} chat '{words}' --max-tokens 2000 | head -c 100"],
                          capture_output=True, env=env, stdin=subprocess.DEVNULL, timeout=60)
    assert time.monotonic() - started < 20
    assert done.returncode == 0 and len(done.stdout) == 100 and b"Traceback" not in done.stderr


@pytest.mark.local
def test_ctrl_c_during_prompt_processing_ends_at_once(tmp_path) -> None:
    """The embedded model: Ctrl-C while llama.cpp evaluates a long prompt ends the command within 2 s."""
    prompt = tmp_path / "prompt.txt"
    prompt.write_text(" ".join(f"item {i}," for i in range(700)))  # ~4,400 tokens: seconds of prompt processing
    child = pexpect.spawn("bash", ["-c", f"{' '.join(COMMAND)} chat - --no-render < {prompt}"], env=environment(tmp_path),
                          encoding="utf-8", timeout=60)
    child.logfile_read = sys.stdout
    child.expect_exact("waiting for the first token")  # the spinner: the model has the prompt
    child.expect_exact("1s")
    child.sendintr()
    interrupted = time.monotonic()
    child.expect(pexpect.EOF, timeout=10)
    child.close()
    assert time.monotonic() - interrupted < 2.0
    assert child.exitstatus == 130 and "Traceback" not in child.before
