"""The interactive chat, driven through a real pseudo-terminal (pexpect), against a real server."""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterator

import pexpect
import pytest
from prometheus_client.parser import text_string_to_metric_families

from claudewire.server.backends.scripted import ScriptedBackend
from claudewire.server.run import ServerThread

from .helpers import COMMAND, environment, run


@pytest.fixture(scope="module")
def server() -> Iterator[ServerThread]:
    with ServerThread(ScriptedBackend(), faults=True) as running:
        yield running


def disconnected_requests(server: ServerThread) -> float:
    import httpx2

    text = httpx2.get(server.base_url + "/metrics").text
    for family in text_string_to_metric_families(text):
        if family.name == "claudewire_requests":
            return sum(s.value for s in family.samples if s.name.endswith("_total") and s.labels["outcome"] == "disconnected")
    return 0.0


def spawn_chat(server: ServerThread, tmp_path, *args: str, delay_ms: int = 0) -> pexpect.spawn:
    env = environment(tmp_path, ANTHROPIC_BASE_URL=server.base_url)
    if delay_ms:
        env["ANTHROPIC_CUSTOM_HEADERS"] = f"x-claudewire-delay-ms: {delay_ms}"
    child = pexpect.spawn(COMMAND[0], [*COMMAND[1:], "chat", "--no-render", *args], env=env, encoding="utf-8",
                          timeout=15, dimensions=(40, 400))
    child.logfile_read = sys.stdout  # shown by pytest only when a test fails
    return child


def test_two_turns_then_ctrl_c_mid_reply_then_a_third_then_ctrl_d(server, tmp_path) -> None:
    child = spawn_chat(server, tmp_path, delay_ms=40)
    child.expect_exact(f"asking claude-sonnet-4-6 at {server.base_url} (ANTHROPIC_BASE_URL, no key)")
    child.expect_exact(">>> ")
    child.sendline("alpha beta")
    child.expect_exact("end_turn · 2 in / 2 out tokens")  # the scripted server echoes the last user turn
    child.expect_exact(">>> ")
    child.sendline("gamma")
    child.expect_exact("end_turn · 5 in / 1 out tokens")  # 2 + 2 + 1 words: the history went with it

    before = disconnected_requests(server)
    child.expect_exact(">>> ")
    child.sendline(" ".join(f"w{i}" for i in range(300)))  # 300 words at 40 ms each: 12 s unless stopped
    child.expect_exact("w299\r\n")  # the terminal's echo of the input
    child.expect_exact("w0 w1 w2 w3 w4 w5 ")  # the reply
    child.sendintr()
    child.expect_exact("interrupted · ")  # the closing line says so, and the prompt comes back
    child.expect_exact(">>> ")
    assert disconnected_requests(server) == before + 1  # the server saw the client leave and stopped

    child.sendline("/usage")
    child.expect(r"3 turns, \d+ input and \d+ output tokens")
    child.expect_exact(">>> ")
    child.sendline("delta")
    # the interrupted reply is in the history: 5 + 1 (gamma) + 300 + k arrived words + 1
    child.expect(r"end_turn · (\d+) in / 1 out tokens")
    arrived = int(child.match.group(1)) - 307
    assert 5 <= arrived < 300
    child.expect_exact(">>> ")
    child.sendeof()
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0 and "Traceback" not in child.before

    saved = list((tmp_path / "conversations").glob("*.json"))
    assert len(saved) == 1
    conversation = json.loads(saved[0].read_text())
    roles = [m["role"] for m in conversation["messages"]]
    assert roles == ["user", "assistant"] * 4
    partial = conversation["messages"][5]["content"]
    assert partial.startswith("w0 w1 w2 w3 w4 w5") and len(partial.split()) == arrived


def test_commands_multi_line_and_ctrl_c_at_the_prompt(server, tmp_path) -> None:
    child = spawn_chat(server, tmp_path, "--system", "be brief")
    child.expect_exact(">>> ")
    child.sendline("/system")
    child.expect_exact("system prompt: 'be brief'")
    child.sendline('"""')
    child.expect_exact("... ")
    child.sendline("first line")
    child.expect_exact("... ")
    child.sendline("second line")
    child.expect_exact("... ")
    child.sendline('"""')
    child.expect_exact("first line\r\nsecond line")  # one message of two lines, echoed back
    child.expect_exact("end_turn · 6 in / 4 out tokens")  # "be brief" counts: the system prompt was sent
    child.sendline("/new")
    child.expect_exact("new conversation")
    child.sendline("/nonsense")
    child.expect_exact("unknown command /nonsense")
    child.sendline("once more")
    child.expect_exact("end_turn · 4 in / 2 out tokens")  # the new conversation has no history
    child.expect_exact(">>> ")
    child.sendintr()  # Ctrl-C at the prompt leaves
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0 and "Traceback" not in child.before

    listed = run("chat", "--list", env=environment(tmp_path))
    lines = listed.stdout.decode().splitlines()
    assert len(lines) == 2 and re.search(r"1 turns  once more$", lines[0]) and "first line second line" in lines[1]


def test_continue_picks_up_the_last_conversation(server, tmp_path) -> None:
    child = spawn_chat(server, tmp_path)
    child.expect_exact(">>> ")
    child.sendline("one two three")
    child.expect_exact("end_turn · 3 in / 3 out tokens")
    child.expect_exact(">>> ")
    child.sendeof()
    child.expect(pexpect.EOF)

    env = environment(tmp_path, ANTHROPIC_BASE_URL=server.base_url)
    done = run("chat", "--continue", "four", env=env)
    assert done.returncode == 0 and done.stdout == b"four\n"
    assert "end_turn · 7 in / 1 out tokens" in done.stderr.decode()  # 3 + 3 + 1: the saved history was sent

    child = spawn_chat(server, tmp_path, "-c")
    child.expect_exact("continuing ")
    child.expect_exact("(4 messages)")
    child.sendline("five")
    child.expect_exact("end_turn · 9 in / 1 out tokens")
    child.sendeof()
    child.expect(pexpect.EOF)
    assert len(list((tmp_path / "conversations").glob("*.json"))) == 1
