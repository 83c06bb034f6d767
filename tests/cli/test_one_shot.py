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

from .helpers import COMMAND, environment, run, together


@pytest.fixture(scope="module")
def server() -> Iterator[ServerThread]:
    with ServerThread(ScriptedBackend(), faults=True) as running:
        yield running


def test_prompts_from_stdin_any_size(server, tmp_path) -> None:
    env = environment(ANTHROPIC_BASE_URL=server.base_url)
    big = tmp_path / "big.txt"
    big.write_bytes(b"lorem ipsum " * (5 * 1024 * 1024 // 12 + 1))  # 5 MB: argv could not carry it
    with big.open("rb") as stdin:
        piped, dash, done = together(
            lambda: run("chat", "Summarise:", "--max-tokens", "3", env=env, input=b"one two three four"),
            lambda: run("chat", "-", "-q", env=env, input="é ü 🙂".encode()),
            lambda: run("chat", "-", "--max-tokens", "2", env=env, stdin=stdin),
        )
    assert piped.returncode == 0 and piped.stdout == b"Summarise:\n\none two\n"  # the argument, a blank line, stdin
    assert dash.returncode == 0 and dash.stdout == "é ü 🙂\n".encode() and dash.stderr == b""
    assert done.returncode == 0 and done.stdout == b"lorem ipsum\n"
    assert "max_tokens · 873814 in / 2 out tokens" in done.stderr.decode()  # every word arrived


def test_stdout_is_the_reply_and_quiet_drops_the_rest(server) -> None:
    env = environment(ANTHROPIC_BASE_URL=server.base_url)
    done, quiet, models = together(
        lambda: run("chat", "a b c", env=env),
        lambda: run("chat", "a b c", "--quiet", env=env),
        lambda: run("models", "--base-url", server.base_url, env=environment()),
    )
    assert done.stdout == b"a b c\n"
    endpoint, closing = done.stderr.decode().splitlines()
    assert endpoint == f"claudewire: asking claude-sonnet-4-6 at {server.base_url} (ANTHROPIC_BASE_URL, no key)"
    assert closing.startswith("end_turn · 3 in / 3 out tokens · first token ") and "tokens/s" in closing
    assert quiet.stdout == b"a b c\n" and quiet.stderr == b""
    assert models.returncode == 0 and b"claude-sonnet-4-6" in models.stdout and b"claudewire-scripted" in models.stdout


def test_markdown_on_a_terminal_plain_text_in_a_pipe(server) -> None:
    env = environment(ANTHROPIC_BASE_URL=server.base_url)
    child = pexpect.spawn(COMMAND[0], [*COMMAND[1:], "chat", "-q", "# Title with **bold** and `code`"], env=env,
                          encoding="utf-8", timeout=30, dimensions=(24, 100))
    child.expect(pexpect.EOF)
    shown = child.before
    assert "\x1b[1" in shown and "Title" in shown and "**" not in shown and "`" not in shown  # rendered by rich
    piped = run("chat", "-q", "**bold**", env=env)
    assert piped.stdout == b"**bold**\n"


def test_errors_are_one_line_with_the_class(server) -> None:
    env = environment(ANTHROPIC_BASE_URL=server.base_url)
    overloaded, refused, nothing = together(
        lambda: run("chat", "x y z", env={**env, "ANTHROPIC_CUSTOM_HEADERS": "x-claudewire-fault: error_after=1"}),
        lambda: run("chat", "x", "--base-url", "http://127.0.0.1:9", "-q", env=environment()),
        lambda: run("chat", env=environment()),  # stdin is /dev/null: nothing to say
    )
    *_, line = overloaded.stderr.decode().splitlines()
    assert overloaded.stdout == b"x\n"  # what arrived before the in-band error
    assert overloaded.returncode == 1 and line.startswith("claudewire: OverloadedError: Overloaded (status 529, request-id req_")
    assert refused.returncode == 1 and refused.stderr.decode() == (
        "claudewire: APIConnectionError: Connection error: ConnectError: [Errno 111] Connection refused (url: http://127.0.0.1:9)\n")
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
    env = environment(tmp_path, ANTHROPIC_API_KEY="sk-ant-never-used")
    child = pexpect.spawn("bash", ["-c", f"{' '.join(COMMAND)} chat - --local --no-render < {prompt}"], env=env,
                          encoding="utf-8", timeout=60)
    child.logfile_read = sys.stdout
    child.expect_exact("loading the embedded model")
    child.expect_exact("answering with the embedded local model smollm2-135m-instruct (--local)")  # the key is set, yet local
    child.expect_exact("waiting for the first token")  # the spinner: the model has the prompt
    child.expect_exact("1s")
    child.sendintr()
    interrupted = time.monotonic()
    child.expect(pexpect.EOF, timeout=10)
    child.close()
    assert time.monotonic() - interrupted < 2.0
    assert child.exitstatus == 130 and "Traceback" not in child.before


def test_version_and_help_show_defaults_and_environment(capsys: pytest.CaptureFixture[str]) -> None:
    from claudewire import __version__
    from claudewire.cli import main

    for argv, says in [
        (["--version"], [f"claudewire {__version__}"]),
        (["chat", "--help"], ["--max-tokens MAX_TOKENS", "(default: 1024)", "(default: claude-sonnet-4-6)", "[env: ANTHROPIC_BASE_URL]",
                              "ANTHROPIC_API_KEY", "CLAUDEWIRE_DATA_DIR"]),
        (["serve", "--help"], ["(default: 8080)", "(default: 127.0.0.1)", "CLAUDEWIRE_SERVER_API_KEY", "--api-key-file", "exit status"]),
        (["models", "--help"], ["ANTHROPIC_BASE_URL"]),
    ]:
        with pytest.raises(SystemExit) as exited:
            main(argv)
        shown = capsys.readouterr().out
        assert exited.value.code == 0 and all(part in " ".join(shown.split()) for part in says), shown
